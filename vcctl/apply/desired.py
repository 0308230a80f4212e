"""The shapes shared by the apply modules: desired resources, recorded keys, key syntax."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vcctl.resources import PARTICIPANT, ROOM, Kind, Resource

# A key names a resource in a stack. Keys are TOML bare keys (so a table header never needs
# quotes and a dotted path in a message is unambiguous: no dot, no slash, no blank), starting with
# a letter or digit so that they never look like an option.
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
KEY_RULE = "1 to 64 ASCII letters, digits, '_' or '-', starting with a letter or digit"

RESOURCE_OF: dict[Kind, Resource] = {"room": ROOM, "participant": PARTICIPANT}


def managed_fields(kind: Kind) -> tuple[str, ...]:
    """The fields a stack file may give for this kind (a participant's room is its table's)."""
    resource = RESOURCE_OF[kind]
    return tuple(name for name in resource.field_names if name != resource.parent_field)


def qualified_key(key: str, room_key: str | None) -> str:
    """How people and JSON Lines name a resource of a stack: `board`, `board/ada`."""
    return key if room_key is None else f"{room_key}/{key}"


@dataclass(frozen=True)
class DesiredParticipant:
    key: str
    fields: dict[str, Any]  # managed fields only, in the order they are sent
    line: int | None = None  # where its table starts in the file, when known


@dataclass(frozen=True)
class DesiredRoom:
    key: str
    fields: dict[str, Any]
    participants: dict[str, DesiredParticipant] = field(default_factory=dict)
    line: int | None = None


@dataclass(frozen=True)
class DesiredStack:
    """What a stack file declares, validated."""

    stack: str | None  # None: the file gave no `stack` (its keys are the inventory's plain keys)
    rooms: dict[str, DesiredRoom]
    source: str = "-"  # the file's path as the user gave it, for messages

    @property
    def resource_count(self) -> int:
        return len(self.rooms) + sum(len(room.participants) for room in self.rooms.values())


@dataclass(frozen=True)
class StackEntry:
    """One key -> id record of a stack, as the state file or the inventory keeps it."""

    kind: Kind
    key: str
    id: str | None  # None while a create's outcome is unknown (or another vcctl's is in flight)
    room_key: str | None = None  # a participant's room key; None for rooms
    unknown_since: str | None = None  # ISO time a create was sent whose outcome is unknown
    # The resource as last seen, when the store keeps it (a key another vcctl just created).
    resource: dict[str, Any] | None = field(default=None, compare=False)
    # What the last apply set on the resource (field -> value), when the store keeps it; None
    # for a key no apply has set fields on yet (or a store from before it kept them).
    applied: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def qualified_key(self) -> str:
        return qualified_key(self.key, self.room_key)


@dataclass(frozen=True)
class Applied:
    """What an apply set on one resource, for its key's record: the managed fields as the API
    answered them (the file's value where the answer has none)."""

    kind: Kind
    key: str
    id: str
    fields: Mapping[str, Any]
    room_key: str | None = None
    room_id: str | None = None  # a participant's room id, when its room was just created
