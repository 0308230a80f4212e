"""Local checks of user input, shared by single commands and batch rows.

Each check raises `UsageError` (exit 2) before anything is sent. Which check applies to a field
comes from its kind in `vcctl.resources`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from vcctl.errors import UsageError
from vcctl.text import printable

if TYPE_CHECKING:
    from vcctl.resources import Resource

# Matched with fullmatch: "$" would accept a trailing newline ("fr\n"), which the API refuses.
# People write colours as CSS does ('#fff', '#1E90FF') and languages in capitals ('EN'): those
# are accepted and sent in the API's one spelling, '#rrggbb' and lower case.
COLOR_PATTERN = re.compile(r"#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})")
LANGUAGE_PATTERN = re.compile(r"[A-Za-z]{2}")
# Lone surrogates stand for bytes that were not UTF-8 (an argument or a file row); they cannot
# be sent as JSON text.
UNDECODABLE = re.compile(r"[\ud800-\udfff]")
# C0 controls, DEL and C1 controls.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def text(value: str, what: str) -> str:
    """Text the user gives for a field: valid UTF-8, without control characters (NUL, ESC, tab,
    newline, DEL...), which would reach other people's terminals and break the API's lists."""
    if UNDECODABLE.search(value):
        raise UsageError(f"{what} is not valid UTF-8 text")
    control = CONTROL.search(value)
    if control:
        raise UsageError(
            f"{what} must not contain control characters (found {printable(control.group())})"
        )
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
    """The colour as the API spells it, '#rrggbb', from '#rrggbb', '#RRGGBB' or '#rgb'."""
    if not COLOR_PATTERN.fullmatch(value):
        raise UsageError(
            f"invalid {what} {value!r}: expected a colour such as '#1e90ff' (or '#fff')"
        )
    digits = value[1:].lower()
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    return "#" + digits


def language(value: str, what: str = "--language") -> str:
    """The language as the API spells it: two lower-case letters ('EN' gives 'en')."""
    # [A-Za-z] alone: str.isalpha and re's \w would let 'é' or 'ß' through.
    if not LANGUAGE_PATTERN.fullmatch(value):
        raise UsageError(f"invalid {what} {value!r}: expected a two-letter code such as 'fr'")
    return value.lower()


CHECKS = {"name": name, "identifier": identifier, "color": color, "language": language}


def body(
    resource: Resource, values: Mapping[str, Any], *, labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The body of a create or update of `resource`: the fields given (not None), each checked
    by its kind, in the order the resource sends them. Booleans pass as they are.

    Errors name each field by `labels` (field -> how the user wrote it: the API's name in a
    file), by default as the command line spells it (its option)."""
    fields: dict[str, Any] = {}
    for field in resource.fields:
        value = values.get(field.name)
        if value is None:
            continue
        if field.is_boolean:
            fields[field.name] = value
            continue
        label = labels[field.name] if labels is not None else field.option
        fields[field.name] = CHECKS[field.kind](value, label)
    return fields


def room_fields(
    *,
    name_value: str | None,
    color_value: str | None,
) -> dict[str, Any]:
    """The body of a room create or update from the command line, with only the fields given."""
    from vcctl.resources import ROOM

    return body(ROOM, {"name": name_value, "color": color_value})


def participant_fields(
    *,
    room_id: str | None,
    username: str | None,
    language_value: str | None,
    video_and_audio_on: bool | None,
) -> dict[str, Any]:
    """The body of a participant create or update from the command line, with only the fields
    given."""
    from vcctl.resources import PARTICIPANT

    values = {
        "room_id": room_id,
        "username": username,
        "language": language_value,
        "video_and_audio_on": video_and_audio_on,
    }
    return body(PARTICIPANT, values)
