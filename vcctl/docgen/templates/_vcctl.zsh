#compdef vcctl
# @HEADER@
# Install: copy this file as _vcctl into a folder of $fpath (before compinit runs),
# or `source <(vcctl completion zsh)` after compinit in ~/.zshrc.

# __vcctl_node PATH: what the command at PATH accepts.
__vcctl_node() {
    __vcctl_commands=() __vcctl_hidden_commands=() __vcctl_options=()
    __vcctl_value_options=() __vcctl_arguments=0 __vcctl_variadic=0 __vcctl_passthrough=0
    case "$1" in
    # @NODES@
    esac
}

# __vcctl_values PATH OPTION|#N: complete the value of OPTION, or the Nth argument.
__vcctl_values() {
    case "$1 $2" in
    # @VALUES@
    (*) return 1 ;;
    esac
}

# Profile names: the [profiles.NAME] headers of vcctl's config file.
__vcctl_profiles() {
    local dir line name
    local -a names
    # @CONFIG_DIR@
    [[ -r $dir/config.toml ]] || return 1
    local header=@PROFILE_HEADER@
    while IFS= read -r line || [[ -n $line ]]; do
        [[ $line =~ $header ]] || continue
        name=${match[1]}
        name=${name#[\"\']}
        name=${name%[\"\']}
        names+=($name)
    done <"$dir/config.toml"
    compadd -a names
}

# __vcctl_keys KIND: after @, the references to KIND (room, participant) of vcctl's key index,
# the plain-text file the inventory keeps beside itself (read here: a TAB starts no Python).
__vcctl_keys() {
    [[ $PREFIX == @* ]] || return 1
    local dir kind reference
    local -a references
    # @DATA_DIR@
    [[ -r $dir/key-index.txt ]] || return 1
    while IFS=$'\t' read -r kind reference || [[ -n $kind ]]; do
        [[ $kind == $1 ]] && references+=($reference)
    done <"$dir/key-index.txt"
    compadd -a references
}

# The rest of the line, from word $1 on, is a command of its own: complete it as such.
__vcctl_command_at() {
    words=("${(@)words[$1,-1]}")
    (( CURRENT = CURRENT - $1 + 1 ))
    _normal
}

_vcctl() {
    emulate -L zsh
    setopt extended_glob
    local -a __vcctl_commands __vcctl_hidden_commands __vcctl_options __vcctl_value_options
    local __vcctl_arguments __vcctl_variadic __vcctl_passthrough
    local cur=${words[CURRENT]} node='' position=0 after_dashdash=0 value_option='' word i
    local -a names
    __vcctl_node ''
    for ((i = 2; i < CURRENT; i++)); do
        word=${words[i]}
        if (( ! after_dashdash )); then
            if [[ $word == -- ]]; then
                if (( __vcctl_passthrough )); then
                    __vcctl_command_at $((i + 1))
                    return
                fi
                after_dashdash=1
                continue
            fi
            if [[ $word == -?* ]]; then
                if [[ $word != *=* ]] && (( ${__vcctl_value_options[(Ie)$word]} )); then
                    (( i + 1 == CURRENT )) && value_option=$word
                    (( i += 1 ))
                fi
                continue
            fi
            names=(${(@)__vcctl_commands%%:*} $__vcctl_hidden_commands)
            if (( ${names[(Ie)$word]} )); then
                node=${node:+$node }$word
                position=0
                __vcctl_node "$node"
                continue
            fi
        fi
        if (( __vcctl_passthrough )); then
            __vcctl_command_at $i
            return
        fi
        (( position += 1 ))
    done
    if [[ -z $value_option && $cur == --*=* ]] && (( ! after_dashdash )); then
        value_option=${cur%%=*}
        if (( ${__vcctl_value_options[(Ie)$value_option]} )); then
            compset -P '*='
        else
            value_option=''
        fi
    fi
    if [[ -n $value_option ]]; then
        __vcctl_values "$node" "$value_option"
        return
    fi
    if (( ! after_dashdash )) && [[ $cur == -* ]]; then
        _describe -t options 'option' __vcctl_options
        return
    fi
    if (( $#__vcctl_commands )); then
        _describe -t commands 'command' __vcctl_commands
        return
    fi
    if (( __vcctl_passthrough && position + 1 == __vcctl_arguments )); then
        __vcctl_command_at $CURRENT
        return
    fi
    if (( position < __vcctl_arguments )); then
        __vcctl_values "$node" "#$((position + 1))"
    elif (( __vcctl_variadic )); then
        __vcctl_values "$node" "#$__vcctl_arguments"
    elif (( __vcctl_arguments == 0 )) && [[ -z $cur ]]; then
        # Nothing but options to type here: offer them without waiting for a dash.
        _describe -t options 'option' __vcctl_options
    fi
}

# Autoloaded from $fpath, this file is the body of _vcctl: run it; sourced, register it.
if [[ ${funcstack[1]-} == _vcctl ]]; then
    _vcctl "$@"
else
    compdef _vcctl vcctl
fi
