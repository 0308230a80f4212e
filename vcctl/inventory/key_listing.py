"""Keys as a person sees them: `vcctl inventory keys` (what is blocked, and why) and
`vcctl inventory forget --key` (free exactly one key, refusing when the name is ambiguous).

Works on any store that lists and releases keys (`vcctl.inventory.backend.InventoryStore`); no
SQL, nothing printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vcctl.errors import UsageError
from vcctl.inventory import claims, scopes
from vcctl.inventory.claims import KeyRow

if TYPE_CHECKING:
    from vcctl.inventory.backend import InventoryStore
    from vcctl.inventory.records import Account


@dataclass(frozen=True)
class KeyView:
    """One key for a listing: where it lives, its state now (a pending claim whose process is
    gone reads as unknown), what it names, since when, and who holds it."""

    row: KeyRow
    state: str

    @classmethod
    def of(cls, row: KeyRow) -> KeyView:
        return cls(row, claims.effective_state(row))

    @property
    def scope(self) -> scopes.Scope:
        return scopes.Scope.of(self.row.kind, self.row.scope)

    def owner(self) -> str | None:
        owner = self.row.owner
        return None if owner is None or self.state != claims.PENDING else owner.describe()

    def forget_command(self, *, alone: bool) -> str:
        return scopes.forget_command(self.row.kind, self.row.scope, self.row.key, alone=alone)

    def to_json(self) -> dict[str, Any]:
        owner = self.row.owner if self.state == claims.PENDING else None
        return {
            "kind": self.row.kind,
            "key": self.row.key,
            "stack": self.scope.stack,
            "room": self.scope.room,
            "state": self.state,
            "id": self.row.id,
            "since": claims.local_time(self.row.since) if self.row.since else None,
            "owner": None
            if owner is None
            else {"host": owner.host, "pid": owner.pid, "start": owner.start},
        }


def list_keys(
    store: InventoryStore, account: Account, *, unknown_only: bool = False, stack: str | None = None
) -> list[KeyView]:
    """The account's keys, rooms first, by scope and key (`stack`: that stack's only;
    `unknown_only`: the blocked ones)."""
    views = [KeyView.of(row) for row in store.list_keys(account, stack=stack)]
    if unknown_only:
        views = [view for view in views if view.state == claims.UNKNOWN]
    return views


def key_table(views: Sequence[KeyView]) -> list[list[str]]:
    """The rows of `vcctl inventory keys`, the header first."""
    rows = [["KIND", "KEY", "STACK", "ROOM", "STATE", "ID", "SINCE", "OWNER"]]
    for view in views:
        rows.append(
            [
                view.row.kind,
                view.row.key,
                view.scope.stack or "-",
                view.scope.room or "-",
                view.state,
                view.row.id or "-",
                claims.local_time(view.row.since) if view.row.since else "-",
                view.owner() or "-",
            ]
        )
    return rows


def release_commands(
    store: InventoryStore, account: Account, views: Sequence[KeyView]
) -> list[str]:
    """For each key, the `vcctl inventory forget` command that frees exactly it."""
    names: dict[str, int] = {}
    for row in store.list_keys(account):
        names[row.key] = names.get(row.key, 0) + 1
    return [view.forget_command(alone=names.get(view.row.key, 0) <= 1) for view in views]


def forget_key(
    store: InventoryStore,
    account: Account,
    key: str,
    *,
    stack: str | None = None,
    room: str | None = None,
    no_stack: bool = False,
) -> list[KeyRow]:
    """Release the one key these options name (see `scopes.selects`); [] when none does. A
    stack's room key takes its participants' keys with it (they belong to that room). Raises
    UsageError (exit 2, nothing changed) when the name is in more than one scope, listing the
    command that frees each."""
    same_name = store.list_keys(account, key=key)
    chosen = [
        row
        for row in same_name
        if scopes.selects(row.kind, row.scope, stack=stack, room=room, no_stack=no_stack)
    ]
    if not chosen:
        return []
    if len(chosen) > 1:
        raise ambiguous(key, chosen)
    [row] = chosen
    store.forget_keys(account, [row])
    parsed = scopes.Scope.of(row.kind, row.scope)
    if row.kind == "room" and parsed.stack is not None:
        participants = scopes.stack_participant_scope(parsed.stack, key)
        store.forget_scope(account, "participant", participants)
    return chosen


def ambiguous(key: str, rows: Sequence[KeyRow]) -> UsageError:
    listed = "; ".join(
        f"{row.describe()}: '{scopes.forget_command(row.kind, row.scope, row.key, alone=False)}'"
        for row in rows
    )
    return UsageError(
        f"key {key!r} is in {len(rows)} scopes; forget one at a time: {listed}",
        hint="'vcctl inventory keys' lists every key with its scope",
    )
