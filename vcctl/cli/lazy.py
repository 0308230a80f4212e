"""A command group built from the registry: a subcommand's module is imported when it runs.

`LazyGroup` holds a placeholder for each name of its registry table. Resolving a name (what click
does while parsing `vcctl rooms get ...`) replaces the placeholder with the real command: a noun
becomes another `LazyGroup`, a command is imported from its module and built by typer. So a run
imports and builds the commands on its path and no other. Everything that reads only names and
summaries works from the placeholders: the listings of `--help` (a group's help is drawn with
`listing()` on) and typer's "Did you mean ...?" (it reads the names). A command's callback turns
the garbage collector back on as it starts (`vcctl.cli.collector`): start-up ends there.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from vcctl.cli import collector
from vcctl.cli.helpstyle import whole_sentences
from vcctl.cli.registry import Command, Entry, Group

# What each loaded subcommand goes through before use (tidy help, inherit global options).
Prepare = Callable[[Any], None]


class Placeholder(TyperCommand):
    """A command not loaded yet, as a listing shows it: its name, summary and hidden flag."""

    def __init__(self, name: str, entry: Entry) -> None:
        summary = entry.summary if isinstance(entry, Command) else entry.help
        # Whole sentences, as the loaded command's tidied help (vcctl.cli.helpstyle) has them.
        hidden = isinstance(entry, Command) and entry.hidden
        super().__init__(name, help=whole_sentences(summary), hidden=hidden)


class LazyGroup(TyperGroup):
    """A group whose subcommands come from a registry table (see the module's docstring)."""

    entries: Mapping[str, Entry]
    prepare: Prepare | None
    _listing: bool

    def fill(self, entries: Mapping[str, Entry], prepare: Prepare | None) -> LazyGroup:
        """Give the group its subcommands, as placeholders; `prepare` is applied to each one
        as it is loaded (None: used as typer builds it, as the documentation generators want)."""
        self.entries = entries
        self.prepare = prepare
        self._listing = False
        self.commands = {name: Placeholder(name, entry) for name, entry in entries.items()}
        return self

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = self.commands.get(cmd_name)
        if isinstance(command, Placeholder) and not self._listing:
            command = self.commands[cmd_name] = self._load(cmd_name)
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        # The listing reads each subcommand's name and summary: the placeholders have them.
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def load_all(self) -> LazyGroup:
        """Every subcommand loaded, recursively (for the documentation generators)."""
        for name in self.entries:
            command = self.get_command(None, name)
            if isinstance(command, LazyGroup):
                command.load_all()
        return self

    def walk(self) -> Iterator[Any]:
        """The subcommands loaded so far, recursively."""
        for command in self.commands.values():
            if not isinstance(command, Placeholder):
                yield command
                if isinstance(command, LazyGroup):
                    yield from command.walk()

    def _load(self, name: str) -> Any:
        entry = self.entries[name]
        if isinstance(entry, Group):
            command: Any = group(name, entry, self.prepare)
        else:
            command = leaf(name, entry)
        if self.prepare is not None:
            self.prepare(command)
        return command


def group(name: str, entry: Group, prepare: Prepare | None) -> LazyGroup:
    """The group of a noun, with its commands as placeholders."""
    declared = typer.Typer(name=name, cls=LazyGroup, help=entry.help, no_args_is_help=True)
    built = typer.main.get_group(declared)
    assert isinstance(built, LazyGroup)
    return built.fill(entry.commands, prepare)


def leaf(name: str, entry: Command) -> Any:
    """The command `name`, built by typer from its module's `app`."""
    declared: typer.Typer = importlib.import_module(entry.module).app
    for info in declared.registered_commands:
        if info.name == name:
            command = typer.main.get_command_from_info(
                info,
                pretty_exceptions_short=declared.pretty_exceptions_short,
                rich_markup_mode=declared.rich_markup_mode,
            )
            command.callback = _resuming_collector(command.callback)
            return command
    raise LookupError(f"{entry.module} declares no command {name!r}")


def _resuming_collector(callback: Callable[..., Any] | None) -> Callable[..., Any] | None:
    if callback is None:
        return None

    def run(*args: Any, **kwargs: Any) -> Any:
        collector.resume()
        return callback(*args, **kwargs)

    return run
