"""Local checks of user input, shared by single commands and batch rows.

Each raises `UsageError` (exit 2) before anything is sent.
"""

from __future__ import annotations

import re
from typing import Any

from vcctl.errors import UsageError

# Matched with fullmatch: "$" would accept a trailing newline ("fr\n"), which the API refuses.
COLOR_PATTERN = re.compile(r"#[0-9A-Fa-f]{6}")
LANGUAGE_PATTERN = re.compile(r"[a-z]{2}")
# Lone surrogates stand for bytes that were not UTF-8 (an argument or a file row); they cannot
# be sent as JSON text.
UNDECODABLE = re.compile(r"[\ud800-\udfff]")

# How the user named each field: options on the command line, the API's names in batch files.
OPTION_LABELS = {
    "name": "--name",
    "color": "--color",
    "room_id": "--room",
    "username": "--username",
    "language": "--language",
}
FIELD_LABELS = {field: field for field in OPTION_LABELS}


def text(value: str, what: str) -> str:
    if UNDECODABLE.search(value):
        raise UsageError(f"{what} is not valid UTF-8 text")
    return value


def identifier(value: str, what: str) -> str:
    if not value or not value.strip():
        raise UsageError(f"{what} must not be empty")
    return text(value, what)


def name(value: str, what: str = "--name") -> str:
    if not value.strip():
        raise UsageError(f"{what} must not be empty")
    return text(value, what)


def color(value: str, what: str = "--color") -> str:
    if not COLOR_PATTERN.fullmatch(value):
        raise UsageError(f"invalid {what} {value!r}: expected '#RRGGBB', such as '#5f5f5f'")
    return value


def language(value: str, what: str = "--language") -> str:
    if not LANGUAGE_PATTERN.fullmatch(value):
        raise UsageError(f"invalid {what} {value!r}: expected two lowercase letters, such as 'fr'")
    return value


def room_fields(
    *,
    name_value: str | None,
    color_value: str | None,
    labels: dict[str, str] = OPTION_LABELS,
) -> dict[str, Any]:
    """The body of a room create or update, with only the fields given."""
    fields: dict[str, Any] = {}
    if name_value is not None:
        fields["name"] = name(name_value, labels["name"])
    if color_value is not None:
        fields["color"] = color(color_value, labels["color"])
    return fields


def participant_fields(
    *,
    room_id: str | None,
    username: str | None,
    language_value: str | None,
    video_and_audio_on: bool | None,
    labels: dict[str, str] = OPTION_LABELS,
) -> dict[str, Any]:
    """The body of a participant create or update, with only the fields given."""
    fields: dict[str, Any] = {}
    if room_id is not None:
        fields["room_id"] = identifier(room_id, labels["room_id"])
    if username is not None:
        fields["username"] = name(username, labels["username"])
    if language_value is not None:
        fields["language"] = language(language_value, labels["language"])
    if video_and_audio_on is not None:
        fields["video_and_audio_on"] = video_and_audio_on
    return fields
