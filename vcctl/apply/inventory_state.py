"""The stack's key -> id records kept in the local inventory (apply without --state)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from vcctl.errors import UsageError

if TYPE_CHECKING:
    from vcctl.apply.state import StackState
    from vcctl.context import CommandContext


@contextlib.contextmanager
def open_inventory_state(context: CommandContext, stack: str | None) -> Iterator[StackState]:
    raise UsageError(
        "apply without --state needs the local inventory, which is not available",
        hint="pass --state FILE to keep the stack's records in a file",
    )
    yield  # pragma: no cover
