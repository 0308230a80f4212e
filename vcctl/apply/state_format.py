"""The `--state` file's format: its versions and their migrations, and the checks that make a
file vcctl did not write (or a newer vcctl wrote) an error naming the field, never a traceback.

`parse` turns the file's text into its rooms table, each room with a `participants` table; the
file itself (lock, reads, atomic writes) is `vcctl.apply.state`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from vcctl.errors import UsageError


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 keeps, on an entry, the fields the last apply set on its resource (`applied`).
    A version 1 entry has none: its fields are never labelled as changed outside vcctl until
    an apply has set them."""
    return data


# STATE_MIGRATIONS[n - 1] takes a file's data from version n to n + 1, as the inventory's schema
# steps do; the file is written at the newest version, and a newer one is refused.
STATE_MIGRATIONS: tuple[Callable[[dict[str, Any]], dict[str, Any]], ...] = (_v1_to_v2,)
STATE_VERSION = 1 + len(STATE_MIGRATIONS)


class StateFileError(UsageError):
    """The state file cannot be used: reported with its path; it is left as it was."""


def parse(text: str, path: Path, stack: str | None) -> dict[str, Any]:
    """The rooms table of a state file's text, migrated to this version; StateFileError when it
    is not JSON, not a state file, or another stack's."""
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateFileError(
            f"state file {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}); it was left as it is"
        ) from None
    data = _migrated(data)
    problem = _shape_problem(data)
    if problem:
        raise StateFileError(f"state file {path} is not a vcctl state file: {problem}")
    if data["rooms"] and data.get("stack") != stack:
        raise StateFileError(
            f"state file {path} holds stack {data.get('stack')!r}, not {stack!r}",
            hint="give each stack its own state file",
        )
    return data["rooms"]  # type: ignore[no-any-return]


def _shape_problem(data: Any) -> str | None:
    """What makes `data` not a state file, naming the field (`rooms.board.id`), or None."""
    if not isinstance(data, dict):
        return "expected a JSON object"
    if data.get("version") != STATE_VERSION:
        return f"version {data.get('version')!r} (this vcctl reads up to version {STATE_VERSION})"
    if not isinstance(data.get("stack"), str | None):
        return "'stack' is not a string"
    rooms = data.get("rooms")
    if not isinstance(rooms, dict):
        return "'rooms' is not an object"
    for key, room in rooms.items():
        problem = _entry_problem(f"rooms.{key}", key, room)
        if problem:
            return problem
        participants = room.setdefault("participants", {})
        if not isinstance(participants, dict):
            return f"rooms.{key}.participants is not an object"
        for participant_key, participant in participants.items():
            where = f"rooms.{key}.participants.{participant_key}"
            problem = _entry_problem(where, participant_key, participant)
            if problem:
                return problem
    return None


def _migrated(data: Any) -> Any:
    """A file of an older version, brought up to this one (anything else as it is)."""
    version = data.get("version") if isinstance(data, dict) else None
    if type(version) is not int or not 1 <= version < STATE_VERSION:
        return data
    for step in STATE_MIGRATIONS[version - 1 :]:
        data = step(data)
    return {**data, "version": STATE_VERSION}


def _entry_problem(where: str, key: str, entry: Any) -> str | None:
    if not key or not printable_key(key):
        return f"{where} is not a record: the key must be non-empty printable text"
    if not isinstance(entry, dict):
        return f"{where} is not a record: expected an object"
    id = entry.get("id")
    if id is not None and (not isinstance(id, str) or not id or not printable_key(id)):
        return (
            f"{where} is not a record: {where}.id: expected a non-empty id or null, "
            f"got {json.dumps(id)[:40]}"
        )
    since = entry.get("unknown_since")
    if since is not None and (not isinstance(since, str) or not _is_iso(since)):
        return f"{where} is not a record: {where}.unknown_since: expected an ISO time or null"
    if id is None and since is None:
        return f"{where} is not a record: it needs an id or unknown_since"
    if not isinstance(entry.get("applied", {}), dict):
        return f"{where} is not a record: {where}.applied: expected an object"
    return None


def printable_key(text: str) -> bool:
    return text.isprintable()


def _is_iso(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
