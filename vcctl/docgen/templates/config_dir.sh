    if [[ -n ${VCCTL_CONFIG_DIR-} ]]; then
        dir=${VCCTL_CONFIG_DIR/#\~/$HOME}
    elif [[ $OSTYPE == darwin* ]]; then
        dir="$HOME/Library/Application Support/vcctl"
    else
        dir=${XDG_CONFIG_HOME:-$HOME/.config}/vcctl
    fi