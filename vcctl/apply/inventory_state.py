"""The stack's key -> id records kept in the local inventory (apply without --state).

Keys live in the inventory's key table, for the current account (base URL and key fingerprint),
in the scopes `vcctl.inventory.scopes` describes:

- a named stack: rooms in scope `stack:NAME`, participants in scope `stack:NAME/ROOMKEY`, so that
  stacks never share a key with each other or with `--key` on the commands;
- no stack: rooms have plain keys (scope empty, as `rooms create --key` gives them) and
  participants are scoped by their room's id (as `participants create --key` scopes them), so
  `rooms create --key board` and `[rooms.board]` name one room.

Every create claims its key through the one key protocol (`vcctl.inventory.claims`), as `--key`
and batch rows do: a `rooms create --key board` in flight is waited for, and what it made is
taken as this apply's. The records themselves are written by the claim (a create) or by the Api
the command uses (gets, updates, deletes), as for every other command. A created key points at
its record, so `rooms list` shows the key beside the room.

Two applies of one stack (of one account) at once take turns: the whole apply holds the stack's
lock (`InventoryStore.stack_lock`: a file lock beside the SQLite file, a database lock in a
shared PostgreSQL inventory; see `open_inventory_state`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from vcctl.apply import stack_lock
from vcctl.apply.desired import Applied, StackEntry
from vcctl.errors import UsageError, VcctlError
from vcctl.inventory import claims, scopes
from vcctl.inventory.claims import Claim, KeyRef, KeyRow, Patience
from vcctl.resources import Kind

if TYPE_CHECKING:
    from vcctl.apply.state import StackState
    from vcctl.inventory.backend import InventoryStore
    from vcctl.inventory.recorder import Recorder
    from vcctl.inventory.records import Account, Record

STATE_HINT = "pass --state FILE to keep the stack's records in a file instead"


def room_scope(stack: str | None) -> str:
    return scopes.room_scope(stack)


class InventoryState:
    """A `StackState` over the inventory's keys; get one with `open_inventory_state`.

    The keys are read once when it opens (the apply holds its stack's lock; `--key` creates of
    other commands meet it in the key protocol), and every change is written through at once.
    """

    def __init__(self, inventory: InventoryStore, account: Account, stack: str | None) -> None:
        self._inventory = inventory
        self._account = account
        self._stack = stack
        self._rooms: dict[str, KeyRow] = {}
        self._participants: dict[str, dict[str, KeyRow]] = {}  # room key -> key -> row
        # What the last apply set, by (kind, scope, key), as the keys were read.
        self._applied: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._load()

    @property
    def stack(self) -> str | None:
        return self._stack

    def _load(self) -> None:
        if self._stack is not None:
            rows = self._inventory.list_keys(self._account, stack=self._stack)
        else:
            rows = self._inventory.list_keys(self._account, kind="room", scopes=[""])
        self._rooms = {row.key: row for row in rows if row.kind == "room"}
        room_of: dict[str, str] = {}  # participant scope -> room key
        for key in self._rooms:
            scope = self._scope_of(key)
            if scope is not None:
                room_of[scope] = key
        if self._stack is None:
            rows = self._inventory.list_keys(
                self._account, kind="participant", scopes=list(room_of)
            )
        for row in rows:
            if row.kind == "participant" and row.scope in room_of:
                self._participants.setdefault(room_of[row.scope], {})[row.key] = row
        scopes_read = {row.scope for row in self._rooms.values()} | set(room_of)
        self._applied = self._inventory.list_applied(self._account, sorted(scopes_read))

    def _scope_of(self, room_key: str, room_id: str | None = None) -> str | None:
        """The scope of a room's participant keys; None when the room has no id (no stack)."""
        if self._stack is not None:
            return scopes.stack_participant_scope(self._stack, room_key)
        if room_id is not None:
            return room_id
        room = self._rooms.get(room_key)
        return room.id if room is not None and room.state == claims.CREATED else None

    # -- reading -------------------------------------------------------------------------------

    def entries(self) -> list[StackEntry]:
        rooms = [self._record("room", row, None) for _, row in sorted(self._rooms.items())]
        participants = [
            self._record("participant", row, room_key)
            for room_key in sorted(self._participants)
            for _, row in sorted(self._participants[room_key].items())
        ]
        return rooms + participants

    def lookup(self, kind: Kind, key: str, room_key: str | None = None) -> StackEntry | None:
        row = self._table(kind, room_key).get(key)
        return None if row is None else self._record(kind, row, room_key)

    def _record(self, kind: Kind, row: KeyRow, room_key: str | None) -> StackEntry:
        entry = _record(kind, row, room_key)
        applied = self._applied.get((row.kind, row.scope, row.key))
        return entry if applied is None or entry.id is None else replace(entry, applied=applied)

    # -- the key protocol ------------------------------------------------------------------------

    def claim(
        self,
        kind: Kind,
        key: str,
        room_key: str | None = None,
        *,
        room_id: str | None = None,
        retry_unknown: bool = False,
        patience: Patience | None = None,
    ) -> Claim | StackEntry:
        ref = self._ref(kind, key, room_key, room_id)
        held: Claim | Record = claims.claim(
            self._inventory, ref, retry_unknown=retry_unknown, patience=patience
        )
        if not isinstance(held, Claim):
            return StackEntry(kind, key, held.id, room_key, resource=held.data)
        if kind == "room":
            # Created anew (or after an unknown outcome): what the old room held went with it.
            self._drop_participants(key)
        return held

    def how_to_free(self, kind: Kind, key: str, room_key: str | None = None) -> str:
        try:
            ref = self._ref(kind, key, room_key, None)
        except ValueError:
            return "run 'vcctl inventory keys' to see the key, then 'vcctl inventory forget --key'"
        return self._inventory.release_hint(ref)

    def _ref(self, kind: Kind, key: str, room_key: str | None, room_id: str | None) -> KeyRef:
        return KeyRef(self._account, kind, self._scope(kind, room_key, room_id), key)

    # -- changing ------------------------------------------------------------------------------

    def remember(self, kind: Kind, key: str, id: str, room_key: str | None = None) -> None:
        if kind == "room":
            previous = self._rooms.get(key)
            if previous is not None and previous.id != id:
                self._drop_participants(key)
        ref = self._ref(kind, key, room_key, None)
        claims.adopt(self._inventory, ref, id)
        row = KeyRow(kind, ref.scope, key, claims.CREATED, id, datetime.now(UTC).timestamp())
        self._table(kind, room_key)[key] = row

    def forget(self, kind: Kind, key: str, room_key: str | None = None) -> None:
        table = self._table(kind, room_key)
        row = table.get(key)
        if row is None:
            return
        if kind == "room":
            self._drop_participants(key)
        # Only the row as read: another vcctl's claim of the key meanwhile is theirs.
        claims.release(self._inventory, self._ref(kind, key, room_key, None), expected=row)
        del table[key]

    def remember_applied(self, applied: Sequence[Applied]) -> None:
        rows = []
        for item in applied:
            try:
                ref = self._ref(item.kind, item.key, item.room_key, item.room_id)
            except ValueError:
                continue  # a participant of a room this run has no id for: nothing to keep
            rows.append((ref, item.id, item.fields))
        if rows:
            self._inventory.set_applied(rows)

    def _drop_participants(self, room_key: str) -> None:
        scope = self._scope_of(room_key)
        if scope is not None:
            self._inventory.forget_scope(self._account, "participant", scope)
        self._participants.pop(room_key, None)

    def _scope(self, kind: Kind, room_key: str | None, room_id: str | None) -> str:
        if kind == "room":
            return room_scope(self._stack)
        if room_key is None:
            raise ValueError("a participant record needs its room key")
        scope = self._scope_of(room_key, room_id)
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
    if row.state == claims.CREATED:
        return StackEntry(kind, row.key, row.id, room_key)
    if row.state == claims.PENDING and claims.in_flight(row):
        return StackEntry(kind, row.key, None, room_key)  # claimed at run time: waited for
    # Unknown, or pending by a process that is gone: blocked.
    since = datetime.fromtimestamp(row.since, UTC).isoformat(timespec="seconds")
    return StackEntry(kind, row.key, None, room_key, since)


@contextlib.contextmanager
def open_inventory_state(
    recorder: Recorder,
    stack: str | None,
    *,
    wait: bool = True,
    timeout: float | None = stack_lock.DEFAULT_TIMEOUT,
    timeout_text: str | None = None,
) -> Iterator[StackState]:
    """The stack's records in the inventory, the stack's lock held until the block ends (waited
    for up to `timeout` seconds, then BlockedError; `wait=False`, a dry run: not waited for when
    another apply holds it, see `vcctl.apply.stack_lock`).

    UsageError / InventoryError (exit 2, nothing sent) when the inventory is off or unusable."""
    try:
        inventory = recorder.require()
    except VcctlError as exc:
        raise UsageError(
            f"apply without --state keeps its records in the local inventory: {exc.message}",
            hint=STATE_HINT,
        ) from None
    account = recorder.account
    try:
        lock = inventory.stack_lock(account, room_scope(stack))
    except OSError as exc:
        where = getattr(exc, "filename", None) or recorder.location.shown
        raise UsageError(
            f"cannot lock the stack in {where}: {exc.strerror}", hint=STATE_HINT
        ) from None
    try:
        what = "the rooms without a stack" if stack is None else f"stack {stack}"
        stack_lock.take(lock, what, wait=wait, timeout=timeout, timeout_text=timeout_text)
        yield InventoryState(inventory, account, stack)
    finally:
        lock.release()
