# @HEADER@
# Install: copy this file to ~/.config/fish/completions/vcctl.fish, or run
# `vcctl completion fish | source`.

# __vcctl_node PATH: what the command at PATH accepts.
function __vcctl_node
    set -g __vcctl_all_commands
    set -g __vcctl_value_options
    set -g __vcctl_arguments 0
    set -g __vcctl_passthrough 0
    switch "$argv[1]"
        # @NODES@
    end
end

# Walk the words before the cursor: the command path, how many arguments it has, and
# where a command of its own starts (emulator exec). Cached for the current line.
function __vcctl_parse
    set -l line (commandline -pc)
    if set -q __vcctl_parsed_line; and test "$__vcctl_parsed_line" = "$line"
        return 0
    end
    set -g __vcctl_parsed_line $line
    set -l tokens (commandline -opc)
    set -g __vcctl_path ''
    set -g __vcctl_position 0
    set -g __vcctl_command_at 0
    __vcctl_node ''
    set -l after_dashdash 0
    set -l skip 0
    set -l index 1
    for token in $tokens[2..-1]
        set index (math $index + 1)
        if test $skip = 1
            set skip 0
            continue
        end
        if test $after_dashdash = 0
            if test "$token" = --
                if test $__vcctl_passthrough = 1
                    set -g __vcctl_command_at (math $index + 1)
                    return 0
                end
                set after_dashdash 1
                continue
            end
            if string match -qr -- '^-.' $token
                if not string match -q -- '*=*' $token
                    and contains -- $token $__vcctl_value_options
                    set skip 1
                end
                continue
            end
            if contains -- $token $__vcctl_all_commands
                set -g __vcctl_path (string trim -- "$__vcctl_path $token")
                set -g __vcctl_position 0
                __vcctl_node $__vcctl_path
                continue
            end
        end
        if test $__vcctl_passthrough = 1
            set -g __vcctl_command_at $index
            return 0
        end
        set -g __vcctl_position (math $__vcctl_position + 1)
    end
    if test $__vcctl_passthrough = 1; and test $__vcctl_position = 0
        and test $__vcctl_arguments = 1
        and not string match -q -- '-*' (commandline -ct)
        # The word at the cursor is the command to run.
        set -g __vcctl_command_at (math (count $tokens) + 1)
    end
end

# __vcctl_at PATH [N [+]]: the cursor is at the command PATH (and at its Nth argument, or
# a later one with +).
function __vcctl_at
    __vcctl_parse
    test $__vcctl_command_at = 0; and test "$__vcctl_path" = "$argv[1]"; or return 1
    set -q argv[2]; or return 0
    set -l position (math $__vcctl_position + 1)
    test $position = $argv[2]
    or begin; set -q argv[3]; and test $position -gt $argv[2]; end
end

# The cursor is anywhere before a command of its own: where the global options go.
function __vcctl_at_any
    __vcctl_parse
    test $__vcctl_command_at = 0
end

function __vcctl_in_command
    __vcctl_parse
    test $__vcctl_command_at != 0
end

function __vcctl_complete_command
    set -l tokens (commandline -opc)
    if test $__vcctl_command_at -gt (count $tokens)
        __fish_complete_command
        return
    end
    set -l words $tokens[$__vcctl_command_at..-1]
    set -l current (commandline -ct)
    complete -C (string join -- ' ' (string escape -- $words) "$current")
end

# Profile names: the [profiles.NAME] headers of vcctl's config file.
function __vcctl_profiles
    set -l dir
    set -q __vcctl_uname; or set -g __vcctl_uname (uname)
    if test -n "$VCCTL_CONFIG_DIR"
        set dir (string replace -r '^~' -- $HOME $VCCTL_CONFIG_DIR)
    else if test "$__vcctl_uname" = Darwin
        set dir "$HOME/Library/Application Support/vcctl"
    else if test -n "$XDG_CONFIG_HOME"
        set dir $XDG_CONFIG_HOME/vcctl
    else
        set dir $HOME/.config/vcctl
    end
    test -r $dir/config.toml; or return 0
    string replace -rf -- @PROFILE_HEADER@ '$1' <$dir/config.toml | string trim -c '"\''
end

# __vcctl_keys KIND: after @, the references to KIND (room, participant) of vcctl's key index,
# the plain-text file the inventory keeps beside itself (read here: a TAB starts no Python).
function __vcctl_keys
    string match -q -- '@*' (commandline -ct); or return 0
    set -l dir
    set -q __vcctl_uname; or set -g __vcctl_uname (uname)
    if test -n "$VCCTL_DATA_DIR"
        set dir (string replace -r '^~' -- $HOME $VCCTL_DATA_DIR)
    else if test "$__vcctl_uname" = Darwin
        set dir "$HOME/Library/Application Support/vcctl"
    else if test -n "$XDG_DATA_HOME"
        set dir $XDG_DATA_HOME/vcctl
    else
        set dir $HOME/.local/share/vcctl
    end
    test -r $dir/key-index.txt; or return 0
    string replace -rf -- "^$argv[1]\t" '' <$dir/key-index.txt
end

complete -c vcctl -f
# @COMPLETES@
