# @HEADER@
# Install: `source <(vcctl completion bash)` in ~/.bashrc, or copy this file to
# ~/.local/share/bash-completion/completions/vcctl (needs bash-completion for files
# and --opt=value; works without it otherwise).

# __vcctl_node PATH: what the command at PATH accepts.
__vcctl_node() {
    __vcctl_commands="" __vcctl_hidden_commands="" __vcctl_options=""
    __vcctl_value_options="" __vcctl_arguments=0 __vcctl_variadic=0 __vcctl_passthrough=0
    case "$1" in
    # @NODES@
    esac
}

# __vcctl_values PATH OPTION|#N: complete the value of OPTION, or the Nth argument.
__vcctl_values() {
    case "$1 $2" in
    # @VALUES@
    esac
}

# __vcctl_offer WORDS: offer those of WORDS that start with $cur.
__vcctl_offer() {
    local word
    for word in $1; do
        [[ $word == "$cur"* ]] && COMPREPLY+=("$word")
    done
    return 0
}

__vcctl_has() {
    local word=$1 item
    shift
    for item; do
        [[ $item == "$word" ]] && return 0
    done
    return 1
}

__vcctl_files() {
    if declare -F _filedir >/dev/null; then
        _filedir
    else
        compopt -o filenames 2>/dev/null
        local IFS=$'\n'
        # shellcheck disable=SC2207 # one name a line, split at newlines only (IFS)
        COMPREPLY+=($(compgen -f -- "$cur"))
    fi
}

# Profile names: the [profiles.NAME] headers of vcctl's config file.
__vcctl_profiles() {
    local dir line name
    # @CONFIG_DIR@
    [[ -r $dir/config.toml ]] || return 0
    local header=@PROFILE_HEADER@
    while IFS= read -r line || [[ -n $line ]]; do
        [[ $line =~ $header ]] || continue
        name=${BASH_REMATCH[1]}
        name=${name#[\"\']}
        name=${name%[\"\']}
        [[ $name == "$cur"* ]] && COMPREPLY+=("$name")
    done <"$dir/config.toml"
    return 0
}

# __vcctl_keys KIND: after @, the references to KIND (room, participant) of vcctl's key index,
# the plain-text file the inventory keeps beside itself (read here: a TAB starts no Python).
__vcctl_keys() {
    # COMP_WORDS keeps @KEY as one word, although @ is in COMP_WORDBREAKS (the tests check it).
    [[ $cur == @* ]] || return 0
    local dir kind reference
    # @DATA_DIR@
    [[ -r $dir/key-index.txt ]] || return 0
    while IFS=$'\t' read -r kind reference || [[ -n $kind ]]; do
        [[ $kind == "$1" && $reference == "$cur"* ]] && COMPREPLY+=("$reference")
    done <"$dir/key-index.txt"
    return 0
}

# The rest of the line, from word $1 on, is a command of its own: complete it as such.
__vcctl_command_at() {
    if declare -F _command_offset >/dev/null; then
        _command_offset "$1"
    elif (($1 == cword)); then
        local IFS=$'\n'
        # shellcheck disable=SC2207 # one name a line, split at newlines only (IFS)
        COMPREPLY=($(compgen -c -- "$cur"))
    fi
}

_vcctl() {
    local cur prev words cword split=false
    if declare -F _init_completion >/dev/null; then
        _init_completion -s || return
    else
        cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
        words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
    fi
    COMPREPLY=()
    local __vcctl_commands __vcctl_hidden_commands __vcctl_options __vcctl_value_options
    local __vcctl_arguments __vcctl_variadic __vcctl_passthrough
    local path="" position=0 after_dashdash=false value_option="" word i
    __vcctl_node ""
    for ((i = 1; i < cword; i++)); do
        word=${words[i]}
        if ! $after_dashdash; then
            if [[ $word == -- ]]; then
                if ((__vcctl_passthrough)); then
                    __vcctl_command_at $((i + 1))
                    return
                fi
                after_dashdash=true
                continue
            fi
            if [[ $word == -?* ]]; then
                # shellcheck disable=SC2086 # word lists, split on purpose (no glob characters)
                if [[ $word != *=* ]] && __vcctl_has "$word" $__vcctl_value_options; then
                    ((i + 1 == cword)) && value_option=$word
                    i=$((i + 1))
                fi
                continue
            fi
            # shellcheck disable=SC2086 # word lists, split on purpose (no glob characters)
            if __vcctl_has "$word" $__vcctl_commands $__vcctl_hidden_commands; then
                path=${path:+$path }$word position=0
                __vcctl_node "$path"
                continue
            fi
        fi
        if ((__vcctl_passthrough)); then
            __vcctl_command_at "$i"
            return
        fi
        position=$((position + 1))
    done
    # With bash-completion, --opt=value arrives split: prev=--opt, cur=value.
    # shellcheck disable=SC2086 # word lists, split on purpose (no glob characters)
    if $split && __vcctl_has "$prev" $__vcctl_value_options; then
        value_option=$prev
    fi
    if [[ -n $value_option ]]; then
        __vcctl_values "$path" "$value_option"
        return
    fi
    if ! $after_dashdash && [[ $cur == -* ]]; then
        __vcctl_offer "$__vcctl_options"
        return
    fi
    if [[ -n $__vcctl_commands ]]; then
        __vcctl_offer "$__vcctl_commands"
        return
    fi
    if ((__vcctl_passthrough && position + 1 == __vcctl_arguments)); then
        __vcctl_command_at "$cword"
        return
    fi
    if ((position < __vcctl_arguments)); then
        __vcctl_values "$path" "#$((position + 1))"
    elif ((__vcctl_variadic)); then
        __vcctl_values "$path" "#$__vcctl_arguments"
    elif ((__vcctl_arguments == 0)) && [[ -z $cur ]]; then
        # Nothing but options to type here: offer them without waiting for a dash.
        __vcctl_offer "$__vcctl_options"
    fi
}

complete -F _vcctl vcctl
