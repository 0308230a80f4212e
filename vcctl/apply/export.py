"""Write a stack file for rooms that already exist, so a team can adopt them with apply.

Keys come from names (slugified, lower-case, made unique with -2, -3...), or stay what the stack
already records for that id. Only the fields a stack file manages are written, and only values
the file would accept, so applying the output changes nothing. The records to store come along.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import tomli_w

from vcctl.apply.desired import RESOURCE_OF, StackEntry, managed_fields
from vcctl.apply.stackfile import value_problem
from vcctl.resources import Kind
from vcctl.text import UNPRINTABLE, printable

_SLUG_LENGTH = 48


@dataclass(frozen=True)
class Export:
    text: str  # the TOML stack file
    records: tuple[StackEntry, ...]  # key -> id records to store, rooms then their participants
    warnings: tuple[str, ...]  # what was left out, and why (already escaped for a terminal)
    document: dict[str, Any]  # the stack as data, shaped like the TOML file (for CSV: stackcsv)


def slug(name: str, fallback: str) -> str:
    """A key from a name: ASCII lower-case letters and digits joined by '-'."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return text[:_SLUG_LENGTH].rstrip("-") or fallback


def unique_key(base: str, taken: set[str]) -> str:
    """`base`, or `base-2`, `base-3`... whichever is free; the result is added to `taken`."""
    key, number = base, 1
    while key in taken:
        number += 1
        key = f"{base}-{number}"
    taken.add(key)
    return key


def export_stack(
    rooms: Sequence[Mapping[str, Any]],
    *,
    stack: str | None,
    existing: Iterable[StackEntry] = (),
) -> Export:
    """A stack file describing `rooms` (room GET answers, with their `participants` lists).

    `existing`: the stack's current records; an id recorded there keeps its key, and new keys
    avoid the recorded ones.
    """
    existing = list(existing)
    room_keys = {r.id: r.key for r in existing if r.kind == "room" and r.id}
    taken_rooms = {r.key for r in existing if r.kind == "room"}
    document: dict[str, Any] = {} if stack is None else {"stack": stack}
    tables: dict[str, Any] = {}
    records: list[StackEntry] = []
    warnings: list[str] = []
    seen: set[str] = set()
    for room in rooms:
        room_id = room.get("id")
        if not isinstance(room_id, str) or not room_id or room_id in seen:
            continue
        seen.add(room_id)
        fields = _fields("room", room, room_id, warnings)
        if "name" not in fields:
            warnings.append(f"room {printable(room_id)} left out: it has no usable name")
            continue
        key = room_keys.get(room_id) or unique_key(slug(fields["name"], "room"), taken_rooms)
        taken_rooms.add(key)
        records.append(StackEntry("room", key, room_id))
        participants = _participants(room, key, existing, records, warnings)
        tables[key] = {**fields, **({"participants": participants} if participants else {})}
    document["rooms"] = tables
    header = "# Rooms and participants exported by vcctl apply --export.\n\n"
    text = header + toml_escaped(tomli_w.dumps(document))
    return Export(text, tuple(records), tuple(warnings), document)


def toml_escaped(text: str) -> str:
    """TOML from tomli_w with every character `printable` would escape written as a \\u escape
    (tomli_w writes only basic strings, where the escape means the same character), so that the
    file shows no bidi or zero-width character raw on a terminal and applies to the same values."""
    return UNPRINTABLE.sub(_toml_escape, text)


def _toml_escape(match: re.Match[str]) -> str:
    character = match.group()
    return character if character == "\n" else f"\\u{ord(character):04x}"  # lines stay lines


def _participants(
    room: Mapping[str, Any],
    room_key: str,
    existing: list[StackEntry],
    records: list[StackEntry],
    warnings: list[str],
) -> dict[str, Any]:
    known = {
        r.id: r.key for r in existing if r.kind == "participant" and r.room_key == room_key and r.id
    }
    taken = {r.key for r in existing if r.kind == "participant" and r.room_key == room_key}
    tables: dict[str, Any] = {}
    seen: set[str] = set()
    listed = room.get("participants")
    for participant in listed if isinstance(listed, list) else []:
        if not isinstance(participant, Mapping):
            continue
        participant_id = participant.get("id")
        if not isinstance(participant_id, str) or not participant_id or participant_id in seen:
            continue
        seen.add(participant_id)
        fields = _fields("participant", participant, participant_id, warnings)
        if "username" not in fields:
            warnings.append(
                f"participant {printable(participant_id)} left out: it has no usable username"
            )
            continue
        key = known.get(participant_id) or unique_key(
            slug(fields["username"], "participant"), taken
        )
        taken.add(key)
        records.append(StackEntry("participant", key, participant_id, room_key))
        tables[key] = fields
    return tables


def _fields(
    kind: Kind, resource: Mapping[str, Any], id: str, warnings: list[str]
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in managed_fields(kind):
        if name not in resource:
            continue
        problem = value_problem(RESOURCE_OF[kind].field(name), resource[name], name)
        if problem is None:
            fields[name] = resource[name]
        else:
            warnings.append(f"{kind} {printable(id)}: {name} left out: {printable(problem)}")
    return fields
