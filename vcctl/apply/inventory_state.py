"""The stack's key -> id records kept in the local inventory (apply without --state).

Keys live in the inventory's key table, for the current account (base URL and key fingerprint):

- a named stack: rooms in scope `stack:NAME`, participants in scope `stack:NAME/ROOMKEY`, so that
  stacks never share a key with each other or with `--key` on the commands;
- no stack: rooms have plain keys (scope empty, as `rooms create --key` gives them) and
  participants are scoped by their room's id (as `participants create --key` scopes them), so
  `rooms create --key board` and `[rooms.board]` name one room.

The records themselves (names, fields, gone or not) are written by the Api the command uses, as
for every other command; this module only keeps the keys. A created key points at its record, so
`rooms list` shows the key beside the room.

Two applies of one stack (of one account) at once take turns: the whole apply holds an advisory
lock (fcntl) on a file in the inventory's folder, named after the account and stack. And a create
is marked unknown with a compare-and-set against the key as this apply read it, so that a
`--key` create of another process meanwhile (which the lock does not cover) makes this apply
refuse that create instead of sending a duplicate.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from vcctl.apply.desired import StackEntry, qualified_key
from vcctl.errors import UsageError, VcctlError
from vcctl.resources import Kind

if TYPE_CHECKING:
    from vcctl.apply.state import StackState
    from vcctl.inventory.claims import KeyRow
    from vcctl.inventory.recorder import Recorder
    from vcctl.inventory.records import Account
    from vcctl.inventory.store import Inventory

STATE_HINT = "pass --state FILE to keep the stack's records in a file instead"
LOCK_FOLDER = "locks"


def room_scope(stack: str | None) -> str:
    return "" if stack is None else f"stack:{stack}"


class InventoryState:
    """A `StackState` over the inventory's keys; get one with `open_inventory_state`.

    The keys are read once when it opens (the apply holds its stack's lock, so only this apply
    changes them) and every change is written through at once, one transaction each.
    """

    def __init__(self, inventory: Inventory, account: Account, stack: str | None) -> None:
        self._inventory = inventory
        self._account = account
        self._stack = stack
        self._rooms: dict[str, KeyRow] = {}
        self._participants: dict[str, dict[str, KeyRow]] = {}  # room key -> key -> row
        self._load()

    @property
    def stack(self) -> str | None:
        return self._stack

    def _load(self) -> None:
        rows = self._inventory.keys_in_scopes(self._account, "room", [room_scope(self._stack)])
        self._rooms = {row.key: row for row in rows}
        room_of: dict[str, str] = {}  # participant scope -> room key
        for key in self._rooms:
            scope = self._scope_of(key)
            if scope is not None:
                room_of[scope] = key
        for row in self._inventory.keys_in_scopes(self._account, "participant", list(room_of)):
            room_key = room_of[row.scope]
            self._participants.setdefault(room_key, {})[row.key] = row

    def _scope_of(self, room_key: str) -> str | None:
        """The scope of a room's participant keys; None when the room has no id (no stack)."""
        if self._stack is not None:
            return f"stack:{self._stack}/{room_key}"
        room = self._rooms.get(room_key)
        return room.id if room is not None and room.state == "created" else None

    # -- reading -------------------------------------------------------------------------------

    def entries(self) -> list[StackEntry]:
        rooms = [_record("room", row, None) for _, row in sorted(self._rooms.items())]
        participants = [
            _record("participant", row, room_key)
            for room_key in sorted(self._participants)
            for _, row in sorted(self._participants[room_key].items())
        ]
        return rooms + participants

    def lookup(self, kind: Kind, key: str, room_key: str | None = None) -> StackEntry | None:
        row = self._table(kind, room_key).get(key)
        return None if row is None else _record(kind, row, room_key)

    # -- changing ------------------------------------------------------------------------------

    def remember(self, kind: Kind, key: str, id: str, room_key: str | None = None) -> None:
        self._set(kind, key, room_key, id=id, since=None, expect="any")

    def mark_unknown(
        self, kind: Kind, key: str, room_key: str | None = None, *, since: str
    ) -> None:
        moment = datetime.fromisoformat(since).timestamp()
        expect = self._table(kind, room_key).get(key)
        self._set(kind, key, room_key, id=None, since=moment, expect=expect)

    def forget(self, kind: Kind, key: str, room_key: str | None = None) -> None:
        table = self._table(kind, room_key)
        if key not in table:
            return
        if kind == "room":
            self._drop_participants(key)
        self._inventory.forget_keys(self._account, kind, self._scope(kind, room_key), [key])
        del table[key]

    def _set(
        self,
        kind: Kind,
        key: str,
        room_key: str | None,
        *,
        id: str | None,
        since: float | None,
        expect: KeyRow | Literal["any"] | None,
    ) -> None:
        scope = self._scope(kind, room_key)
        if kind == "room":
            previous = self._rooms.get(key)
            if previous is not None and previous.id != id:
                # A room under a new id was created anew: the old one's participants went with it.
                self._drop_participants(key)
        written = self._inventory.set_key(
            self._account, kind, scope, key, id=id, since=since, expect=expect
        )
        if not written:
            raise VcctlError(
                f"{kind} {qualified_key(key, room_key)}: its key changed in the inventory "
                "since this apply read it (another vcctl is creating it); not sent",
                hint="run apply again once the other vcctl has finished",
            )
        from vcctl.inventory.claims import KeyRow

        state = "created" if id is not None else "unknown"
        row = KeyRow(kind, scope, key, state, id, since or datetime.now(UTC).timestamp())
        self._table(kind, room_key)[key] = row

    def _drop_participants(self, room_key: str) -> None:
        scope = self._scope_of(room_key)
        if scope is not None:
            self._inventory.forget_keys(self._account, "participant", scope)
        self._participants.pop(room_key, None)

    def _scope(self, kind: Kind, room_key: str | None) -> str:
        if kind == "room":
            return room_scope(self._stack)
        if room_key is None:
            raise ValueError("a participant record needs its room key")
        scope = self._scope_of(room_key)
        if scope is None:
            raise ValueError(f"participant {room_key}/…: its room {room_key} is not recorded")
        return scope

    def _table(self, kind: Kind, room_key: str | None) -> dict[str, KeyRow]:
        if kind == "room":
            return self._rooms
        if room_key is None:
            raise ValueError("a participant record needs its room key")
        if self._scope_of(room_key) is None:
            return {}
        return self._participants.setdefault(room_key, {})


def _record(kind: Kind, row: KeyRow, room_key: str | None) -> StackEntry:
    if row.state == "created":
        return StackEntry(kind, row.key, row.id, room_key)
    # Unknown, or pending in another process (a `--key` create in flight): blocked for now.
    since = datetime.fromtimestamp(row.since, UTC).isoformat(timespec="seconds")
    return StackEntry(kind, row.key, None, room_key, since)


@contextlib.contextmanager
def open_inventory_state(recorder: Recorder, stack: str | None) -> Iterator[StackState]:
    """The stack's records in the inventory, the stack's lock held until the block ends.

    UsageError / InventoryError (exit 2, nothing sent) when the inventory is off or unusable."""
    try:
        inventory = recorder.require()
    except VcctlError as exc:
        raise UsageError(
            f"apply without --state keeps its records in the local inventory: {exc.message}",
            hint=STATE_HINT,
        ) from None
    account = recorder.account
    with _stack_lock(recorder.path.parent, account, stack):
        yield InventoryState(inventory, account, stack)


@contextlib.contextmanager
def _stack_lock(folder: Path, account: Account, stack: str | None) -> Iterator[None]:
    """Held by one apply of this account's stack at a time; others wait their turn."""
    from vcctl.config import files

    name = "\0".join((account.base_url, account.key_fingerprint, room_scope(stack)))
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:24]
    path = folder / LOCK_FOLDER / f"apply-{digest}.lock"
    try:
        files.make_private_dir(path.parent)
        lock = os.open(path, os.O_RDWR | os.O_CREAT, files.FILE_MODE)
    except OSError as exc:
        raise UsageError(
            f"cannot lock the stack in {path}: {exc.strerror}", hint=STATE_HINT
        ) from None
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            from vcctl.output.streams import notice_on_terminal

            what = "the rooms without a stack" if stack is None else f"stack {stack}"
            notice_on_terminal(f"waiting for another vcctl apply of {what} to finish")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield
    finally:
        os.close(lock)  # closing the descriptor releases the lock
