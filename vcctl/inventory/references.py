"""References: `@KEY` where an id is expected, resolved in the inventory before anything is sent.

Grammar (the scopes are the key protocol's, see `vcctl.inventory.scopes`), read through the
store's `list_keys`:

- a room: `@KEY` is the key in the plain scope (`--key`, batch rows, a stack file without
  `stack`); `@STACK/KEY` is the key in the scope `stack:STACK` (apply).
- a participant: `@KEY` is a participant key in the room given or implied (`--room`, the
  participant's own record), in any scope whose participants are in that room; with no room, the
  key must name one participant across all rooms. `@STACK/KEY` looks in the stack's scopes only;
  `@STACK/ROOM/KEY` is the key of the stack's room ROOM.

A reference that names nothing, or more than one live resource, is a UsageError (exit 2) that
lists the candidates; a key whose resource is known gone names nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from vcctl import validate
from vcctl.errors import UsageError
from vcctl.inventory.scopes import STACK_PREFIX
from vcctl.resources import Kind
from vcctl.text import printable

if TYPE_CHECKING:
    from vcctl.inventory.backend import InventoryStore as Inventory
    from vcctl.inventory.claims import KeyRow
    from vcctl.inventory.records import Account, Record

MARK = "@"
MAX_LISTED = 10


def is_reference(value: str) -> bool:
    return value.startswith(MARK) and len(value) > 1


def resolve(
    inventory: Inventory,
    account: Account,
    kind: Kind,
    reference: str,
    *,
    what: str,
    room_id: str | None = None,
) -> str:
    """The id `reference` (`@...`) names; UsageError listing the candidates otherwise."""
    body = reference[len(MARK) :]
    validate.text(body, what)
    parts = body.split("/")
    if any(not part for part in parts) or len(parts) > (3 if kind == "participant" else 2):
        raise UsageError(
            f"invalid reference {printable(reference)!r} for {what}",
            hint="write @KEY, or @STACK/KEY for a key of an applied stack"
            + (" (@STACK/ROOM/KEY for a participant)" if kind == "participant" else ""),
        )
    key = parts[-1]
    rows = [row for row in _created_keys(inventory, account, kind, key) if _in_scope(row, parts)]
    records = _live_records(inventory, account, kind, rows)
    if kind == "participant" and room_id is not None:
        records = [record for record in records if record.room_id == room_id]
    if kind == "room" and len(parts) == 1:
        # The plain scope wins: `@board` is the `--key board` room, even when a stack has one.
        records = [record for record in records if _plain(rows, record)]
    if len(records) == 1:
        return records[0].id
    noun = "room" if kind == "room" else "participant"
    where = f" in room {room_id}" if room_id is not None else ""
    if not records:
        others = _elsewhere(inventory, account, kind, key, rows)
        raise UsageError(
            f"{printable(reference)} names no {noun}{where} in the inventory",
            hint=(f"did you mean {', '.join(others)}?" if others else None)
            or "see 'vcctl inventory keys' for the keys vcctl knows",
        )
    raise UsageError(
        f"{printable(reference)} names {len(records)} {noun}s{where}: {_listing(records)}",
        hint="give the id, or a reference that names one"
        + (" (add --room)" if kind == "participant" and room_id is None else ""),
    )


def _created_keys(inventory: Inventory, account: Account, kind: Kind, key: str) -> list[KeyRow]:
    """The keys spelled `key` that name a created resource, in every scope."""
    return [
        row
        for row in inventory.list_keys(account, kind=kind, key=key)
        if row.state == "created" and row.id is not None
    ]


def _in_scope(row: KeyRow, parts: list[str]) -> bool:
    """Whether a key row can be what `parts` (the reference split at /) names."""
    if len(parts) == 1:
        return True  # filtered further by the caller (plain scope for rooms, room for people)
    if row.kind == "room":
        return row.scope == f"{STACK_PREFIX}{parts[0]}"
    if len(parts) == 3:
        return row.scope == f"{STACK_PREFIX}{parts[0]}/{parts[1]}"
    return row.scope.startswith(f"{STACK_PREFIX}{parts[0]}/")


def _plain(rows: Iterable[KeyRow], record: Record) -> bool:
    return any(row.id == record.id and not row.scope.startswith(STACK_PREFIX) for row in rows)


def _live_records(
    inventory: Inventory, account: Account, kind: Kind, rows: Iterable[KeyRow]
) -> list[Record]:
    found: dict[str, Record] = {}
    for row in rows:
        if row.id is None or row.id in found:
            continue
        record = inventory.get(account, kind, row.id)
        if record is not None and not record.gone:
            found[row.id] = record
    return list(found.values())


def _elsewhere(
    inventory: Inventory, account: Account, kind: Kind, key: str, rows: list[KeyRow]
) -> list[str]:
    """Other spellings that name something: the key in a stack (@STACK/KEY)."""
    suggestions: list[str] = []
    for row in _created_keys(inventory, account, kind, key):
        if row.scope.startswith(STACK_PREFIX):
            suggestions.append(MARK + row.scope[len(STACK_PREFIX) :] + "/" + key)
    return sorted(set(suggestions))[:MAX_LISTED]


def _listing(records: list[Record]) -> str:
    shown = [
        f"{record.id}"
        + (f' ("{printable(record.label)}")' if record.label else "")
        + (f" in room {record.room_id}" if record.room_id else "")
        for record in records[:MAX_LISTED]
    ]
    more = len(records) - MAX_LISTED
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def did_you_mean(inventory: Inventory, account: Account, kind: Kind, text: str) -> str | None:
    """For a 404 on `text`: the inventory's resources it may have meant (the same id in another
    case, a key, a name, or a close spelling of one), as `did you mean ID ("NAME")?`."""
    import difflib

    records = [r for r in inventory.list_records(account, kind) if r.id != text]
    wanted = text[len(MARK) :] if is_reference(text) else text
    folded = wanted.casefold()
    by_key = {row.id for row in _created_keys(inventory, account, kind, wanted)}
    exact = [
        r
        for r in records
        if r.id.casefold() == folded
        or r.id in by_key
        or (r.label is not None and r.label.casefold() == folded)
    ]
    found = exact
    if not found:
        spellings: dict[str, list[Record]] = {}
        for record in records:
            for spelling in (record.id, record.label, record.key):
                if spelling:
                    spellings.setdefault(spelling.casefold(), []).append(record)
        close = difflib.get_close_matches(folded, list(spellings), n=3, cutoff=0.75)
        found = [record for spelling in close for record in spellings[spelling]]
    unique = list({record.id: record for record in found}.values())[:3]
    if not unique:
        return None
    names = [
        record.id + (f' ("{printable(record.label)}")' if record.label else "") for record in unique
    ]
    return f"did you mean {' or '.join(names)}?"
