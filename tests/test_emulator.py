"""The Video Connect API emulator on its own, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from vcctl.emulator.server import Emulator, EmulatorConfig, Fault

ID_RE = re.compile(r"[A-Za-z0-9]{6}")
CREATED_AT_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d")
SERVER_ERRORS = {500, 502, 503, 504}


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)

    @property
    def error(self) -> str:
        message = self.json["error"]
        assert isinstance(message, str)
        return message


def _address(emu: Emulator) -> tuple[str, int]:
    parts = urlsplit(emu.base_url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


def _auth(emu: Emulator) -> dict[str, str]:
    return {"apiKey": emu.config.api_key, "apiToken": emu.config.api_token}


def call(
    emu: Emulator,
    method: str,
    path: str,
    body: object = None,
    *,
    auth: bool = True,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    timeout: float = 5.0,
) -> Reply:
    """One request on a fresh connection; `raw` sends bytes as they are."""
    conn = http.client.HTTPConnection(*_address(emu), timeout=timeout)
    try:
        sent = _auth(emu) if auth else {}
        payload = raw
        if payload is None and body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        conn.request(method, path, body=payload, headers=sent)
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


def create_room(emu: Emulator, name: str = "Room", **fields: Any) -> dict[str, Any]:
    reply = call(emu, "POST", "/api/v1/rooms", {"name": name, **fields})
    assert reply.status == 200, reply.raw
    room: dict[str, Any] = reply.json
    return room


def create_participant(
    emu: Emulator, room_id: str, username: str = "John Doe", **fields: Any
) -> dict[str, Any]:
    body = {"room_id": room_id, "username": username, **fields}
    reply = call(emu, "POST", "/api/v1/participants", body)
    assert reply.status == 200, reply.raw
    participant: dict[str, Any] = reply.json
    return participant


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def make_emu() -> Iterator[Callable[..., Emulator]]:
    started: list[Emulator] = []

    def make(**settings: Any) -> Emulator:
        emulator = Emulator(EmulatorConfig(**settings)).start()
        started.append(emulator)
        return emulator

    yield make
    for emulator in started:
        emulator.shutdown()


# -- rooms ----------------------------------------------------------------------------------


def test_create_room_answers_the_api_shape(emu: Emulator) -> None:
    reply = call(emu, "POST", "/api/v1/rooms", {"name": "My first room"})
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    room = reply.json
    assert set(room) == {"id", "name", "color", "created_at"}
    assert ID_RE.fullmatch(room["id"])
    assert room["name"] == "My first room"
    assert room["color"] == "#5f5f5f"
    assert CREATED_AT_RE.fullmatch(room["created_at"])
    assert emu.state()["rooms"] == [room]


def test_create_room_ignores_a_client_supplied_id(emu: Emulator) -> None:
    room = create_room(emu, "x", id="aVZOke", color="#ABCdef")
    assert room["id"] != "aVZOke"
    assert room["color"] == "#ABCdef"


@pytest.mark.parametrize("prefix", ["", "/fr", "/en", "/de", "/en-US"])
def test_room_get_update_delete_with_and_without_locale(emu: Emulator, prefix: str) -> None:
    room = create_room(emu, "Before")
    path = f"{prefix}/api/v1/rooms/{room['id']}"

    got = call(emu, "GET", path)
    assert got.status == 200
    assert got.json == {**room, "participants": []}

    updated = call(emu, "POST", path, {"color": "#000000"})
    assert updated.status == 200
    assert updated.json == {**room, "color": "#000000"}  # name untouched, no participants

    deleted = call(emu, "DELETE", path)
    assert deleted.status == 200
    assert deleted.json == {**room, "color": "#000000"}
    assert call(emu, "GET", path).status == 404


@pytest.mark.parametrize("prefix", ["/fr", "/en-US"])
def test_create_calls_accept_a_locale_prefix(emu: Emulator, prefix: str) -> None:
    room = call(emu, "POST", f"{prefix}/api/v1/rooms", {"name": "r"})
    assert room.status == 200
    body = {"room_id": room.json["id"], "username": "u"}
    assert call(emu, "POST", f"{prefix}/api/v1/participants", body).status == 200


def test_update_room_changes_only_the_fields_given(emu: Emulator) -> None:
    room = create_room(emu, "Old", color="#111111")
    reply = call(emu, "POST", f"/api/v1/rooms/{room['id']}", {"name": "New"})
    assert reply.json == {**room, "name": "New"}
    assert emu.state()["rooms"] == [{**room, "name": "New"}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name is required"),
        ({"name": ""}, "name must be"),
        ({"name": "   "}, "name must be"),
        ({"name": 5}, "name must be"),
        ({"name": None}, "name must be"),
        ({"name": "x", "color": "red"}, "color must be"),
        ({"name": "x", "color": "#12345"}, "color must be"),
        ({"name": "x", "color": "#GGGGGG"}, "color must be"),
        ({"name": "x", "color": 5}, "color must be"),
    ],
)
def test_create_room_validation(emu: Emulator, body: dict[str, Any], field: str) -> None:
    reply = call(emu, "POST", "/api/v1/rooms", body)
    assert reply.status == 400
    assert field in reply.error
    assert emu.state()["rooms"] == []


@pytest.mark.parametrize("body", [{"name": ""}, {"color": "blue"}, {"name": "ok", "color": "#1"}])
def test_update_room_validation_changes_nothing(emu: Emulator, body: dict[str, Any]) -> None:
    room = create_room(emu)
    assert call(emu, "POST", f"/api/v1/rooms/{room['id']}", body).status == 400
    assert emu.state()["rooms"] == [room]


@pytest.mark.parametrize(
    ("raw", "content_type", "message"),
    [
        (b"not json", "application/json", "not valid JSON"),
        (b"[1, 2]", "application/json", "must be a JSON object"),
        (b'"name"', "application/json", "must be a JSON object"),
        (b"", "application/json", "must be a JSON object"),
        (b"\xff\xfe", "application/json", "not valid JSON"),
        (b"name=x", "application/x-www-form-urlencoded", "Content-Type"),
    ],
)
def test_body_must_be_a_json_object(
    emu: Emulator, raw: bytes, content_type: str, message: str
) -> None:
    reply = call(emu, "POST", "/api/v1/rooms", raw=raw, headers={"Content-Type": content_type})
    assert reply.status == 400
    assert message in reply.error


def test_json_body_without_content_type_is_accepted(emu: Emulator) -> None:
    assert call(emu, "POST", "/api/v1/rooms", raw=b'{"name": "x"}').status == 200


def test_unknown_room_is_404(emu: Emulator) -> None:
    for method in ("GET", "POST", "DELETE"):
        reply = call(emu, method, "/fr/api/v1/rooms/nope42", {"name": "x"})
        assert reply.status == 404
        assert reply.json == {"error": "Room not found"}


# -- participants ---------------------------------------------------------------------------


def test_create_participant_defaults(emu: Emulator) -> None:
    room = create_room(emu)
    participant = create_participant(emu, room["id"], "John Doe")
    assert set(participant) == {
        "id",
        "room_id",
        "username",
        "video_and_audio_on",
        "language",
        "created_at",
    }
    assert ID_RE.fullmatch(participant["id"])
    assert participant["room_id"] == room["id"]
    assert participant["username"] == "John Doe"
    assert participant["video_and_audio_on"] is True
    assert participant["language"] == "fr"
    assert CREATED_AT_RE.fullmatch(participant["created_at"])


def test_create_participant_with_every_field(emu: Emulator) -> None:
    room = create_room(emu)
    participant = create_participant(emu, room["id"], language="en", video_and_audio_on=False)
    assert participant["language"] == "en"
    assert participant["video_and_audio_on"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "u"}, "room_id is required"),
        ({"room_id": 3, "username": "u"}, "room_id must be"),
        ({"room_id": "ROOM"}, "username is required"),
        ({"room_id": "ROOM", "username": ""}, "username must be"),
        ({"room_id": "ROOM", "username": ["u"]}, "username must be"),
        ({"room_id": "ROOM", "username": "u", "language": "FR"}, "language must be"),
        ({"room_id": "ROOM", "username": "u", "language": "fra"}, "language must be"),
        ({"room_id": "ROOM", "username": "u", "language": 1}, "language must be"),
        ({"room_id": "ROOM", "username": "u", "video_and_audio_on": "yes"}, "video_and_audio_on"),
        ({"room_id": "ROOM", "username": "u", "video_and_audio_on": 1}, "video_and_audio_on"),
    ],
)
def test_create_participant_validation(emu: Emulator, body: dict[str, Any], field: str) -> None:
    room = create_room(emu)
    if body.get("room_id") == "ROOM":
        body = {**body, "room_id": room["id"]}
    reply = call(emu, "POST", "/api/v1/participants", body)
    assert reply.status == 400
    assert field in reply.error
    assert emu.state()["participants"] == []


def test_create_participant_in_unknown_room_is_404(emu: Emulator) -> None:
    reply = call(emu, "POST", "/api/v1/participants", {"room_id": "nope42", "username": "u"})
    assert reply.status == 404
    assert reply.json == {"error": "Room not found"}


@pytest.mark.parametrize("prefix", ["", "/fr", "/pt-BR"])
def test_participant_get_update_delete(emu: Emulator, prefix: str) -> None:
    room, other = create_room(emu, "a"), create_room(emu, "b")
    participant = create_participant(emu, room["id"])
    path = f"{prefix}/api/v1/participants/{participant['id']}"

    assert call(emu, "GET", path).json == participant

    changes = {"room_id": other["id"], "language": "de", "video_and_audio_on": False}
    updated = call(emu, "POST", path, changes)
    assert updated.status == 200
    assert updated.json == {**participant, **changes}  # username untouched

    deleted = call(emu, "DELETE", path)
    assert deleted.json == {**participant, **changes}
    assert call(emu, "GET", path).json == {"error": "Participant not found"}
    assert emu.state()["participants"] == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"room_id": "nope42"}, 404),
        ({"room_id": 7}, 400),
        ({"username": " "}, 400),
        ({"language": "EN"}, 400),
        ({"video_and_audio_on": None}, 400),
    ],
)
def test_update_participant_validation(emu: Emulator, body: dict[str, Any], status: int) -> None:
    participant = create_participant(emu, create_room(emu)["id"])
    assert call(emu, "POST", f"/api/v1/participants/{participant['id']}", body).status == status
    assert emu.state()["participants"] == [participant]


def test_unknown_participant_is_404(emu: Emulator) -> None:
    for method in ("GET", "POST", "DELETE"):
        reply = call(emu, method, "/api/v1/participants/nope42", {"username": "x"})
        assert reply.status == 404
        assert reply.json == {"error": "Participant not found"}


def test_room_get_lists_its_participants_in_creation_order(emu: Emulator) -> None:
    room, other = create_room(emu, "a"), create_room(emu, "b")
    first = create_participant(emu, room["id"], "first")
    create_participant(emu, other["id"], "elsewhere")
    second = create_participant(emu, room["id"], "second", language="en")
    reply = call(emu, "GET", f"/fr/api/v1/rooms/{room['id']}")
    assert reply.json["participants"] == [first, second]


def test_delete_room_deletes_its_participants(emu: Emulator) -> None:
    room, other = create_room(emu, "a"), create_room(emu, "b")
    gone = create_participant(emu, room["id"])
    kept = create_participant(emu, other["id"])
    reply = call(emu, "DELETE", f"/api/v1/rooms/{room['id']}")
    assert reply.json == room
    assert call(emu, "GET", f"/api/v1/participants/{gone['id']}").status == 404
    assert emu.state() == {"rooms": [other], "participants": [kept]}


# -- events ---------------------------------------------------------------------------------


def _video(emu: Emulator, participant_id: str) -> bool:
    on = call(emu, "GET", f"/api/v1/participants/{participant_id}").json["video_and_audio_on"]
    assert isinstance(on, bool)
    return on


@pytest.mark.parametrize("prefix", ["", "/fr"])
def test_events_switch_video_and_audio(emu: Emulator, prefix: str) -> None:
    room = create_room(emu)
    participant = create_participant(emu, room["id"], video_and_audio_on=False)
    path = f"{prefix}/api/v1/events"
    body = {"room_id": room["id"], "participant_id": participant["id"]}

    reply = call(emu, "POST", path, {"room_event": "activate-video-and-audio", **body})
    assert reply.status == 200
    assert reply.json == {"room_event": "activate-video-and-audio", **body}
    assert _video(emu, participant["id"]) is True

    reply = call(emu, "POST", path, {"room_event": "desactivate-video-and-audio", **body})
    assert reply.json == {"room_event": "desactivate-video-and-audio", **body}
    assert _video(emu, participant["id"]) is False


def test_mute_all_turns_off_only_that_room(emu: Emulator) -> None:
    room, other = create_room(emu, "a"), create_room(emu, "b")
    muted = [create_participant(emu, room["id"], name) for name in ("x", "y")]
    spared = create_participant(emu, other["id"])
    reply = call(emu, "POST", "/api/v1/events", {"room_event": "mute-all", "room_id": room["id"]})
    assert reply.status == 200
    assert reply.json == {"room_event": "mute-all", "room_id": room["id"]}
    assert [_video(emu, p["id"]) for p in muted] == [False, False]
    assert _video(emu, spared["id"]) is True


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"room_id": "ROOM"}, 400, "room_event is required"),
        ({"room_event": "deactivate-video-and-audio", "room_id": "ROOM", "participant_id": "P"},
         400, "room_event must be one of"),
        ({"room_event": "mute-all"}, 400, "room_id is required"),
        ({"room_event": "activate-video-and-audio", "room_id": "ROOM"}, 400, "participant_id"),
        ({"room_event": "desactivate-video-and-audio", "room_id": "ROOM"}, 400, "participant_id"),
        ({"room_event": "mute-all", "room_id": "nope42"}, 404, "Room not found"),
        ({"room_event": "activate-video-and-audio", "room_id": "ROOM", "participant_id": "nope42"},
         404, "Participant not found"),
        ({"room_event": "activate-video-and-audio", "room_id": "ROOM", "participant_id": "OTHER"},
         402, "Participant is not in this room"),
    ],
)  # fmt: skip
def test_event_errors(emu: Emulator, body: dict[str, Any], status: int, message: str) -> None:
    room, other = create_room(emu, "a"), create_room(emu, "b")
    mine = create_participant(emu, room["id"], video_and_audio_on=False)
    theirs = create_participant(emu, other["id"], video_and_audio_on=False)
    ids = {"ROOM": room["id"], "P": mine["id"], "OTHER": theirs["id"]}
    body = {key: ids.get(value, value) for key, value in body.items()}
    reply = call(emu, "POST", "/api/v1/events", body)
    assert reply.status == status
    assert message in reply.error
    assert not any(p["video_and_audio_on"] for p in emu.state()["participants"])


# -- routing, auth, encoding ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/api/v1/rooms"),
        ("DELETE", "/api/v1/rooms"),
        ("PUT", "/api/v1/rooms/abc123"),
        ("PATCH", "/api/v1/participants/abc123"),
        ("GET", "/api/v1/events"),
        ("POST", "/api/v1/events/abc123"),
        ("POST", "/api/v2/rooms"),
        ("POST", "/api/v1/meetings"),
        ("POST", "/FR/api/v1/rooms"),
        ("POST", "/fra/api/v1/rooms"),
        ("POST", "/fr/fr/api/v1/rooms"),
        ("POST", "//api/v1/rooms"),
        ("GET", "/api/v1/rooms/abc123/participants"),
        ("POST", "/api%2Fv1/rooms"),
    ],
)
def test_unknown_endpoint_or_method_is_404_before_auth(
    emu: Emulator, method: str, path: str
) -> None:
    for auth in (True, False):
        reply = call(emu, method, path, {"name": "x"}, auth=auth)
        assert reply.status == 404
        assert reply.json == {"error": "Not found"}
    assert emu.state()["rooms"] == []


def test_head_is_404_without_a_body(emu: Emulator) -> None:
    reply = call(emu, "HEAD", "/api/v1/rooms/abc123")
    assert reply.status == 404
    assert reply.raw == b""


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"apiKey": "emulator-api-key"},
        {"apiToken": "emulator-api-token"},
        {"apiKey": "wrong", "apiToken": "emulator-api-token"},
        {"apiKey": "emulator-api-key", "apiToken": "wrong"},
        {"apiKey": "", "apiToken": ""},
    ],
)
def test_bad_credentials_are_401(emu: Emulator, headers: dict[str, str]) -> None:
    reply = call(emu, "POST", "/api/v1/rooms", {"name": "x"}, auth=False, headers=headers)
    assert reply.status == 401
    assert reply.json == {"error": "Invalid API key or token"}
    assert emu.state()["rooms"] == []


def test_header_names_are_case_insensitive(emu: Emulator) -> None:
    headers = {"APIKEY": emu.config.api_key, "apitoken": emu.config.api_token}
    assert (
        call(emu, "POST", "/api/v1/rooms", {"name": "x"}, auth=False, headers=headers).status == 200
    )


def test_custom_credentials(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu(api_key="k", api_token="t")
    assert call(emu, "POST", "/api/v1/rooms", {"name": "x"}).status == 200
    defaults = {"apiKey": "emulator-api-key", "apiToken": "emulator-api-token"}
    reply = call(emu, "POST", "/api/v1/rooms", {"name": "x"}, auth=False, headers=defaults)
    assert reply.status == 401


def test_id_segment_is_percent_decoded_on_its_own(emu: Emulator) -> None:
    room = create_room(emu)
    every_char_encoded = "".join(f"%{ord(c):02X}" for c in room["id"])
    assert call(emu, "GET", f"/api/v1/rooms/{every_char_encoded}").json["id"] == room["id"]
    assert call(emu, "GET", f"/api/v1/rooms/{room['id']}?locale=en").status == 200

    for path in (
        "/api/v1/rooms/a%2Fb",
        f"/api/v1/rooms/{room['id']}%2F",
        f"/api/v1/rooms/x%2F..%2F{room['id']}",
        f"/api/v1/rooms/{quote('../' + room['id'], safe='')}",
    ):
        reply = call(emu, "GET", path)
        assert reply.status == 404, path
        assert reply.json == {"error": "Room not found"}


def test_ids_are_unique_under_concurrency(emu: Emulator) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        rooms = list(pool.map(lambda i: create_room(emu, f"r{i}"), range(64)))
    assert len({room["id"] for room in rooms}) == 64
    assert len(emu.state()["rooms"]) == 64


def test_keep_alive_serves_two_requests_on_one_connection(emu: Emulator) -> None:
    conn = http.client.HTTPConnection(*_address(emu), timeout=5)
    try:
        headers = {**_auth(emu), "Content-Type": "application/json"}
        conn.request("POST", "/api/v1/rooms", body=b'{"name": "one"}', headers=headers)
        first = conn.getresponse()
        room = json.loads(first.read())
        assert first.version == 11
        assert first.getheader("Connection") is None
        assert first.getheader("Content-Length") is not None
        sock = conn.sock
        assert sock is not None

        conn.request("GET", f"/fr/api/v1/rooms/{room['id']}", headers=_auth(emu))
        second = conn.getresponse()
        assert json.loads(second.read())["name"] == "one"
        assert conn.sock is sock  # http.client reconnects silently if the server had closed
    finally:
        conn.close()
    assert [r.answered for r in emu.recorded()] == [200, 200]


# -- recording ------------------------------------------------------------------------------


def test_requests_are_recorded_as_received(emu: Emulator) -> None:
    call(emu, "POST", "/fr/api/v1/rooms?x=1", {"name": "r"})
    call(emu, "GET", "/api/v1/rooms/a%2Fb")
    call(emu, "GET", "/api/v1/rooms/x", auth=False)
    call(emu, "GET", "/_emulator/state")
    records = emu.recorded()
    assert [(r.method, r.path, r.answered) for r in records] == [
        ("POST", "/fr/api/v1/rooms?x=1", 200),
        ("GET", "/api/v1/rooms/a%2Fb", 404),
        ("GET", "/api/v1/rooms/x", 401),
    ]
    assert records[0].headers["apiKey"] == emu.config.api_key
    assert records[0].body == '{"name": "r"}'
    assert "apiKey" not in records[2].headers
    assert emu.requests == records

    emu.clear_recorded()
    assert emu.recorded() == []


def test_recorded_snapshot_is_a_copy(emu: Emulator) -> None:
    call(emu, "GET", "/api/v1/rooms/x")
    emu.recorded()[0].headers.clear()
    assert emu.recorded()[0].headers


# -- faults ---------------------------------------------------------------------------------


def test_status_fault_with_filters_times_and_retry_after(emu: Emulator) -> None:
    emu.add_fault(Fault("status", status=503, method="post", path_regex=r"/rooms$", times=2,
                        retry_after="7"))  # fmt: skip
    room_path = "/api/v1/rooms/nope42"
    assert call(emu, "GET", room_path).status == 404  # wrong method: not consumed
    assert call(emu, "POST", "/api/v1/participants", {}).status == 400  # wrong path
    for _ in range(2):
        reply = call(emu, "POST", "/api/v1/rooms", {"name": "x"})
        assert reply.status == 503
        assert reply.headers["Retry-After"] == "7"
        assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
        assert reply.json == {"error": "Service Unavailable"}
    assert call(emu, "POST", "/api/v1/rooms", {"name": "x"}).status == 200
    assert len(emu.state()["rooms"]) == 1  # the faulted creates did nothing
    assert emu.pending_faults() == []


def test_faults_are_consumed_in_order_of_addition(emu: Emulator) -> None:
    emu.add_fault(Fault("status", status=500, message="boom"))
    emu.add_fault(Fault("status", status=504))
    first = call(emu, "GET", "/api/v1/rooms/x")
    assert (first.status, first.error) == (500, "boom")
    assert call(emu, "GET", "/api/v1/rooms/x").status == 504
    assert call(emu, "GET", "/api/v1/rooms/x").status == 404  # no fault left
    assert [r.answered for r in emu.recorded()] == [500, 504, 404]


def test_add_fault_copies_the_fault(emu: Emulator) -> None:
    fault = Fault("status", times=2)
    emu.add_fault(fault)
    call(emu, "GET", "/api/v1/rooms/x")
    assert fault.times == 2
    assert emu.pending_faults()[0].times == 1


def test_html_fault(emu: Emulator) -> None:
    emu.add_fault(Fault("html", status=502))
    reply = call(emu, "GET", "/api/v1/rooms/x")
    assert reply.status == 502
    assert reply.headers["Content-Type"].startswith("text/html")
    assert b"<h1>502 Bad Gateway</h1>" in reply.raw


def test_drop_fault_closes_without_answer(emu: Emulator) -> None:
    emu.add_fault(Fault("drop"))
    with pytest.raises(http.client.RemoteDisconnected):
        call(emu, "POST", "/api/v1/rooms", {"name": "x"})
    assert emu.state()["rooms"] == []
    assert emu.recorded()[0].answered == "drop"
    assert call(emu, "POST", "/api/v1/rooms", {"name": "x"}).status == 200


def test_delay_fault_then_normal_answer(emu: Emulator) -> None:
    emu.add_fault(Fault("delay", delay_ms=150))
    started = time.monotonic()
    reply = call(emu, "POST", "/api/v1/rooms", {"name": "late"})
    assert time.monotonic() - started >= 0.15
    assert reply.status == 200
    assert emu.state()["rooms"][0]["name"] == "late"


def test_delay_fault_provokes_a_read_timeout(emu: Emulator) -> None:
    emu.add_fault(Fault("delay", delay_ms=10_000, method="GET"))
    with pytest.raises(TimeoutError):
        call(emu, "GET", "/api/v1/rooms/x", timeout=0.2)
    assert emu.recorded()[0].answered == 0  # still waiting to answer
    assert call(emu, "GET", "/api/v1/rooms/x").status == 404  # other clients are not held up


def test_redirect_fault(emu: Emulator) -> None:
    emu.add_fault(Fault("redirect", status=308, location="https://evil.example/api/v1/rooms"))
    reply = call(emu, "POST", "/api/v1/rooms", {"name": "x"})
    assert reply.status == 308
    assert reply.headers["Location"] == "https://evil.example/api/v1/rooms"
    assert emu.state()["rooms"] == []


def test_redirect_fault_defaults_to_307() -> None:
    assert Fault("redirect", location="/elsewhere").status == 307


def test_empty_fault(emu: Emulator) -> None:
    emu.add_fault(Fault("empty", status=200, method="DELETE"))
    room = create_room(emu)
    reply = call(emu, "DELETE", f"/api/v1/rooms/{room['id']}")
    assert reply.status == 200
    assert reply.raw == b""
    assert reply.headers["Content-Length"] == "0"
    assert emu.state()["rooms"] == [room]  # not applied


@pytest.mark.parametrize("action", ["status", "html", "drop", "empty"])
def test_apply_performs_the_create_before_failing(emu: Emulator, action: str) -> None:
    emu.add_fault(Fault(action, status=502, method="POST", apply=True))
    try:
        assert call(emu, "POST", "/api/v1/rooms", {"name": "committed"}).status == 502
    except http.client.RemoteDisconnected:
        assert action == "drop"
    assert [room["name"] for room in emu.state()["rooms"]] == ["committed"]


@pytest.mark.parametrize(
    "settings",
    [
        {"action": "explode"},
        {"action": "status", "status": 99},
        {"action": "status", "status": True},
        {"action": "redirect"},
        {"action": "redirect", "status": 200, "location": "/x"},
        {"action": "status", "times": 0},
        {"action": "delay", "delay_ms": -1},
        {"action": "status", "path_regex": "("},
        {"action": "status", "apply": "yes"},
    ],
)
def test_invalid_fault_is_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="fault"):
        Fault(**settings)


# -- rate limit, random errors, latency -----------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu(rate_limit=1.0)
    assert call(emu, "POST", "/api/v1/rooms", {"name": "a"}).status == 200
    reply = call(emu, "POST", "/api/v1/rooms", {"name": "b"})
    assert reply.status == 429
    assert reply.headers["Retry-After"] == "1"
    assert reply.json == {"error": "Too many requests"}
    assert [room["name"] for room in emu.state()["rooms"]] == ["a"]


def test_error_rate_one_gives_only_server_errors_and_is_seeded(
    make_emu: Callable[..., Emulator],
) -> None:
    def run() -> tuple[list[int], list[str]]:
        emu = make_emu(error_rate=1.0, seed=42)
        statuses = [call(emu, "POST", "/api/v1/rooms", {"name": f"r{i}"}).status for i in range(40)]
        return statuses, [room["name"] for room in emu.state()["rooms"]]

    statuses, created = run()
    assert set(statuses) == SERVER_ERRORS
    committed = {f"r{i}" for i, status in enumerate(statuses) if status != 503}
    assert set(created) <= committed  # a 503 never performs
    assert 0 < len(created) < len(committed)  # 500/502/504 sometimes do
    assert run() == (statuses, created)


def test_latency_is_added(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu(latency_ms=100)
    started = time.monotonic()
    assert call(emu, "GET", "/api/v1/rooms/x", auth=False).status == 401
    assert time.monotonic() - started >= 0.1


# -- control endpoints ----------------------------------------------------------------------


def test_control_requests_endpoints(emu: Emulator) -> None:
    call(emu, "GET", "/api/v1/rooms/x", auth=False)
    listed = call(emu, "GET", "/_emulator/requests", auth=False)
    assert listed.status == 200
    assert [(r["method"], r["path"], r["answered"]) for r in listed.json] == [
        ("GET", "/api/v1/rooms/x", 401)
    ]
    assert set(listed.json[0]) == {
        "method", "path", "headers", "body", "answered", "received_at", "answered_at", "retry_after"
    }  # fmt: skip
    assert call(emu, "DELETE", "/_emulator/requests", auth=False).status == 200
    assert call(emu, "GET", "/_emulator/requests", auth=False).json == []


def test_control_faults_endpoint(emu: Emulator) -> None:
    faults = [{"action": "status", "status": 504}, {"action": "empty", "status": 200}]
    added = call(emu, "POST", "/_emulator/faults", faults, auth=False)
    assert added.status == 200
    assert [f["status"] for f in added.json] == [504, 200]
    one = call(emu, "POST", "/_emulator/faults", {"action": "html", "retry_after": 3}, auth=False)
    assert one.json[0]["retry_after"] == "3"
    assert len(call(emu, "GET", "/_emulator/faults").json) == 3

    assert call(emu, "GET", "/api/v1/rooms/x").status == 504
    assert call(emu, "GET", "/api/v1/rooms/x").raw == b""
    assert call(emu, "DELETE", "/_emulator/faults").status == 200
    assert emu.pending_faults() == []


@pytest.mark.parametrize(
    "body",
    [
        [{"action": "status"}, {"action": "explode"}],
        {"action": "status", "bogus": 1},
        {"status": 500},
        {"action": "status", "status": "500"},
        [1],
    ],
)
def test_control_faults_refuses_invalid_faults_all_or_nothing(emu: Emulator, body: object) -> None:
    reply = call(emu, "POST", "/_emulator/faults", body)
    assert reply.status == 400
    assert "fault" in reply.error
    assert emu.pending_faults() == []


def test_control_state_and_reset(emu: Emulator) -> None:
    room = create_room(emu)
    participant = create_participant(emu, room["id"])
    emu.add_fault(Fault("status", path_regex="never"))
    state = call(emu, "GET", "/_emulator/state", auth=False)
    assert state.json == {"rooms": [room], "participants": [participant]}
    assert state.json == emu.state()

    assert call(emu, "POST", "/_emulator/reset", auth=False).status == 200
    assert emu.state() == {"rooms": [], "participants": []}
    assert emu.pending_faults() == []
    assert emu.recorded() == []


def test_unknown_control_endpoint_is_404_and_not_recorded(emu: Emulator) -> None:
    assert call(emu, "GET", "/_emulator/nothing", auth=False).status == 404
    assert call(emu, "GET", "/_emulator/reset", auth=False).status == 404
    assert emu.recorded() == []


def test_control_endpoints_ignore_faults(emu: Emulator) -> None:
    emu.add_fault(Fault("drop"))
    assert call(emu, "GET", "/_emulator/state").status == 200
    assert len(emu.pending_faults()) == 1


# -- life cycle -----------------------------------------------------------------------------


def test_base_url_needs_a_bound_emulator() -> None:
    with pytest.raises(RuntimeError):
        _ = Emulator().base_url


def test_shutdown_is_idempotent_and_closes_the_port() -> None:
    emu = Emulator().start()
    address = _address(emu)
    assert address[0] == "127.0.0.1"
    emu.shutdown()
    emu.shutdown()
    conn = http.client.HTTPConnection(*address, timeout=2)
    with pytest.raises(ConnectionRefusedError):
        conn.request("GET", "/")
    conn.close()


def test_shutdown_closes_idle_keep_alive_connections() -> None:
    emu = Emulator().start()
    conn = http.client.HTTPConnection(*_address(emu), timeout=2)
    conn.request("GET", "/api/v1/rooms/x")
    conn.getresponse().read()
    sock = conn.sock
    assert sock is not None
    emu.shutdown()
    assert sock.recv(1) == b""  # closed by the server, not left to time out
    conn.close()


def test_serve_forever_in_the_calling_thread() -> None:
    emu = Emulator().bind()
    thread = threading.Thread(target=emu.serve_forever)
    thread.start()
    try:
        assert call(emu, "GET", "/api/v1/rooms/x", auth=False).status == 401
    finally:
        emu.shutdown()
        thread.join(5)
    assert not thread.is_alive()


def test_quiet_unless_verbose(
    make_emu: Callable[..., Emulator], capfd: pytest.CaptureFixture[str]
) -> None:
    call(make_emu(), "GET", "/api/v1/rooms/quiet")
    assert capfd.readouterr().err == ""
    call(make_emu(verbose=True), "GET", "/api/v1/rooms/loud")
    assert "/api/v1/rooms/loud" in capfd.readouterr().err
