"""Ids as commands take them: a plain id is checked as text, an `@KEY` is looked up in the
inventory (`vcctl.inventory.references`) before anything is sent."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from vcctl import validate
from vcctl.inventory.references import is_reference, resolve
from vcctl.resources import Kind

if TYPE_CHECKING:
    from vcctl.cli.context import CommandContext


def resolve_id(
    context: CommandContext, value: str, kind: Kind, what: str, *, room_id: str | None = None
) -> str:
    """The id `value` stands for: itself, or the one its `@KEY` names (exit 2 otherwise)."""
    if not is_reference(value):
        return validate.identifier(value, what)
    recorder = context.inventory()
    inventory = recorder.require()  # off or unusable: exit 2, nothing sent
    return resolve(inventory, recorder.account, kind, value, what=what, room_id=room_id)


def resolve_ids(
    context: CommandContext,
    values: Sequence[str],
    kind: Kind,
    what: str,
    *,
    room_id: str | None = None,
) -> list[str]:
    """`resolve_id` for each value, all before the first request."""
    return [resolve_id(context, value, kind, what, room_id=room_id) for value in values]


def resolver(context: CommandContext, kind: Kind, what: str) -> Callable[[str], str]:
    """A cached `@KEY` -> id function for batch rows (one lookup per distinct reference)."""
    cache: dict[str, str] = {}

    def lookup(value: str) -> str:
        if value not in cache:
            cache[value] = resolve_id(context, value, kind, what)
        return cache[value]

    return lookup
