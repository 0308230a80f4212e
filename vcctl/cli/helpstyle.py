"""How `--help` reads: one metavar style, no type names, and where the global options are.

typer's help shows a parameter's type (`<str>`, `<int range>`) beside options without a metavar,
and writes a required argument as `{ROOM_ID...}` in the usage line but `{room_id}` for one
without a metavar. `tidy` goes over each command once, as it is loaded (`vcctl.cli.lazy`), so
that every value is shown as an upper-case name (`ROOM_ID`, `NAME`, the same names the man pages
use), a variadic argument ends in `...`, every subcommand's help ends by pointing at the global
options, and help texts read as whole sentences: typer's rich help keeps the line breaks of a
docstring, so a paragraph wrapped at 100 columns in the source would break mid-sentence on any
other width. Only typer is imported here.
"""

from __future__ import annotations

import re
from typing import Any

from typer.core import TyperArgument, TyperOption

GLOBAL_OPTIONS_LINE = "Global options (--profile, --base-url, --debug, ...): see 'vcctl --help'."


class _Argument(TyperArgument):
    """An argument shown by its metavar alone: `ROOM_ID...` in usage, `[NAME]` when optional."""

    def make_metavar(self, ctx: Any, *, usage: bool = False) -> str:
        shown = argument_metavar(self)
        return shown if self.required or not usage else f"[{shown}]"


class _Untyped:
    """Wraps a parameter type whose help name is noise (`<str>`): shows nothing instead."""

    def __init__(self, wrapped: Any) -> None:
        self._wrapped = wrapped

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._wrapped(*args, **kwargs)

    def get_metavar(self, param: Any, ctx: Any) -> str:
        return ""


def argument_metavar(param: Any) -> str:
    """`ROOM_ID...` for a variadic room_id argument (the man pages use the same rule)."""
    shown = str(param.metavar or (param.name or "ARG").upper())
    if param.nargs == -1 and not shown.endswith("..."):
        shown += "..."
    return shown


def _tidy_argument(param: Any) -> None:
    param.metavar = argument_metavar(param)
    param.__class__ = _Argument
    if param.type.get_metavar(param=param, ctx=None) is None:  # not a choice
        param.type = _Untyped(param.type)


def _tidy_option(param: Any) -> None:
    if param.metavar is None and param.type.get_metavar(param=param, ctx=None) is None:
        param.metavar = (param.name or "VALUE").upper()  # a choice shows its values instead
    if hasattr(param.type, "_describe_range"):
        # The range goes into the help text, which wraps, rather than into the metavar column,
        # which does not: at 80 columns a wide one squeezes option names into "--no-video-and…".
        param.help = f"{param.help or ''} ({_describe_range(param.type)})".strip()
        param.type = _Untyped(param.type)


def _describe_range(number_range: Any) -> str:
    low, high = number_range.min, number_range.max
    if low is not None and high is not None:
        return f"{low} to {high}"
    return f"at least {low}" if low is not None else f"at most {high}"


def whole_sentences(text: str | None) -> str | None:
    """Each paragraph on one line (the terminal wraps it); a click `\\b` block stays as written."""
    if not text:
        return text
    paragraphs = []
    for block in re.split(r"\n[ \t]*\n", text.strip()):
        lines = [line.strip() for line in block.strip("\n").splitlines()]
        if lines and lines[0] == "\b":
            paragraphs.append(block.strip("\n"))
        else:
            paragraphs.append(" ".join(line for line in lines if line))
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


def tidy(command: Any, *, root: bool = True) -> None:
    """Give every parameter of `command` a metavar and drop type names; a subcommand's help
    ends with where to find the global options. (Its own subcommands are tidied as they load.)"""
    command.help = whole_sentences(command.help)
    for param in command.params:
        param.help = whole_sentences(getattr(param, "help", None))
        if isinstance(param, TyperArgument):
            _tidy_argument(param)
        elif isinstance(param, TyperOption) and not param.is_flag:
            _tidy_option(param)
    if not root:
        epilog = command.epilog or ""
        if GLOBAL_OPTIONS_LINE not in epilog:
            command.epilog = f"{epilog}\n\n{GLOBAL_OPTIONS_LINE}" if epilog else GLOBAL_OPTIONS_LINE
