"""Compare a stack file with the recorded keys and the API's answers: the actions that converge.

Order: create rooms, update rooms, create participants, update participants, then (with prune)
delete participants, then rooms. Only fields the file gives are compared, and an update sends only
the ones that differ. A field whose live value is not what the last apply set on it (when its
record keeps that) is labelled as changed outside vcctl. A room that is recorded but answered 404
is created again with all its participants. A pruned room's live participants are deleted one by
one before the room itself: the API does not promise that deleting a room removes its
participants, so none is left behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

from vcctl.apply.desired import RESOURCE_OF, DesiredStack, StackEntry, qualified_key
from vcctl.errors import UsageError
from vcctl.resources import Kind

ActionName = Literal["create", "update", "delete", "unchanged", "blocked"]

# The order a plan lists its actions in, which is the order they run in. A blocked action is
# shown and never run: its key's earlier create has an unknown outcome.
_ORDER = (
    "room blocked",
    "participant blocked",
    "room create",
    "room update",
    "room unchanged",
    "participant create",
    "participant update",
    "participant unchanged",
    "participant delete",
    "room delete",
)


class Gone:
    """The API answered 404 for this id."""

    def __repr__(self) -> str:
        return "GONE"


GONE: Final = Gone()
Live = dict[str, Any] | Gone


@dataclass(frozen=True)
class Action:
    """One step of a plan; `replace()` it with the outcome (id, resource) to report it."""

    action: ActionName
    kind: Kind
    key: str
    room_key: str | None = None  # a participant's room key
    id: str | None = None  # None for a create until it is done
    changes: dict[str, list[Any]] = field(default_factory=dict)  # field -> [old, new]
    body: dict[str, Any] = field(default_factory=dict)  # the fields to send; see request_body
    resource: dict[str, Any] | None = None  # the API's object as fetched (or as answered)
    room_id: str | None = None  # a participant's room id, when the room already exists
    # A blocked action: when its key's create with an unknown outcome was sent (ISO time); None
    # for a participant blocked because its room is.
    since: str | None = None
    # The fields the file manages on it (a create's or an update's, and an unchanged one's), and
    # what the last apply set on it as its record keeps it (None: nothing kept).
    managed: dict[str, Any] = field(default_factory=dict)
    applied: Mapping[str, Any] | None = None
    # The changed fields whose live value is not what the last apply set: field -> that value.
    outside: dict[str, Any] = field(default_factory=dict)

    @property
    def qualified_key(self) -> str:
        return qualified_key(self.key, self.room_key)

    def request_body(self, room_id: str | None = None) -> dict[str, Any]:
        """What to send. A participant create needs its room's id: the one known at planning
        time, or `room_id` once the room's own create has answered."""
        if self.kind == "participant" and self.action == "create":
            room = room_id or self.room_id
            if room is None:
                raise ValueError(f"participant {self.qualified_key}: its room has no id yet")
            return {"room_id": room, **self.body}
        return dict(self.body)

    def to_json(self) -> dict[str, Any]:
        """The JSON Lines object: action, kind, key (`room/participant` for participants), id,
        changes and resource; and `changed_outside` (field -> what the last apply set) when
        some changed fields were changed outside vcctl."""
        line = {
            "action": self.action,
            "kind": self.kind,
            "key": self.qualified_key,
            "id": self.id,
            "changes": {name: list(pair) for name, pair in self.changes.items()},
            "resource": self.resource,
        }
        if self.outside:
            line["changed_outside"] = dict(self.outside)
        return line


@dataclass(frozen=True)
class Counts:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0
    blocked: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.deleted


@dataclass(frozen=True)
class Plan:
    stack: str | None
    actions: tuple[Action, ...]  # in the order they must run; unchanged ones included
    # Records whose resource is gone (404, or their room is) and that nothing here re-creates
    # under the same record: drop them before running the actions. No request is needed.
    forget: tuple[StackEntry, ...] = ()

    @property
    def changes(self) -> tuple[Action, ...]:
        """What a run carries out."""
        return tuple(a for a in self.actions if a.action not in ("unchanged", "blocked"))

    @property
    def blocked(self) -> tuple[Action, ...]:
        """What a run refuses: keys whose earlier create has an unknown outcome."""
        return tuple(action for action in self.actions if action.action == "blocked")

    @property
    def listed(self) -> tuple[Action, ...]:
        """What the plan shows: the blocked keys, then the changes."""
        return tuple(action for action in self.actions if action.action != "unchanged")

    @property
    def deletes(self) -> tuple[Action, ...]:
        return tuple(action for action in self.actions if action.action == "delete")

    def counts(self) -> Counts:
        names = [action.action for action in self.actions]
        return Counts(
            created=names.count("create"),
            updated=names.count("update"),
            deleted=names.count("delete"),
            unchanged=names.count("unchanged"),
            blocked=names.count("blocked"),
        )

    def phases(self) -> list[list[Action]]:
        """The changes in groups that may each run concurrently, one group after the other:
        rooms created or updated, participants created or updated, participants deleted, rooms
        deleted. (A participant create only waits for its own room's create.)"""
        groups: list[list[Action]] = [[], [], [], []]
        for action in self.changes:
            if action.action == "delete":
                groups[2 if action.kind == "participant" else 3].append(action)
            else:
                groups[0 if action.kind == "room" else 1].append(action)
        return [group for group in groups if group]


def rooms_to_fetch(
    desired: DesiredStack, records: Iterable[StackEntry], *, prune: bool
) -> list[StackEntry]:
    """The room records to GET before planning: a room's answer lists its participants too.
    Without prune only the declared rooms matter."""
    return [
        record
        for record in records
        if record.kind == "room" and record.id and (prune or record.key in desired.rooms)
    ]


def live_from_rooms(
    answers: Mapping[str, Live], records: Iterable[StackEntry]
) -> tuple[dict[str, Live], list[StackEntry]]:
    """Spread room GET answers (room id -> JSON or GONE) over their participants.

    Returns id -> answer for the rooms and their recorded participants (a recorded participant
    missing from its live room's list is gone), and the participant records still to GET one by
    one because their room's answer had no participants list.
    """
    live: dict[str, Live] = dict(answers)
    room_ids = {r.key: r.id for r in records if r.kind == "room" and r.id}
    to_fetch: list[StackEntry] = []
    for record in records:
        if record.kind != "participant" or not record.id or record.room_key not in room_ids:
            continue
        room = answers.get(room_ids[record.room_key] or "")
        if room is None:
            continue
        if isinstance(room, Gone):
            live[record.id] = GONE
            continue
        listed = room.get("participants")
        if not isinstance(listed, list):
            to_fetch.append(record)
            continue
        found = [p for p in listed if isinstance(p, dict) and p.get("id") == record.id]
        live[record.id] = found[0] if found else GONE
    return live, to_fetch


def make_plan(
    desired: DesiredStack,
    records: Iterable[StackEntry],
    live: Mapping[str, Live],
    *,
    prune: bool = False,
    retry_unknown: bool = False,
) -> Plan:
    """The actions that make the API match `desired`.

    `records` are the stack's key -> id records; `live` maps each recorded id that matters to
    the API's answer (see `rooms_to_fetch` and `live_from_rooms`). A declared key whose create
    has an unknown outcome is a `blocked` action (and so are a blocked room's participants),
    unless `retry_unknown`. Raises UsageError when prune is asked for a file without a stack
    name.
    """
    if prune and desired.stack is None:
        raise UsageError(
            f"--prune needs a stack name: {desired.source} has no top-level 'stack'",
            hint='add a line such as stack = "weekly-board" at the top of the file',
        )
    return _Planner(desired, list(records), live, prune, retry_unknown).plan()


class _Planner:
    def __init__(
        self,
        desired: DesiredStack,
        records: list[StackEntry],
        live: Mapping[str, Live],
        prune: bool,
        retry_unknown: bool,
    ) -> None:
        self.desired = desired
        self.live = live
        self.prune = prune
        self.retry_unknown = retry_unknown
        self.rooms = {r.key: r for r in records if r.kind == "room"}
        self.participants = {
            (r.room_key, r.key): r for r in records if r.kind == "participant" and r.room_key
        }
        self.orphans = [
            r for r in records if r.kind == "participant" and r.room_key not in self.rooms
        ]
        self.groups: dict[str, list[Action]] = {name: [] for name in _ORDER}
        self.forget: list[StackEntry] = []

    def plan(self) -> Plan:
        for room_key in self.desired.rooms:
            self.declared_room(room_key)
        for record in self.rooms.values():
            if record.key not in self.desired.rooms:
                self.undeclared_room(record)
        if self.prune:
            self.forget.extend(self.orphans)
        actions = tuple(action for group in self.groups.values() for action in group)
        return Plan(self.desired.stack, actions, tuple(self.forget))

    def blocked(self, record: StackEntry | None) -> bool:
        """A recorded key whose earlier create has an unknown outcome (and no retry asked)."""
        return (
            record is not None
            and record.id is None
            and record.unknown_since is not None
            and not self.retry_unknown
        )

    def answer(self, record: StackEntry | None) -> dict[str, Any] | None:
        """The live object of a record, or None when there is none (no id, or gone)."""
        if record is None or record.id is None:
            return None
        if record.id not in self.live:
            raise ValueError(f"no API answer given for {record.kind} {record.qualified_key}")
        found = self.live[record.id]
        return None if isinstance(found, Gone) else found

    def add(self, action: Action) -> None:
        self.groups[f"{action.kind} {action.action}"].append(action)

    def declared_room(self, room_key: str) -> None:
        room = self.desired.rooms[room_key]
        record = self.rooms.get(room_key)
        current = self.answer(record)
        recorded_participants = [r for (rk, _), r in self.participants.items() if rk == room_key]
        if self.blocked(record):
            assert record is not None
            self.add(Action("blocked", "room", room_key, since=record.unknown_since))
            for key in room.participants:
                self.add(Action("blocked", "participant", key, room_key))
            return
        if current is None:
            # A gone record is dropped; one without an id (an unknown outcome retried, another
            # vcctl's create in flight) is left to the key protocol when the create claims it.
            if record is not None and record.id is not None:
                self.forget.append(record)
                self.forget.extend(recorded_participants)
            self.add(_create("room", room_key, room.fields))
            for key, participant in room.participants.items():
                self.add(_create("participant", key, participant.fields, room_key=room_key))
            return
        self.add(_compare("room", room_key, room.fields, current, record))
        room_id = record.id if record else None
        for key, participant in room.participants.items():
            precord = self.participants.get((room_key, key))
            if self.blocked(precord):
                assert precord is not None
                since = precord.unknown_since
                self.add(Action("blocked", "participant", key, room_key, since=since))
                continue
            pcurrent = self.answer(precord)
            if pcurrent is None:
                if precord is not None and precord.id is not None:
                    self.forget.append(precord)
                self.add(_create("participant", key, participant.fields, room_key, room_id=room_id))
            else:
                self.add(_compare("participant", key, participant.fields, pcurrent, precord))
        for precord in recorded_participants:
            if precord.key not in room.participants and self.prune:
                self.undeclared_participant(precord)

    def undeclared_participant(self, record: StackEntry) -> None:
        current = self.answer(record)
        if current is None:
            self.forget.append(record)
            return
        action = Action("delete", "participant", record.key, record.room_key, record.id)
        self.add(replace(action, resource=current))

    def undeclared_room(self, record: StackEntry) -> None:
        if not self.prune or record.id is None:
            return
        current = self.answer(record)
        if current is None:
            self.forget.append(record)
            self.forget.extend(r for (rk, _), r in self.participants.items() if rk == record.key)
            return
        for (room_key, _), precord in self.participants.items():
            if room_key == record.key:
                self.undeclared_participant(precord)
        self.add(Action("delete", "room", record.key, None, record.id, resource=current))


def _create(
    kind: Kind,
    key: str,
    fields: dict[str, Any],
    room_key: str | None = None,
    room_id: str | None = None,
) -> Action:
    changes = {name: [None, value] for name, value in fields.items()}
    return Action(
        "create", kind, key, room_key, None, changes, dict(fields), room_id=room_id, managed=fields
    )


def _compare(
    kind: Kind,
    key: str,
    fields: dict[str, Any],
    current: dict[str, Any],
    record: StackEntry | None,
) -> Action:
    room_key = record.room_key if record else None
    record_id = record.id if record else None
    applied = record.applied if record else None
    changes = {
        name: [current.get(name), value]
        for name, value in fields.items()
        if not same_value(kind, name, current.get(name), value)
    }
    if not changes:
        return Action(
            "unchanged",
            kind,
            key,
            room_key,
            record_id,
            resource=current,
            managed=fields,
            applied=applied,
        )
    body = {name: pair[1] for name, pair in changes.items()}
    outside = {
        name: applied[name]
        for name, (live, _) in changes.items()
        if applied is not None
        and name in applied
        and not same_value(kind, name, live, applied[name])
    }
    return Action(
        "update",
        kind,
        key,
        room_key,
        record_id,
        changes,
        body,
        current,
        managed=fields,
        applied=applied,
        outside=outside,
    )


def applied_values(fields: Mapping[str, Any], answer: Mapping[str, Any] | None) -> dict[str, Any]:
    """What an apply leaves set on a resource: each managed field as the API answered it (the
    file's value where the answer has none), to tell a later change outside vcctl from one the
    file makes."""
    answer = answer or {}
    return {name: answer.get(name, value) for name, value in fields.items()}


def same_value(kind: Kind, name: str, old: Any, new: Any) -> bool:
    """Whether the API's `old` already is the file's `new` (true is not 1; colours ignore case)."""
    if isinstance(old, bool) or isinstance(new, bool):
        return type(old) is type(new) and old == new
    if RESOURCE_OF[kind].field(name).kind == "color" and isinstance(old, str):
        return isinstance(new, str) and old.lower() == new.lower()
    return bool(old == new)
