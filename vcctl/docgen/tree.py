"""The command tree as the generators see it: commands, options, arguments, values, examples.

`load_tree()` reads vcctl's command tree, every command loaded, once into frozen dataclasses;
the completion and man page renderers work from that model only. The few values the tree cannot
tell (which plain string is a profile name, a file or an HTTP method) are named in VALUE_HINTS,
and generating the files fails if a hint no longer matches a parameter.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from vcctl.cli.app import full_tree
from vcctl.cli.commands.api_call import METHODS
from vcctl.cli.examples import Example, parse_examples
from vcctl.cli.global_options import GLOBAL_OPTIONS
from vcctl.cli.sections import Section

PROG = "vcctl"

ValueKind = Literal["none", "choice", "file", "profile", "command", "room", "participant"]


@dataclass(frozen=True)
class ValueSpec:
    """Where the completions of an option's value or of an argument come from."""

    kind: ValueKind = "none"
    choices: tuple[str, ...] = ()


NO_VALUES = ValueSpec()
FILE_VALUES = ValueSpec("file")
PROFILE_VALUES = ValueSpec("profile")
COMMAND_VALUES = ValueSpec("command")
# An id of this kind: the scripts offer the `@KEY` references of the key index after `@`.
REFERENCE_VALUES = {"ROOM_ID": ValueSpec("room"), "PARTICIPANT_ID": ValueSpec("participant")}


def _method_values() -> ValueSpec:
    return ValueSpec("choice", tuple(METHODS))


# (command path, parameter name) -> values, for plain `str` parameters whose values the tree cannot
# describe. Choices (Enum, Literal), file and path types need no entry.
VALUE_HINTS: dict[tuple[tuple[str, ...], str], Callable[[], ValueSpec]] = {
    ((), "profile"): lambda: PROFILE_VALUES,
    ((), "ca_bundle"): lambda: FILE_VALUES,
    (("auth", "switch"), "name"): lambda: PROFILE_VALUES,
    (("api",), "method"): _method_values,
}


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
    examples: tuple[Example, ...] = ()  # declared beside the command, as its --help epilog
    sections: tuple[Section, ...] = ()  # headed parts of its help (vcctl.cli.sections)

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
        first = paragraphs(self.help)[0] if self.help.strip() else ""
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
    global_options: tuple[OptionSpec, ...]  # accepted anywhere before `--` (see vcctl.cli.main)
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
    root_command = full_tree()
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
    # A sectioned command's sections are man page sections of their own, not DESCRIPTION text.
    sections: tuple[Section, ...] = getattr(command, "sections", ())
    return CommandSpec(
        path=path,
        help=_clean_help(command.own_help if sections else command.help),
        hidden=bool(command.hidden),
        is_group=isinstance(command, TyperGroup),
        options=tuple(options),
        arguments=tuple(arguments),
        subcommands=tuple(subcommands),
        examples=parse_examples(command.epilog),
        sections=sections,
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
    return REFERENCE_VALUES.get((param.metavar or "").removesuffix("..."), NO_VALUES)


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


def paragraphs(text: str) -> list[str]:
    blocks = re.split(r"\n\s*\n", text.strip())
    return [" ".join(line.strip() for line in block.splitlines()) for block in blocks if block]


def logical_lines(lines: Sequence[str]) -> list[str]:
    """Shell lines with their continuations joined: a line ending in a backslash or a pipe goes
    on on the next one (long examples are split so that they fit 80 columns)."""
    joined: list[str] = []
    pending = ""
    for line in lines:
        text = f"{pending} {line.strip()}" if pending else line
        if text.endswith("\\"):
            pending = text[:-1].rstrip()
        elif text.endswith("|"):
            pending = text
        else:
            joined.append(text)
            pending = ""
    if pending:
        joined.append(pending)
    return joined


def example_commands(tree: Tree, example: Example) -> list[CommandSpec]:
    """The commands an example runs, one per `vcctl` in its lines; ValueError if one uses a
    command or an option vcctl lacks."""
    found: list[CommandSpec] = []
    for line in logical_lines(example.lines):
        for segment in re.findall(r"\bvcctl\b([^|;)]*)", line):
            found.append(_example_command(tree, segment, line))
    if not found:
        raise ValueError(f"example runs no vcctl command: {example.lines}")
    return found


def _example_command(tree: Tree, segment: str, line: str) -> CommandSpec:
    words = iter(shlex.split(segment))
    command = tree.root
    for word in words:
        if word == "--":
            break
        if word.startswith("-") and word != "-":  # "-" alone: standard input
            options = {
                name: option for option in tree.options_at(command) for name in option.all_names
            }
            option = options.get(word.split("=", 1)[0])
            if option is None:
                raise ValueError(f"example uses an unknown option {word}: {line}")
            if option.takes_value and "=" not in word:
                next(words, None)  # its value
            continue
        sub = tree.find((*command.path, word))
        if sub is not None and command.is_group:
            command = sub
    if command.is_group:
        raise ValueError(f"example stops at a group: {line}")
    return command
