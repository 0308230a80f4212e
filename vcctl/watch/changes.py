"""What a watch knows: the differences between two answers for a room, its state, its JSON Lines.

Pure data and functions (no clock, no I/O), shared by the loop, the live view and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ChangeKind = Literal["joined", "left", "changed", "room_changed"]


# -- what changed ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One difference between two answers: a participant that joined, left or changed, or the
    room's own fields (name, colour) that changed."""

    kind: ChangeKind
    subject: dict[str, Any]  # the participant (the last seen, for "left"), or the room
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # name -> (old, new)

    @property
    def key(self) -> str:
        return participant_key(self.subject)


def participants_of(room: dict[str, Any]) -> list[dict[str, Any]]:
    value = room.get("participants")
    if not isinstance(value, list):
        return []
    return [p for p in value if isinstance(p, dict)]


def participant_key(participant: dict[str, Any]) -> str:
    participant_id = participant.get("id")
    return str(participant_id) if participant_id is not None else repr(sorted(participant.items()))


def room_fields(room: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in room.items() if key != "participants"}


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Fields whose value differs; a field missing on one side counts as None there."""
    names = list(new) + [name for name in old if name not in new]
    return {
        name: (old.get(name), new.get(name)) for name in names if old.get(name) != new.get(name)
    }


def diff_rooms(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """What changed between two answers for the same room, in the order the lines are printed:
    the room's own fields, then joined/changed in the room's order, then left in the old order."""
    changes: list[Change] = []
    room_changes = field_changes(room_fields(before), room_fields(after))
    if room_changes:
        changes.append(Change("room_changed", room_fields(after), room_changes))
    previous = {participant_key(p): p for p in participants_of(before)}
    current_keys = set()
    for participant in participants_of(after):
        key = participant_key(participant)
        current_keys.add(key)
        old = previous.get(key)
        if old is None:
            changes.append(Change("joined", participant))
        else:
            fields = field_changes(old, participant)
            if fields:
                changes.append(Change("changed", participant, fields))
    for key, participant in previous.items():
        if key not in current_keys:
            changes.append(Change("left", participant))
    return changes


# -- the state of a watch -------------------------------------------------------------------------


@dataclass
class Failure:
    """Consecutive failed refreshes: the data on show is stale."""

    since: datetime
    count: int
    message: str
    wait: float  # seconds until the next try
    next_try: datetime
    retry_after: bool  # the wait is what the API's Retry-After asked for


@dataclass
class WatchState:
    room_id: str
    room: dict[str, Any]  # the last good answer
    refreshed_at: datetime
    interval: float
    changes: list[Change] = field(default_factory=list)  # found by the last good refresh
    failure: Failure | None = None
    deleted_at: datetime | None = None
    latency: float | None = None  # seconds the last good refresh took (the API's latency)


# -- JSON Lines ---------------------------------------------------------------------------------


def timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def snapshot_line(state: WatchState) -> dict[str, Any]:
    return {
        "event": "snapshot",
        "room_id": state.room_id,
        "room": state.room,
        "at": timestamp(state.refreshed_at),
    }


def change_line(room_id: str, change: Change, at: datetime) -> dict[str, Any]:
    line: dict[str, Any] = {"event": change.kind, "room_id": room_id}
    line["room" if change.kind == "room_changed" else "participant"] = change.subject
    if change.fields:
        line["changes"] = {name: [old, new] for name, (old, new) in change.fields.items()}
    line["at"] = timestamp(at)
    return line


def deleted_line(state: WatchState, at: datetime) -> dict[str, Any]:
    return {"event": "room_deleted", "room_id": state.room_id, "at": timestamp(at)}
