"""The Video Connect API, one method per documented call, over any `Transport`.

Paths are built here and nowhere else; ids always travel as one percent-encoded segment. The
Api sends through a `Transport`: the HTTP `vcctl.http.client.Client`, or a recorder such as the
planner of `--dry-run`, which answers with the request it would have sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

if TYPE_CHECKING:
    from vcctl.http.retry import CallKind
    from vcctl.resources import Noun

EVENTS = ("activate-video-and-audio", "desactivate-video-and-audio", "mute-all")
PARTICIPANT_EVENTS = frozenset({"activate-video-and-audio", "desactivate-video-and-audio"})


def segment(value: str) -> str:
    """One path segment: '/' and every reserved character encoded, and the dot-segments too,
    which URL normalisation (requests, proxies, servers) would otherwise resolve."""
    encoded = quote(value, safe="")
    if encoded in (".", ".."):
        encoded = encoded.replace(".", "%2E")
    return encoded


class Transport(Protocol):
    """Sends one API call and returns its parsed JSON answer (None for an allowed empty one).

    `kind` says what the call does, which decides whether it may be repeated after a failure.
    Failures are raised as `vcctl.errors.VcctlError`.
    """

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        kind: CallKind,
        empty_ok: bool = False,
    ) -> Any: ...


class Api:
    def __init__(self, transport: Transport, locale: str) -> None:
        self.transport = transport
        self.locale = locale

    def _localized(self, path: str) -> str:
        return f"/{self.locale}{path}" if self.locale else path

    def _room_path(self, room_id: str) -> str:
        return self._localized(f"/api/v1/rooms/{segment(room_id)}")

    def _participant_path(self, participant_id: str) -> str:
        return self._localized(f"/api/v1/participants/{segment(participant_id)}")

    def create(self, noun: Noun, fields: dict[str, Any]) -> Any:
        """Create one resource of the kind `noun` names (rooms, participants)."""
        return self.create_room(fields) if noun == "rooms" else self.create_participant(fields)

    # rooms
    def create_room(self, fields: dict[str, Any]) -> Any:
        return self.transport.request("POST", "/api/v1/rooms", body=fields, kind="create")

    def get_room(self, room_id: str) -> Any:
        return self.transport.request("GET", self._room_path(room_id), kind="read")

    def update_room(self, room_id: str, fields: dict[str, Any]) -> Any:
        return self.transport.request("POST", self._room_path(room_id), body=fields, kind="update")

    def delete_room(self, room_id: str) -> Any:
        return self.transport.request(
            "DELETE", self._room_path(room_id), kind="delete", empty_ok=True
        )

    # participants
    def create_participant(self, fields: dict[str, Any]) -> Any:
        return self.transport.request("POST", "/api/v1/participants", body=fields, kind="create")

    def get_participant(self, participant_id: str) -> Any:
        return self.transport.request("GET", self._participant_path(participant_id), kind="read")

    def update_participant(self, participant_id: str, fields: dict[str, Any]) -> Any:
        return self.transport.request(
            "POST", self._participant_path(participant_id), body=fields, kind="update"
        )

    def delete_participant(self, participant_id: str) -> Any:
        return self.transport.request(
            "DELETE", self._participant_path(participant_id), kind="delete", empty_ok=True
        )

    # events
    def send_event(self, event: str, room_id: str, participant_id: str | None = None) -> Any:
        body: dict[str, Any] = {"room_event": event, "room_id": room_id}
        if participant_id is not None:
            body["participant_id"] = participant_id
        return self.transport.request(
            "POST", self._localized("/api/v1/events"), body=body, kind="event", empty_ok=True
        )
