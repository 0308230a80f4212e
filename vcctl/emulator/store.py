"""The Video Connect API's behaviour as a pure, thread-safe store: no socket, no clock but dates.

`ApiStore.handle(method, raw_path, headers, body)` routes a request (see `routes.ROUTES`),
checks the credentials, applies the API's rules to the rooms and participants it holds, and
returns the `Answer` the API would send. Unknown paths and wrong methods answer 404 before
credentials are checked; then missing or wrong `apiKey` / `apiToken` headers answer 401.
Successful calls answer 200 with JSON; errors answer `{"error": "<message>"}` with 400 (invalid
body or field), 402 (participant not in that room) or 404 (unknown endpoint or id).
"""

from __future__ import annotations

import hmac
import random
import string
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from vcctl.emulator.answers import Answer, ApiRefusal, error_answer, json_answer
from vcctl.emulator.routes import route
from vcctl.emulator.rules import (
    DEFAULT_COLOR,
    DEFAULT_LANGUAGE,
    event_fields,
    parse_object,
    participant_changes,
    room_changes,
)

_ID_ALPHABET = string.ascii_letters + string.digits
_ID_LENGTH = 6

Resource = dict[str, Any]


def now_iso() -> str:
    """Now in the API's format, with microseconds and offset: 2021-04-17T13:10:13.539229-04:00."""
    return datetime.now().astimezone().isoformat(timespec="microseconds")


class ApiStore:
    """Rooms and participants in memory, changed only through the API's operations."""

    def __init__(self, api_key: str, api_token: str, seed: int | None = None) -> None:
        self.api_key = api_key
        self.api_token = api_token
        # One lock for all the state: every operation on it is tiny, and one lock cannot deadlock.
        self._lock = threading.Lock()
        self._rooms: dict[str, Resource] = {}
        self._participants: dict[str, Resource] = {}
        self._id_rng: random.Random = random.Random()
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        """No rooms or participants; ids restart from `seed`'s sequence (random without one)."""
        with self._lock:
            self._rooms.clear()
            self._participants.clear()
            # Seeded, a script sees the same ids on every run.
            self._id_rng = random.SystemRandom() if seed is None else random.Random(f"ids:{seed}")

    def state(self) -> dict[str, list[Resource]]:
        """{"rooms": [...], "participants": [...]}, in creation order (copies)."""
        with self._lock:
            return {
                "rooms": [dict(room) for room in self._rooms.values()],
                "participants": [dict(p) for p in self._participants.values()],
            }

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Answer:
        """The API's answer to one request; `headers` has lower-case names."""
        try:
            found, item_id = route(method, raw_path)
            if not self.authorized(headers):
                raise ApiRefusal(401, "Invalid API key or token")
            data = parse_object(headers, body) if method == "POST" else {}
            operation: Callable[[str | None, dict[str, Any]], Resource] = getattr(
                self, found.operation
            )
            with self._lock:
                payload = operation(item_id, data)
        except ApiRefusal as exc:
            return error_answer(exc.status, exc.message)
        return json_answer(200, payload)

    def authorized(self, headers: dict[str, str]) -> bool:
        """Whether the `apikey` and `apitoken` headers are the emulator's credentials."""
        key = headers.get("apikey")
        token = headers.get("apitoken")
        if key is None or token is None:
            return False
        # Both comparisons always run, in constant time: an emulator teaches by example.
        key_ok = hmac.compare_digest(key.encode(), self.api_key.encode())
        token_ok = hmac.compare_digest(token.encode(), self.api_token.encode())
        return key_ok and token_ok

    # -- operations, one per route (called with the lock held) --------------------------------

    def create_room(self, item_id: str | None, data: dict[str, Any]) -> Resource:
        changes = room_changes(data, creating=True)
        room = {
            "id": self._new_id(),
            "name": changes["name"],
            "color": changes.get("color", DEFAULT_COLOR),
            "created_at": now_iso(),
        }
        self._rooms[room["id"]] = room
        return dict(room)

    def get_room(self, item_id: str | None, data: dict[str, Any]) -> Resource:
        room = self._room(item_id)
        members = [dict(p) for p in self._participants.values() if p["room_id"] == item_id]
        return {**room, "participants": members}

    def update_room(self, item_id: str | None, data: dict[str, Any]) -> Resource:
        room = self._room(item_id)
        room.update(room_changes(data, creating=False))
        return dict(room)

    def delete_room(self, item_id: str | None, data: dict[str, Any]) -> Resource:
        room = self._room(item_id)
        del self._rooms[room["id"]]
        for participant_id in [
            pid for pid, p in self._participants.items() if p["room_id"] == item_id
        ]:
            del self._participants[participant_id]
        return dict(room)

    def create_participant(self, item_id: str | None, data: dict[str, Any]) -> Resource:
        changes = participant_changes(data, creating=True)
        self._room(changes["room_id"])
        participant = {
            "id": self._new_id(),
            "room_id": changes["room_id"],
            "username": changes["username"],
            "video_and_audio_on": changes.get("video_and_audio_on", True),
            "language": changes.get("language", DEFAULT_LANGUAGE),
            "created_at": now_iso(),
        }
        self._participants[participant["id"]] = participant
        return dict(participant)

    def get_participant(self, item_id: str | None, data: dict[str, Any]) -> Resource:
        return dict(self._participant(item_id))

    def update_participant(self, item_id: str | None, data: dict[str, Any]) -> Resource:
        participant = self._participant(item_id)
        changes = participant_changes(data, creating=False)
        if "room_id" in changes:
            self._room(changes["room_id"])
        participant.update(changes)
        return dict(participant)

    def delete_participant(self, item_id: str | None, data: dict[str, Any]) -> Resource:
        participant = self._participant(item_id)
        del self._participants[participant["id"]]
        return dict(participant)

    def send_event(self, item_id: str | None, data: dict[str, Any]) -> Resource:
        room_event, room_id, participant_id = event_fields(data)
        self._room(room_id)
        if room_event == "mute-all":
            for participant in self._participants.values():
                if participant["room_id"] == room_id:
                    participant["video_and_audio_on"] = False
        else:
            target = self._participant(participant_id)  # present: event_fields checked
            if target["room_id"] != room_id:
                raise ApiRefusal(402, "Participant is not in this room")
            target["video_and_audio_on"] = room_event == "activate-video-and-audio"
        answer = {"room_event": room_event, "room_id": room_id}
        if participant_id is not None:
            answer["participant_id"] = participant_id
        return answer

    # -- helpers ------------------------------------------------------------------------------

    def _room(self, room_id: str | None) -> Resource:
        room = self._rooms.get(room_id or "")
        if room is None or room_id is None:
            raise ApiRefusal(404, "Room not found")
        return room

    def _participant(self, participant_id: str | None) -> Resource:
        participant = self._participants.get(participant_id or "")
        if participant is None or participant_id is None:
            raise ApiRefusal(404, "Participant not found")
        return participant

    def _new_id(self) -> str:
        while True:
            candidate = "".join(self._id_rng.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))
            if candidate not in self._rooms and candidate not in self._participants:
                return candidate
