"""Generate the shell completion scripts and the man pages from the Typer command tree.

    python -m vcctl.gendocs [--check] [OUTDIR]

writes OUTDIR/completions/{vcctl.bash,_vcctl,vcctl.fish} and OUTDIR/man/vcctl*.1 (OUTDIR defaults
to the repository root); with --check it writes nothing and exits 1 when a file differs.

Everything about commands, options and arguments comes from the tree, so the files follow the code.
The completion scripts are static: pressing TAB never starts vcctl or Python. The few values the
tree cannot tell (which plain string is a profile name, a file or an HTTP method) are named in
VALUE_HINTS, and the generator fails if a hint no longer matches a parameter.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from vcctl import __version__

PROG = "vcctl"
SHELLS = ("bash", "zsh", "fish")
COMPLETION_FILES = {"bash": "vcctl.bash", "zsh": "_vcctl", "fish": "vcctl.fish"}
# The date the man pages carry. A fixed value, bumped with the version: a computed date would make
# every regeneration differ from the committed pages.
MAN_DATE = "2026-11-28"
REGENERATE_COMMAND = "python -m vcctl.gendocs"

ValueKind = Literal["none", "choice", "file", "profile", "command"]


@dataclass(frozen=True)
class ValueSpec:
    """Where the completions of an option's value or of an argument come from."""

    kind: ValueKind = "none"
    choices: tuple[str, ...] = ()


NO_VALUES = ValueSpec()
FILE_VALUES = ValueSpec("file")
PROFILE_VALUES = ValueSpec("profile")
COMMAND_VALUES = ValueSpec("command")


def _method_values() -> ValueSpec:
    from vcctl.commands.api_call import METHODS

    return ValueSpec("choice", tuple(METHODS))


# (command path, parameter name) -> values, for plain `str` parameters whose values the tree cannot
# describe. Choices (Enum, Literal), file and path types need no entry.
VALUE_HINTS: dict[tuple[tuple[str, ...], str], Callable[[], ValueSpec]] = {
    ((), "profile"): lambda: PROFILE_VALUES,
    ((), "ca_bundle"): lambda: FILE_VALUES,
    (("auth", "switch"), "name"): lambda: PROFILE_VALUES,
    (("api",), "method"): _method_values,
}


# --------------------------------------------------------------------------------------------
# The model: what the generators need to know about the tree, read once.


@dataclass(frozen=True)
class OptionSpec:
    names: tuple[str, ...]  # short names first: ("-q", "--quiet")
    negations: tuple[str, ...]  # ("--no-video-and-audio",)
    takes_value: bool
    metavar: str  # "" for a flag
    help: str
    values: ValueSpec
    default: str | None
    value_range: str | None
    required: bool
    multiple: bool
    hidden: bool

    @property
    def all_names(self) -> tuple[str, ...]:
        return self.names + self.negations


@dataclass(frozen=True)
class ArgumentSpec:
    metavar: str
    help: str
    values: ValueSpec
    variadic: bool
    required: bool


@dataclass(frozen=True)
class CommandSpec:
    path: tuple[str, ...]  # () for vcctl itself
    help: str
    hidden: bool
    is_group: bool
    options: tuple[OptionSpec, ...]  # its own, --help included; not the inherited globals
    arguments: tuple[ArgumentSpec, ...]
    subcommands: tuple[CommandSpec, ...]

    @property
    def full_name(self) -> str:
        return " ".join((PROG, *self.path))

    @property
    def page_name(self) -> str:
        return "-".join((PROG, *self.path))

    @property
    def key(self) -> str:
        """The path as the completion scripts spell it: words joined by spaces."""
        return " ".join(self.path)

    @property
    def summary(self) -> str:
        first = _paragraphs(self.help)[0] if self.help.strip() else ""
        return first.rstrip(".")

    @property
    def visible_subcommands(self) -> tuple[CommandSpec, ...]:
        return tuple(sub for sub in self.subcommands if not sub.hidden)

    @property
    def passes_command(self) -> bool:
        """Its last argument is a command line to run (emulator exec)."""
        return bool(self.arguments) and self.arguments[-1].values.kind == "command"

    def walk(self) -> Iterator[CommandSpec]:
        yield self
        for sub in self.subcommands:
            yield from sub.walk()


@dataclass(frozen=True)
class Tree:
    root: CommandSpec
    global_options: tuple[OptionSpec, ...]  # accepted anywhere before `--` (see vcctl.cli)
    unused_hints: tuple[tuple[tuple[str, ...], str], ...] = ()  # VALUE_HINTS that match nothing

    def options_at(self, command: CommandSpec) -> tuple[OptionSpec, ...]:
        """Every option accepted at `command`: its own, then the globals it does not redefine."""
        if not command.path:
            return command.options
        own = {name for option in command.options for name in option.all_names}
        return command.options + tuple(
            option for option in self.global_options if not own.intersection(option.all_names)
        )

    def find(self, path: Sequence[str]) -> CommandSpec | None:
        command = self.root
        for word in path:
            found = next((sub for sub in command.subcommands if sub.path[-1] == word), None)
            if found is None:
                return None
            command = found
        return command


def load_tree() -> Tree:
    import typer.main

    from vcctl.app import app
    from vcctl.cli import GLOBAL_OPTIONS

    root_command = typer.main.get_command(app)
    context = typer.Context(root_command, info_name=PROG, **root_command.context_settings)
    used_hints: set[tuple[tuple[str, ...], str]] = set()
    root = _command_spec(root_command, (), context, used_hints)
    global_options = tuple(
        option for option in root.options if set(option.all_names) & set(GLOBAL_OPTIONS)
    )
    return Tree(root, global_options, tuple(sorted(set(VALUE_HINTS) - used_hints)))


def _command_spec(
    command: Any,
    path: tuple[str, ...],
    context: typer.Context,
    used_hints: set[tuple[tuple[str, ...], str]],
) -> CommandSpec:
    options: list[OptionSpec] = []
    arguments: list[ArgumentSpec] = []
    passes_command = bool(
        command.context_settings.get("ignore_unknown_options")
        and command.context_settings.get("allow_interspersed_args") is False
    )
    for param in command.get_params(context):
        values = _values(path, param, used_hints)
        if isinstance(param, TyperOption):
            options.append(_option_spec(param, values))
        elif isinstance(param, TyperArgument):
            variadic = param.nargs == -1
            if passes_command and variadic:
                values = COMMAND_VALUES
            arguments.append(_argument_spec(param, values, variadic))
    subcommands: list[CommandSpec] = []
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            sub_context = typer.Context(sub, parent=context, info_name=name, **sub.context_settings)
            subcommands.append(_command_spec(sub, (*path, name), sub_context, used_hints))
    return CommandSpec(
        path=path,
        help=_clean_help(command.help),
        hidden=bool(command.hidden),
        is_group=isinstance(command, TyperGroup),
        options=tuple(options),
        arguments=tuple(arguments),
        subcommands=tuple(subcommands),
    )


def _values(
    path: tuple[str, ...], param: Any, used_hints: set[tuple[tuple[str, ...], str]]
) -> ValueSpec:
    hint = VALUE_HINTS.get((path, param.name))
    if hint is not None:
        used_hints.add((path, param.name))
        return hint()
    choices, is_path = _value_type(param)
    if choices is not None:
        return ValueSpec("choice", tuple(_choice_text(choice) for choice in choices))
    if is_path or "FILE" in (param.metavar or ""):
        return FILE_VALUES
    return NO_VALUES


def _value_type(param: Any) -> tuple[Sequence[Any] | None, bool]:
    """(choices, takes a path): from typer's type descriptor where it has one, else click's type."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:
        return descriptor.choices, bool(descriptor.is_file or descriptor.is_path)
    param_type = getattr(param, "type", None)
    choices = getattr(param_type, "choices", None)
    return choices, type(param_type).__name__ in ("File", "Path")


def _choice_text(choice: Any) -> str:
    return str(choice.value) if isinstance(choice, Enum) else str(choice)


def _option_spec(param: TyperOption, values: ValueSpec) -> OptionSpec:
    takes_value = not param.is_flag and not param.count
    if not takes_value:
        metavar = ""
    elif param.metavar:
        metavar = param.metavar
    elif values.kind == "choice":
        metavar = "{" + "|".join(values.choices) + "}"
    else:
        metavar = param.name.upper() if param.name else "VALUE"
    return OptionSpec(
        names=_sorted_names(param.opts),
        negations=_sorted_names(param.secondary_opts),
        takes_value=takes_value,
        metavar=metavar,
        help=_clean_help(param.help),
        values=values,
        default=_default_text(param.default) if takes_value else None,
        value_range=_range_text(*_bounds(param)),
        required=bool(param.required),
        multiple=bool(param.multiple),
        hidden=bool(param.hidden),
    )


def _argument_spec(param: TyperArgument, values: ValueSpec, variadic: bool) -> ArgumentSpec:
    metavar = param.metavar or (param.name or "ARG").upper()
    if variadic and not metavar.endswith("..."):
        metavar += "..."
    return ArgumentSpec(
        metavar=metavar,
        help=_clean_help(param.help),
        values=values,
        variadic=variadic,
        required=bool(param.required),
    )


def _sorted_names(names: Sequence[str]) -> tuple[str, ...]:
    # Short names first (as --help lists them). Sorting also fixes the order of the help option's
    # names, which click keeps in a set.
    return tuple(sorted(names, key=lambda name: (name.startswith("--"), name)))


def _default_text(default: Any) -> str | None:
    if default is None or isinstance(default, bool) or callable(default):
        return None
    if isinstance(default, Enum):
        return str(default.value)
    if isinstance(default, list | tuple):
        return " ".join(str(item) for item in default) or None
    return str(default)


def _bounds(param: Any) -> tuple[float | None, float | None]:
    """An option's min/max: on the option in some typer releases, on its click type in others."""
    for holder in (param, getattr(param, "type", None)):
        low, high = getattr(holder, "min", None), getattr(holder, "max", None)
        if low is not None or high is not None:
            return low, high
    return None, None


def _range_text(low: float | None, high: float | None) -> str | None:
    if low is None and high is None:
        return None
    if low is not None and high is not None:
        return f"from {low} to {high}"
    return f"at least {low}" if low is not None else f"at most {high}"


def _clean_help(text: str | None) -> str:
    """Typer help as plain paragraphs: click's \\b no-rewrap markers dropped."""
    if not text:
        return ""
    lines = [line for line in text.strip().splitlines() if line.strip() != "\b"]
    return "\n".join(lines)


def _paragraphs(text: str) -> list[str]:
    blocks = re.split(r"\n\s*\n", text.strip())
    return [" ".join(line.strip() for line in block.splitlines()) for block in blocks if block]


# --------------------------------------------------------------------------------------------
# Completion scripts. The three follow one design: walk the words before the cursor through the
# tree (skipping options and their values, descending into subcommands, counting arguments),
# then offer what fits at the cursor: a value for the option just typed, option names after `-`,
# subcommands in a group, or the values of the next argument. Each script is a template whose
# @MARKERS@ are replaced by what the tree says.

SAFE_WORD = re.compile(r"^[A-Za-z0-9_.:/@%+,=#-]+$")

# A [profiles.NAME] header of config.toml: NAME bare, "quoted" or 'quoted'. POSIX ERE.
PROFILE_HEADER_ERE = (
    r"^[[:space:]]*\[[[:space:]]*profiles[[:space:]]*\.[[:space:]]*"
    r"(\"[^\"]+\"|'[^']+'|[A-Za-z0-9_-]+)[[:space:]]*\]"
)

HEADER = """\
# @SHELL@ completion for vcctl @VERSION@.
# Generated by `@REGENERATE@` from vcctl's command tree: do not edit.
# Pressing TAB never starts vcctl or Python: the script knows the commands, and
# reads profile names from the config file itself.
"""

# bash and zsh: set `dir` to vcctl's config folder, as vcctl.config finds it.
CONFIG_DIR_SH = """\
    if [[ -n ${VCCTL_CONFIG_DIR-} ]]; then
        dir=${VCCTL_CONFIG_DIR/#\\~/$HOME}
    elif [[ $OSTYPE == darwin* ]]; then
        dir="$HOME/Library/Application Support/vcctl"
    else
        dir=${XDG_CONFIG_HOME:-$HOME/.config}/vcctl
    fi"""

BASH_TEMPLATE = """\
@HEADER@\
# Install: `source <(vcctl completion bash)` in ~/.bashrc, or copy this file to
# ~/.local/share/bash-completion/completions/vcctl (needs bash-completion for files
# and --opt=value; works without it otherwise).

# __vcctl_node PATH: what the command at PATH accepts.
__vcctl_node() {
    __vcctl_commands="" __vcctl_hidden_commands="" __vcctl_options=""
    __vcctl_value_options="" __vcctl_arguments=0 __vcctl_variadic=0 __vcctl_passthrough=0
    case "$1" in
@NODES@
    esac
}

# __vcctl_values PATH OPTION|#N: complete the value of OPTION, or the Nth argument.
__vcctl_values() {
    case "$1 $2" in
@VALUES@
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
        local IFS=$'\\n'
        COMPREPLY+=($(compgen -f -- "$cur"))
    fi
}

# Profile names: the [profiles.NAME] headers of vcctl's config file.
__vcctl_profiles() {
    local dir line name
@CONFIG_DIR@
    [[ -r $dir/config.toml ]] || return 0
    local header=@PROFILE_HEADER@
    while IFS= read -r line || [[ -n $line ]]; do
        [[ $line =~ $header ]] || continue
        name=${BASH_REMATCH[1]}
        name=${name#[\\"\\']}
        name=${name%[\\"\\']}
        [[ $name == "$cur"* ]] && COMPREPLY+=("$name")
    done <"$dir/config.toml"
    return 0
}

# The rest of the line, from word $1 on, is a command of its own: complete it as such.
__vcctl_command_at() {
    if declare -F _command_offset >/dev/null; then
        _command_offset "$1"
    elif (($1 == cword)); then
        local IFS=$'\\n'
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
                if [[ $word != *=* ]] && __vcctl_has "$word" $__vcctl_value_options; then
                    ((i + 1 == cword)) && value_option=$word
                    i=$((i + 1))
                fi
                continue
            fi
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
"""

ZSH_TEMPLATE = """\
#compdef vcctl
@HEADER@\
# Install: copy this file as _vcctl into a folder of $fpath (before compinit runs),
# or `source <(vcctl completion zsh)` after compinit in ~/.zshrc.

# __vcctl_node PATH: what the command at PATH accepts.
__vcctl_node() {
    __vcctl_commands=() __vcctl_hidden_commands=() __vcctl_options=()
    __vcctl_value_options=() __vcctl_arguments=0 __vcctl_variadic=0 __vcctl_passthrough=0
    case "$1" in
@NODES@
    esac
}

# __vcctl_values PATH OPTION|#N: complete the value of OPTION, or the Nth argument.
__vcctl_values() {
    case "$1 $2" in
@VALUES@
    (*) return 1 ;;
    esac
}

# Profile names: the [profiles.NAME] headers of vcctl's config file.
__vcctl_profiles() {
    local dir line name
    local -a names
@CONFIG_DIR@
    [[ -r $dir/config.toml ]] || return 1
    local header=@PROFILE_HEADER@
    while IFS= read -r line || [[ -n $line ]]; do
        [[ $line =~ $header ]] || continue
        name=${match[1]}
        name=${name#[\\"\\']}
        name=${name%[\\"\\']}
        names+=($name)
    done <"$dir/config.toml"
    compadd -a names
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
"""

FISH_TEMPLATE = """\
@HEADER@\
# Install: copy this file to ~/.config/fish/completions/vcctl.fish, or run
# `vcctl completion fish | source`.

# __vcctl_node PATH: what the command at PATH accepts.
function __vcctl_node
    set -g __vcctl_all_commands
    set -g __vcctl_value_options
    set -g __vcctl_arguments 0
    set -g __vcctl_passthrough 0
    switch "$argv[1]"
@NODES@
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
    string replace -rf -- @PROFILE_HEADER@ '$1' <$dir/config.toml | string trim -c '"\\''
end

complete -c vcctl -f
@COMPLETES@
"""


def _fill(template: str, shell: str, **parts: str) -> str:
    header = (
        HEADER.replace("@SHELL@", shell)
        .replace("@VERSION@", __version__)
        .replace("@REGENERATE@", REGENERATE_COMMAND)
    )
    text = template.replace("@HEADER@", header)
    for name, value in parts.items():
        text = text.replace(f"@{name.upper()}@", value)
    if re.search(r"@[A-Z_]+@", text):
        raise ValueError(f"unfilled marker in the {shell} template")
    return text


def _checked_words(words: Sequence[str]) -> str:
    for word in words:
        if not SAFE_WORD.match(word):
            raise ValueError(f"{word!r} cannot appear unquoted in a completion script")
    return " ".join(words)


def _single_quoted(text: str) -> str:
    """bash and zsh single quotes."""
    return "'" + text.replace("'", "'\\''") + "'"


def _fish_quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _value_options(tree: Tree, command: CommandSpec) -> list[str]:
    options = tree.options_at(command)
    return [name for option in options if option.takes_value for name in option.all_names]


def _offered_options(tree: Tree, command: CommandSpec) -> list[OptionSpec]:
    return [option for option in tree.options_at(command) if not option.hidden]


def _option_description(option: OptionSpec) -> str:
    return _paragraphs(option.help)[0].rstrip(".") if option.help else ""


def _arguments_line(command: CommandSpec) -> str:
    return (
        f"__vcctl_arguments={len(command.arguments)}"
        f" __vcctl_variadic={int(command.arguments[-1].variadic)}"
        f" __vcctl_passthrough={int(command.passes_command)}"
    )


def _value_sources(tree: Tree) -> list[tuple[list[str], ValueSpec]]:
    """(case patterns, values) for every value the scripts can complete, specific ones first.

    A pattern is "PATH OPTION" or "PATH #N" (the Nth argument), as the scripts build it; the
    global options match at any path. Neighbours with the same values share one case.
    """
    specific: list[tuple[str, ValueSpec]] = []
    for command in tree.root.walk():
        for option in command.options:
            is_global = not command.path and option in tree.global_options
            if option.takes_value and option.values.kind != "none" and not is_global:
                specific += [(f"{command.key} {name}", option.values) for name in option.all_names]
        for index, argument in enumerate(command.arguments, start=1):
            if argument.values.kind not in ("none", "command"):
                specific.append((f"{command.key} #{index}", argument.values))
    merged: list[tuple[list[str], ValueSpec]] = []
    for pattern, values in specific:
        if merged and merged[-1][1] == values:
            merged[-1][0].append(_single_quoted(pattern))
        else:
            merged.append(([_single_quoted(pattern)], values))
    for option in tree.global_options:
        if option.takes_value and option.values.kind != "none":
            merged += [
                ([f"*{_single_quoted(' ' + name)}"], option.values) for name in option.all_names
            ]
    return merged


def render_bash(tree: Tree) -> str:
    nodes: list[str] = []
    for command in tree.root.walk():
        nodes.append(f"    {_single_quoted(command.key)})")
        settings = {
            "commands": [sub.path[-1] for sub in command.visible_subcommands],
            "hidden_commands": [sub.path[-1] for sub in command.subcommands if sub.hidden],
            "options": [
                name for option in _offered_options(tree, command) for name in option.all_names
            ],
            "value_options": _value_options(tree, command),
        }
        nodes += [
            f'        __vcctl_{name}="{_checked_words(words)}"'
            for name, words in settings.items()
            if words
        ]
        if command.arguments:
            nodes.append(f"        {_arguments_line(command)}")
        nodes.append("        ;;")
    values = [
        f"    {'|'.join(patterns)}) {_bash_value_action(spec)} ;;"
        for patterns, spec in _value_sources(tree)
    ]
    return _fill(
        BASH_TEMPLATE,
        "bash",
        nodes="\n".join(nodes),
        values="\n".join(values),
        config_dir=CONFIG_DIR_SH,
        profile_header=_single_quoted(PROFILE_HEADER_ERE),
    )


def _bash_value_action(values: ValueSpec) -> str:
    if values.kind == "choice":
        return f'__vcctl_offer "{_checked_words(values.choices)}"'
    if values.kind == "file":
        return "__vcctl_files"
    if values.kind == "profile":
        return "__vcctl_profiles"
    raise ValueError(f"no completion action for {values}")


def _zsh_described(name: str, description: str) -> str:
    return _single_quoted(name.replace(":", "\\:") + ":" + description)


def render_zsh(tree: Tree) -> str:
    nodes: list[str] = []
    for command in tree.root.walk():
        nodes.append(f"    ({_single_quoted(command.key)})")
        arrays = {
            "commands": [
                _zsh_described(sub.path[-1], sub.summary) for sub in command.visible_subcommands
            ],
            "hidden_commands": [
                _single_quoted(sub.path[-1]) for sub in command.subcommands if sub.hidden
            ],
            "options": [
                _zsh_described(name, _option_description(option))
                for option in _offered_options(tree, command)
                for name in option.all_names
            ],
            "value_options": [_single_quoted(name) for name in _value_options(tree, command)],
        }
        for name, items in arrays.items():
            if items:
                nodes += [
                    f"        __vcctl_{name}=(",
                    *(f"            {item}" for item in items),
                    "        )",
                ]
        if command.arguments:
            nodes.append(f"        {_arguments_line(command)}")
        nodes.append("        ;;")
    values = [
        f"    ({'|'.join(patterns)}) {_zsh_value_action(spec)} ;;"
        for patterns, spec in _value_sources(tree)
    ]
    return _fill(
        ZSH_TEMPLATE,
        "zsh",
        nodes="\n".join(nodes),
        values="\n".join(values),
        config_dir=CONFIG_DIR_SH,
        profile_header=_single_quoted(PROFILE_HEADER_ERE),
    )


def _zsh_value_action(values: ValueSpec) -> str:
    if values.kind == "choice":
        return f"compadd -- {_checked_words(values.choices)}"
    if values.kind == "file":
        return "_files"
    if values.kind == "profile":
        return "__vcctl_profiles"
    raise ValueError(f"no completion action for {values}")


def render_fish(tree: Tree) -> str:
    nodes: list[str] = []
    completes: list[str] = []
    for command in tree.root.walk():
        nodes.append(f"        case {_fish_quoted(command.key)}")
        body = []
        if command.subcommands:
            words = _checked_words([sub.path[-1] for sub in command.subcommands])
            body.append(f"set -g __vcctl_all_commands {words}")
        if _value_options(tree, command):
            words = _checked_words(_value_options(tree, command))
            body.append(f"set -g __vcctl_value_options {words}")
        if command.arguments:
            body.append(f"set -g __vcctl_arguments {len(command.arguments)}")
        if command.passes_command:
            body.append("set -g __vcctl_passthrough 1")
        nodes += [f"            {line}" for line in body or ["return 0"]]
        completes += _fish_completes(tree, command)
    for option in tree.global_options:
        if not option.hidden:
            completes.append(f"complete -c vcctl -n __vcctl_at_any {_fish_option(option)}")
    completes.append("complete -c vcctl -n __vcctl_in_command -xa '(__vcctl_complete_command)'")
    pcre = PROFILE_HEADER_ERE.replace("[[:space:]]", "\\s").replace('\\"', '"') + ".*$"
    return _fill(
        FISH_TEMPLATE,
        "fish",
        nodes="\n".join(nodes),
        completes="\n".join(completes),
        profile_header=_fish_quoted(pcre),
    )


def _fish_completes(tree: Tree, command: CommandSpec) -> list[str]:
    """`complete` lines for what `command` itself offers (the globals come once, at the end)."""
    at = f"__vcctl_at '{_checked_words(command.path)}'"
    lines = [
        f'complete -c vcctl -n "{at}" -a {sub.path[-1]} -d {_fish_quoted(sub.summary)}'
        for sub in command.visible_subcommands
    ]
    for option in command.options:
        if not option.hidden and option not in tree.global_options:
            lines.append(f'complete -c vcctl -n "{at}" {_fish_option(option)}')
    for index, argument in enumerate(command.arguments, start=1):
        condition = f"{at} {index}" + (" +" if argument.variadic else "")
        action = _fish_values(argument.values)
        if action:
            lines.append(f'complete -c vcctl -n "{condition}" {action}')
    return lines


def _fish_option(option: OptionSpec) -> str:
    parts: list[str] = []
    for name in option.all_names:
        if name.startswith("--"):
            parts += ["-l", name[2:]]
        elif len(name) == 2:
            parts += ["-s", name[1:]]
        else:
            parts += ["-o", name[1:]]
    if option.takes_value:
        parts.append(_fish_values(option.values) or "-x")
    description = _option_description(option)
    if description:
        parts += ["-d", _fish_quoted(description)]
    return " ".join(parts)


def _fish_values(values: ValueSpec) -> str:
    if values.kind == "choice":
        return f"-xa {_fish_quoted(_checked_words(values.choices))}"
    if values.kind == "file":
        return "-rF"
    if values.kind == "profile":
        return "-xa '(__vcctl_profiles)'"
    return ""


RENDERERS: dict[str, Callable[[Tree], str]] = {
    "bash": render_bash,
    "zsh": render_zsh,
    "fish": render_fish,
}


def completion_script(shell: str, tree: Tree | None = None) -> str:
    """The completion script for `shell`, exactly as committed in completions/."""
    return RENDERERS[shell](tree or load_tree())


# --------------------------------------------------------------------------------------------
# Man pages (man(7) macros, checked with `mandoc -Tlint`).


@dataclass(frozen=True)
class Example:
    description: str
    line: str  # shell, with one vcctl command line checked against the tree


EXAMPLES: tuple[Example, ...] = (
    Example(
        "Save an API key and token in the default profile (asks for both, hidden):",
        "vcctl auth login",
    ),
    Example(
        "Create a room and keep its id:",
        'ROOM=$(vcctl rooms create --name "Board meeting" --color "#1e90ff" -q)',
    ),
    Example(
        "Create participants from a CSV file, checking it first:",
        'vcctl participants create --from-file attendees.csv --room "$ROOM" --dry-run',
    ),
    Example(
        "Add a participant:",
        'vcctl participants create --room "$ROOM" --username "Grace Hopper" --language en',
    ),
    Example(
        "Show the room and its participants; count them with jq:",
        "vcctl rooms get \"$ROOM\" --json | jq '.participants | length'",
    ),
    Example(
        "Mute everyone, then let one participant speak:", 'vcctl events mute-all --room "$ROOM"'
    ),
    Example(
        "", 'vcctl events activate-video-and-audio --room "$ROOM" --participant "$PARTICIPANT"'
    ),
    Example("Watch the meeting live (Ctrl-C to leave):", 'vcctl rooms watch "$ROOM"'),
    Example(
        "Delete the room from a script, without the question:", 'vcctl rooms delete "$ROOM" --yes'
    ),
    Example("Send a raw request:", "vcctl api GET '/{locale}/api/v1/rooms/'\"$ROOM\""),
    Example("Use another profile for one command:", 'vcctl --profile staging rooms get "$ROOM"'),
    Example(
        "Rehearse against the local emulator, without an account:",
        "vcctl emulator exec -- sh -c 'vcctl rooms create --name Test'",
    ),
    Example("Turn on completion in bash:", "source <(vcctl completion bash)"),
)


def example_command(tree: Tree, example: Example) -> CommandSpec:
    """The command an example runs; ValueError if it uses a command or an option vcctl lacks."""
    segment = re.search(r"\bvcctl\b([^|;)]*)", example.line)
    if segment is None:
        raise ValueError(f"example runs no vcctl command: {example.line}")
    words = iter(shlex.split(segment.group(1)))
    command = tree.root
    for word in words:
        if word == "--":
            break
        if word.startswith("-"):
            options = {
                name: option for option in tree.options_at(command) for name in option.all_names
            }
            option = options.get(word.split("=", 1)[0])
            if option is None:
                raise ValueError(f"example uses an unknown option {word}: {example.line}")
            if option.takes_value and "=" not in word:
                next(words, None)  # its value
            continue
        sub = tree.find((*command.path, word))
        if sub is not None and command.is_group:
            command = sub
    if command.is_group:
        raise ValueError(f"example stops at a group: {example.line}")
    return command


EXIT_STATUS_TEXT: tuple[tuple[str, str], ...] = (
    ("EXIT_OK", "Success."),
    ("EXIT_INTERNAL", "Unexpected internal error (a bug: the message says so)."),
    ("EXIT_USAGE", "Bad usage, invalid input or configuration detected locally: nothing was sent."),
    ("EXIT_BAD_REQUEST", "The API answered 400 Bad Request."),
    (
        "EXIT_UNAUTHORIZED",
        "The API answered 401 Unauthorized, or no usable credentials are configured.",
    ),
    ("EXIT_REQUEST_FAILED", "The API answered 402 Request Failed."),
    ("EXIT_NOT_FOUND", "The API answered 404 Not Found (resource or endpoint)."),
    ("EXIT_RATE_LIMITED", "The API answered 429 Too Many Requests, and retries ran out."),
    (
        "EXIT_SERVER_ERROR",
        "The API answered 5xx, and retries ran out (or the request was not safe to retry).",
    ),
    (
        "EXIT_NETWORK",
        "Network failure: cannot connect, timeout, TLS failure, or a response that is not valid "
        "JSON.",
    ),
    (
        "EXIT_PARTIAL",
        "A batch partly failed: some items succeeded, the others are reported one by one.",
    ),
    (
        "EXIT_INTERRUPTED",
        "Interrupted (Ctrl-C). \\fBvcctl rooms watch\\fR, which Ctrl-C ends normally, exits 0.",
    ),
    (
        "EXIT_BROKEN_PIPE",
        "Standard output was closed early (\\fBvcctl ... | head -c1\\fR); nothing is reported.",
    ),
)

ENVIRONMENT_TEXT: tuple[tuple[str, str], ...] = (
    ("VCCTL_PROFILE", "The profile to use, instead of the file's \\fIactive_profile\\fR."),
    ("VCCTL_API_KEY", "The API key (never a command-line argument)."),
    ("VCCTL_API_TOKEN", "The API token (never a command-line argument)."),
    ("VCCTL_BASE_URL", "The API base URL, as \\fB--base-url\\fR."),
    ("VCCTL_LOCALE", "The locale prefix of API paths, as \\fB--locale\\fR; empty for none."),
    ("VCCTL_TIMEOUT", "Seconds to wait for each answer, as \\fB--timeout\\fR."),
    ("VCCTL_MAX_ATTEMPTS", "Attempts per request, retries included, as \\fB--max-attempts\\fR."),
    ("VCCTL_CA_BUNDLE", "CA bundle file to verify TLS certificates with, as \\fB--ca-bundle\\fR."),
    ("VCCTL_INSECURE_HTTP", "Set to 1 or true to allow plain http to a host that is not loopback."),
    ("VCCTL_DEBUG", "Set to 1 to log HTTP traffic to standard error (secrets masked)."),
    ("VCCTL_CONFIG_DIR", "The folder of \\fIconfig.toml\\fR, instead of the default (see FILES)."),
    (
        "VCCTL_EMULATOR_PID",
        "The emulator \\fBvcctl emulator stop\\fR ends (set by \\fBstart --detach\\fR's output).",
    ),
    (
        "NO_COLOR",
        "When set, human output is plain text with no colour or escape codes, even on a terminal.",
    ),
)


def _roff(text: str) -> str:
    """Text for a roff text line: backslashes and hyphens escaped (keeps our \\f font codes)."""
    text = re.sub(r"\\(?!f[BIRP])", r"\\e", text)
    return text.replace("-", "\\-")


def _roff_line(text: str, *, width: int = 79) -> str:
    """Escaped text, wrapped at spaces (roff fills it again); no line starts a request."""
    import textwrap

    lines = textwrap.wrap(
        _roff(text), width=width, break_long_words=False, break_on_hyphens=False
    ) or [""]
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line for line in lines)


def _bold(text: str) -> str:
    return f"\\fB{text}\\fR"


def _italic(text: str) -> str:
    return f"\\fI{text}\\fR"


def _page_ref(name: str) -> str:
    return f"{_bold(name)}(1)"


def _description_lines(text: str) -> list[str]:
    lines: list[str] = []
    for index, paragraph in enumerate(_paragraphs(text)):
        if index:
            lines.append(".PP")
        lines.append(_roff_line(paragraph))
    return lines


def _option_item(option: OptionSpec) -> list[str]:
    names = ", ".join(_bold(name) for name in option.all_names)
    if option.takes_value:
        names += " " + _italic(option.metavar)
    notes = []
    if option.required:
        notes.append("Required.")
    if option.multiple:
        notes.append("May be given more than once.")
    if option.values.kind == "choice" and not option.metavar.startswith("{"):
        notes.append(_choices_note(option.values, option.help))
    if option.value_range:
        notes.append(f"A number {option.value_range}.")
    if option.default is not None:
        notes.append(f"Default: {option.default}.")
    text = " ".join(filter(None, [_paragraphs(option.help)[0] if option.help else "", *notes]))
    more = _paragraphs(option.help)[1:] if option.help else []
    lines = [".TP", _roff_line(names), _roff_line(text)]
    for paragraph in more:
        lines += [".IP", _roff_line(paragraph)]
    return lines


def _choices_note(values: ValueSpec, help_text: str) -> str:
    if all(re.search(rf"\b{re.escape(choice)}\b", help_text) for choice in values.choices):
        return ""  # the help already names them
    return "One of: " + ", ".join(values.choices) + "."


def _argument_item(argument: ArgumentSpec) -> list[str]:
    text = argument.help
    if argument.values.kind == "choice":
        text += " " + _choices_note(argument.values, argument.help)
    return [".TP", _roff_line(_italic(argument.metavar)), _roff_line(text.strip())]


def _synopsis(tree: Tree, command: CommandSpec) -> str:
    parts = [_bold(command.full_name)]
    if not command.path:
        parts.append(f"[{_italic('GLOBAL OPTIONS')}]")
    if command.is_group:
        parts.append(f"{_italic('COMMAND')} [{_italic('ARGS')}]...")
        return " ".join(parts)
    parts.append(f"[{_italic('OPTIONS')}]")
    for option in command.options:
        if option.required:
            parts.append(f"{_bold(option.names[-1])} {_italic(option.metavar)}")
    for argument in command.arguments:
        shown = _italic(argument.metavar)
        parts.append(shown if argument.required else f"[{shown}]")
    return " ".join(parts)


def _title(command: CommandSpec) -> list[str]:
    return [
        f'.TH {command.page_name.upper()} 1 "{MAN_DATE}" "vcctl {__version__}" "vcctl manual"',
        # No hyphenation, ragged right: command and page names must survive a line break.
        ".nh",
        ".ad l",
        ".SH NAME",
        # One line: whatis and apropos read the NAME section line by line.
        _roff_line(f"{command.page_name} - {command.summary or command.full_name}", width=1000),
    ]


def _examples_section(tree: Tree, path: tuple[str, ...]) -> list[str]:
    lines: list[str] = []
    for example in EXAMPLES:
        if example_command(tree, example).path[: len(path)] != path:
            continue
        if example.description:
            lines += [".PP", _roff_line(example.description)]
        lines += [".PP", ".RS 4", ".EX", _roff(example.line), ".EE", ".RE"]
    # The section heading already starts a paragraph.
    return [".SH EXAMPLES", *lines[1:]] if lines else []


def _options_section(title: str, options: Sequence[OptionSpec]) -> list[str]:
    shown = [option for option in options if not option.hidden]
    if not shown:
        return []
    return [f".SH {title}", *(line for option in shown for line in _option_item(option))]


def _options_sections(tree: Tree, command: CommandSpec) -> list[str]:
    """OPTIONS (the command's own), then GLOBAL OPTIONS (accepted by every command)."""
    if command.path:
        own = command.options
        inherited = [option for option in tree.options_at(command) if option not in own]
    else:
        own = tuple(option for option in command.options if option not in tree.global_options)
        inherited = list(tree.global_options)
    lines = _options_section("OPTIONS", own) + _options_section("GLOBAL OPTIONS", inherited)
    if inherited:
        where = (
            ""
            if not command.path
            else (f" See {_page_ref(PROG)} for their environment variables and the config file.")
        )
        lines += [
            ".PP",
            _roff_line(
                f"Global options are accepted anywhere on the command line before {_bold('--')}."
                + where
            ),
        ]
    return lines


def render_command_page(tree: Tree, command: CommandSpec) -> str:
    lines = [*_title(command), ".SH SYNOPSIS", _roff_line(_synopsis(tree, command))]
    lines += [".SH DESCRIPTION", *_description_lines(command.help or command.full_name)]
    if command.is_group:
        lines.append(".SH COMMANDS")
        for sub in command.visible_subcommands:
            lines += [
                ".TP",
                _roff_line(_bold(sub.full_name)),
                _roff_line(f"{sub.summary}. See {_page_ref(sub.page_name)}."),
            ]
    if command.arguments:
        lines.append(".SH ARGUMENTS")
        for argument in command.arguments:
            lines += _argument_item(argument)
    lines += _options_sections(tree, command)
    lines += _examples_section(tree, command.path)
    related = (
        [PROG]
        + ["-".join((PROG, *command.path[:depth])) for depth in range(1, len(command.path))]
        + [sub.page_name for sub in command.visible_subcommands]
    )
    lines += [".SH SEE ALSO", _roff_line(", ".join(_page_ref(name) for name in related))]
    return "\n".join(lines) + "\n"


def render_main_page(tree: Tree) -> str:
    from vcctl import errors

    root = tree.root
    lines = [*_title(root), ".SH SYNOPSIS", _roff_line(_synopsis(tree, root))]
    lines += [".SH DESCRIPTION", *_description_lines(root.help)]
    lines += [
        ".PP",
        _roff_line(
            "Settings come from, highest first: command-line flags, VCCTL_* environment "
            "variables, the active profile of the config file, then built-in defaults. Standard "
            "output carries only results; prompts, progress, warnings and errors go to standard "
            "error. "
            f"{_bold('--json')} prints the API's JSON as received."
        ),
    ]
    lines.append(".SH COMMANDS")
    for command in root.walk():
        if command.path and not command.hidden and not command.is_group:
            lines += [
                ".TP",
                _roff_line(_bold(command.full_name)),
                _roff_line(f"{command.summary}. See {_page_ref(command.page_name)}."),
            ]
    lines += _options_sections(tree, root)
    lines.append(".SH EXIT STATUS")
    for constant, text in EXIT_STATUS_TEXT:
        lines += [".TP", _bold(str(getattr(errors, constant))), _roff_line(text)]
    lines.append(".SH ENVIRONMENT")
    for name, text in ENVIRONMENT_TEXT:
        lines += [".TP", _roff_line(_bold(name)), _roff_line(text)]
    lines += [
        ".SH FILES",
        ".TP",
        _roff_line(_italic("$VCCTL_CONFIG_DIR/config.toml")),
        _roff_line(
            "The profiles: TOML with a top-level active_profile and one [profiles.NAME] table "
            "per profile (api_key, api_token, base_url, locale, timeout, max_attempts). "
            f"Written by {_bold('vcctl auth login')} atomically, mode 0600 in a 0700 folder; "
            "a file that does not parse is reported and never overwritten. When "
            "VCCTL_CONFIG_DIR is unset the folder is:"
        ),
        ".TP",
        _roff_line(_italic("${XDG_CONFIG_HOME:-~/.config}/vcctl/config.toml")),
        _roff_line("on Linux and other Unix systems;"),
        ".TP",
        _roff_line(_italic("~/Library/Application Support/vcctl/config.toml")),
        _roff_line("on macOS."),
        ".TP",
        _roff_line(_italic("completions/vcctl.bash, completions/_vcctl, completions/vcctl.fish")),
        _roff_line(
            "Completion scripts for bash, zsh and fish, also printed by "
            f"{_bold('vcctl completion')} {_italic('SHELL')}. They read the profile names "
            "from the config file above without starting vcctl."
        ),
    ]
    lines += _examples_section(tree, ())
    pages = [command.page_name for command in root.walk() if command.path and not command.hidden]
    lines += [".SH SEE ALSO", _roff_line(", ".join(_page_ref(name) for name in pages))]
    return "\n".join(lines) + "\n"


def man_pages(tree: Tree) -> dict[str, str]:
    """File name -> roff, one page per visible command and group, vcctl.1 first."""
    pages = {f"{PROG}.1": render_main_page(tree)}
    for command in tree.root.walk():
        if command.path and not _is_hidden(tree, command):
            pages[f"{command.page_name}.1"] = render_command_page(tree, command)
    return pages


def _is_hidden(tree: Tree, command: CommandSpec) -> bool:
    return any(
        found is not None and found.hidden
        for found in (tree.find(command.path[:depth]) for depth in range(1, len(command.path) + 1))
    )


# --------------------------------------------------------------------------------------------
# Writing and checking.


def generated_files(tree: Tree | None = None) -> dict[str, str]:
    """Relative path -> content of every generated file."""
    tree = tree or load_tree()
    if tree.unused_hints:
        # Checked here, where the files are made, so that `vcctl completion` itself never fails.
        raise ValueError(f"VALUE_HINTS name parameters the command tree lacks: {tree.unused_hints}")
    files = {f"completions/{COMPLETION_FILES[shell]}": RENDERERS[shell](tree) for shell in SHELLS}
    files.update({f"man/{name}": text for name, text in man_pages(tree).items()})
    return files


def _stale_generated(outdir: Path, files: dict[str, str]) -> list[str]:
    """Generated-looking files under OUTDIR that the tree no longer produces."""
    existing = {str(path.relative_to(outdir)) for path in (outdir / "man").glob(f"{PROG}*.1")}
    return sorted(existing - set(files))


def differences(outdir: Path, files: dict[str, str]) -> list[str]:
    problems = []
    for relative, text in files.items():
        path = outdir / relative
        if not path.exists():
            problems.append(f"missing: {relative}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"out of date: {relative}")
    problems += [f"no longer generated: {relative}" for relative in _stale_generated(outdir, files)]
    return problems


def write(outdir: Path, files: dict[str, str]) -> list[str]:
    """Write what changed and remove pages of commands that are gone; returns what changed."""
    changed = differences(outdir, files)
    for relative, text in files.items():
        path = outdir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8", newline="\n")
    for relative in _stale_generated(outdir, files):
        (outdir / relative).unlink()
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m vcctl.gendocs",
        description="Generate vcctl's completion scripts and man pages from the command tree.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a generated file is missing or differs",
    )
    parser.add_argument(
        "outdir",
        nargs="?",
        type=Path,
        default=Path(__file__).parent.parent,
        help="where completions/ and man/ go (default: the repository root)",
    )
    args = parser.parse_args(argv)
    files = generated_files()
    if args.check:
        problems = differences(args.outdir, files)
        for problem in problems:
            sys.stderr.write(f"gendocs: {problem}\n")
        if problems:
            sys.stderr.write(f"gendocs: run `{REGENERATE_COMMAND}` and commit the result\n")
            return 1
        return 0
    for change in write(args.outdir, files):
        sys.stderr.write(f"gendocs: {change.split(': ', 1)[1]} updated\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
