"""Examples declared beside their commands: one text for `--help` and for the man pages.

A command passes `epilog=examples(...)` to its decorator. The epilog is what `--help` prints
after the options; the man page generator reads the same epilog back with `parse_examples`.
Only the standard library is used here: every command module imports it at start-up.
"""

from __future__ import annotations

import re
from typing import NamedTuple

HEADING = "Examples:"
# Indentation of the command lines under their description, in --help.
INDENT = "  "
# What typer's help would read as a rich markup tag, such as [bold] (rich's own pattern).
MARKUP_TAG = re.compile(r"\[[a-z#/@][^[]*?]")


class Example(NamedTuple):
    """What an example shows (one sentence ending in a colon), then the shell lines to type."""

    description: str
    lines: tuple[str, ...]


def examples(*items: tuple[str, ...]) -> str:
    """The epilog listing examples, each (description, shell line, more shell lines...).

    The description lines start at column 0, so typer's dedent keeps the command indentation.
    """
    blocks = [HEADING]
    for description, *lines in items:
        if not description.endswith(":") or "\n" in description or not lines:
            raise ValueError(
                f"an example is a one-line description ending in ':', then lines: {items}"
            )
        if MARKUP_TAG.search("\n".join([description, *lines])):
            raise ValueError(f"--help would read this as rich markup: {description} {lines}")
        blocks.append("\n".join([description, *(INDENT + line for line in lines)]))
    return "\n\n".join(blocks)


def parse_examples(epilog: str | None) -> tuple[Example, ...]:
    """The examples of an epilog made by `examples` (none for any other epilog)."""
    if not epilog or not epilog.startswith(HEADING):
        return ()
    found: list[Example] = []
    for block in epilog.split("\n\n")[1:]:
        description, *lines = block.split("\n")
        found.append(Example(description, tuple(line.removeprefix(INDENT) for line in lines)))
    return tuple(found)
