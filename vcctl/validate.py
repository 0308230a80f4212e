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


def identifier(value: str, what: str) -> str:
    if not value or not value.strip():
        raise UsageError(f"{what} must not be empty")
    return value


def name(value: str, what: str = "--name") -> str:
    if not value.strip():
        raise UsageError(f"{what} must not be empty")
    return value


def color(value: str) -> str:
    if not COLOR_PATTERN.fullmatch(value):
        raise UsageError(f"invalid color {value!r}: expected '#RRGGBB', such as '#5f5f5f'")
    return value


def language(value: str) -> str:
    if not LANGUAGE_PATTERN.fullmatch(value):
        raise UsageError(
            f"invalid language {value!r}: expected two lowercase letters, such as 'fr'"
        )
    return value


def room_fields(*, name_value: str | None, color_value: str | None) -> dict[str, Any]:
    """The body of a room create or update, with only the fields given."""
    fields: dict[str, Any] = {}
    if name_value is not None:
        fields["name"] = name(name_value)
    if color_value is not None:
        fields["color"] = color(color_value)
    return fields


def participant_fields(
    *,
    room_id: str | None,
    username: str | None,
    language_value: str | None,
    video_and_audio_on: bool | None,
) -> dict[str, Any]:
    """The body of a participant create or update, with only the fields given."""
    fields: dict[str, Any] = {}
    if room_id is not None:
        fields["room_id"] = identifier(room_id, "--room")
    if username is not None:
        fields["username"] = name(username, "--username")
    if language_value is not None:
        fields["language"] = language(language_value)
    if video_and_audio_on is not None:
        fields["video_and_audio_on"] = video_and_audio_on
    return fields
