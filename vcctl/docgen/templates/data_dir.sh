    if [[ -n ${VCCTL_DATA_DIR-} ]]; then
        dir=${VCCTL_DATA_DIR/#\~/$HOME}
    elif [[ $OSTYPE == darwin* ]]; then
        dir="$HOME/Library/Application Support/vcctl"
    else
        dir=${XDG_DATA_HOME:-$HOME/.local/share}/vcctl
    fi