"""The API's field rules: what a request body may hold, and the messages when it does not.

Pure functions from decoded JSON to the changes to make; ApiRefusal(400) lists every problem of a
body at once, as the API does.
"""

from __future__ import annotations

import json
import re
from typing import Any

from vcctl.emulator.answers import ApiRefusal

DEFAULT_COLOR = "#5f5f5f"
DEFAULT_LANGUAGE = "fr"
ROOM_EVENTS = ("activate-video-and-audio", "desactivate-video-and-audio", "mute-all")

_COLOR_RE = re.compile(r"#[0-9A-Fa-f]{6}")
_LANGUAGE_RE = re.compile(r"[a-z]{2}")


def show(value: object) -> str:
    """A JSON value as the client wrote it, for error messages."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_object(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """The JSON object a POST carries (`headers` with lower-case names); ApiRefusal(400) if none."""
    content_type = headers.get("content-type")
    if content_type is not None:
        media = content_type.split(";", 1)[0].strip().lower()
        # A form-encoded body is the classic client bug (`data=` instead of `json=`); the real
        # API would not see any parameter in it, so say so instead of guessing.
        if media != "application/json" and not media.endswith("+json"):
            raise ApiRefusal(400, f"Content-Type must be application/json, not {media!r}")
    if not body.strip():
        raise ApiRefusal(400, "Request body must be a JSON object, and it is empty")
    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError as exc:
        raise ApiRefusal(400, f"Request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiRefusal(400, f"Request body must be a JSON object, not {type(data).__name__}")
    return data


def is_text(value: object) -> bool:
    """A string with something in it besides spaces."""
    return isinstance(value, str) and bool(value.strip())


def room_changes(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """The room fields a create (`creating`: name required) or an update sets."""
    changes: dict[str, Any] = {}
    problems: list[str] = []
    if "name" in data:
        if is_text(data["name"]):
            changes["name"] = data["name"]
        else:
            problems.append(f"name must be a non-empty string, not {show(data['name'])}")
    elif creating:
        problems.append("name is required")
    if "color" in data:
        color = data["color"]
        if isinstance(color, str) and _COLOR_RE.fullmatch(color):
            changes["color"] = color
        else:
            problems.append(f"color must be a hex color like '#5f5f5f', not {show(color)}")
    if problems:
        raise ApiRefusal(400, "; ".join(problems))
    return changes


def participant_changes(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """The participant fields a create (room_id and username required) or an update sets."""
    changes: dict[str, Any] = {}
    problems: list[str] = []
    if "room_id" in data:
        if is_text(data["room_id"]):
            changes["room_id"] = data["room_id"]
        else:
            problems.append(f"room_id must be a room id, not {show(data['room_id'])}")
    elif creating:
        problems.append("room_id is required")
    if "username" in data:
        if is_text(data["username"]):
            changes["username"] = data["username"]
        else:
            problems.append(f"username must be a non-empty string, not {show(data['username'])}")
    elif creating:
        problems.append("username is required")
    if "language" in data:
        language = data["language"]
        if isinstance(language, str) and _LANGUAGE_RE.fullmatch(language):
            changes["language"] = language
        else:
            problems.append(
                f"language must be two lowercase letters like 'fr', not {show(language)}"
            )
    if "video_and_audio_on" in data:
        if isinstance(data["video_and_audio_on"], bool):
            changes["video_and_audio_on"] = data["video_and_audio_on"]
        else:
            problems.append(
                f"video_and_audio_on must be true or false, not {show(data['video_and_audio_on'])}"
            )
    if problems:
        raise ApiRefusal(400, "; ".join(problems))
    return changes


def event_fields(data: dict[str, Any]) -> tuple[str, str, str | None]:
    """(room_event, room_id, participant_id or None) of an event body; ApiRefusal(400) if invalid.

    `activate-video-and-audio` and `desactivate-video-and-audio` (the API's spelling) need a
    participant; `mute-all` concerns the whole room.
    """
    problems: list[str] = []
    room_event = data.get("room_event")
    if "room_event" not in data:
        problems.append(f"room_event is required (one of {', '.join(ROOM_EVENTS)})")
    elif room_event not in ROOM_EVENTS:
        problems.append(
            f"room_event must be one of {', '.join(ROOM_EVENTS)}, not {show(room_event)}"
        )
    room_id = data.get("room_id")
    if "room_id" not in data:
        problems.append("room_id is required")
    elif not is_text(room_id):
        problems.append(f"room_id must be a room id, not {show(room_id)}")
    participant_id = data.get("participant_id")
    if participant_id is not None and not is_text(participant_id):
        problems.append(f"participant_id must be a participant id, not {show(participant_id)}")
    elif participant_id is None and room_event in ROOM_EVENTS[:2]:
        problems.append(f"participant_id is required for {room_event}")
    if problems:
        raise ApiRefusal(400, "; ".join(problems))
    return str(room_event), str(room_id), participant_id
