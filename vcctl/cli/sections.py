"""Help that ends with text made from a description elsewhere (`vcctl.resources`, the stack
file's schema): the `--from-file` columns of the create commands, the STACK FILE section of
apply.

The text is written out only when the help is read (every run builds its command, few show its
help). A `Section` is also a section of the command's man page: `vcctl.docgen` reads `sections`
and `own_help` from the command, so that the page shows it under its own heading.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from typer.core import TyperCommand


class Section(NamedTuple):
    """A titled part of a command's help: paragraphs, then items (a term and what it is). (A named
    tuple: every run imports this module, and a dataclass costs half a millisecond to create.)"""

    title: str  # as a man page heading, such as "STACK FILE"
    paragraphs: tuple[str, ...]
    items: tuple[tuple[str, str], ...] = ()

    def help_text(self) -> str:
        """As `--help` shows it: the title, then one paragraph each (the terminal wraps them).
        typer reads help as rich markup: a `[` is escaped, or `[rooms.KEY]` would vanish."""
        parts = [f"{self.title}:", *self.paragraphs]
        parts += [f"{term}: {text}" for term, text in self.items]
        return "\n\n".join(parts).replace("[", "\\[")


def extended_help(more: Callable[[], str]) -> type[TyperCommand]:
    """A command class whose help is its own, then `more()`."""

    class ExtendedHelpCommand(TyperCommand):
        @property
        def own_help(self) -> str:
            return self._own_help or ""

        @property
        def help(self) -> str | None:
            return f"{self.own_help}\n\n{more()}".strip()

        @help.setter
        def help(self, text: str | None) -> None:
            # Whoever sets the help back (the help style, vcctl.cli.helpstyle) sets it whole:
            # keep only the command's own part, or `more()` would be shown twice.
            self._own_help = (text or "").removesuffix(more()).strip()

    return ExtendedHelpCommand


def sectioned(*sections: Callable[[], Section]) -> type[TyperCommand]:
    """A command class whose help ends with these sections (made when the help is read)."""

    def more() -> str:
        return "\n\n".join(section().help_text() for section in sections)

    base = extended_help(more)

    class SectionedCommand(base):  # type: ignore[valid-type,misc]
        @property
        def sections(self) -> tuple[Section, ...]:
            return tuple(section() for section in sections)

    return SectionedCommand
