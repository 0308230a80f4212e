"""Keys within one batch file: a key names one resource, so the same key twice in one file (in
one scope: participant keys are per room) is refused at validation, on its second row, naming
the first's line. Without this the second row would silently get the first row's resource."""

from __future__ import annotations

from typing import Any

from vcctl.errors import UsageError
from vcctl.inventory.keyed_create import key_scope
from vcctl.resources import Kind, Noun


class KeysSeen:
    """The keys of the rows read so far, with the line each first appeared on."""

    def __init__(self, noun: Noun) -> None:
        self.kind: Kind = "room" if noun == "rooms" else "participant"
        self._first: dict[tuple[str, str], int] = {}

    def check(self, line: int, key: str, body: dict[str, Any]) -> None:
        """UsageError when `key` (in the scope `body` gives it) was already a row's key."""
        scope = key_scope(self.kind, body)
        first = self._first.setdefault((scope, key), line)
        if first != line:
            where = f" (room {scope})" if scope else ""
            raise UsageError(
                f"key {key!r}{where} is already the key of line {first}: a key names one "
                f"{self.kind}, so each row needs its own"
            )
