"""The emulator's pieces without a socket: the API store and its route table, faults, chaos."""

from __future__ import annotations

import json
from typing import Any

import pytest

from vcctl.emulator.answers import Answer, ApiRefusal
from vcctl.emulator.chaos import RandomErrors
from vcctl.emulator.faults import Fault, FaultQueue, fault_answer, faults_from_json
from vcctl.emulator.routes import ROUTES, is_control, route, split_target
from vcctl.emulator.store import ApiStore

AUTH = {"apikey": "k", "apitoken": "t", "content-type": "application/json"}


def send(store: ApiStore, method: str, path: str, body: Any = None, **headers: str) -> Answer:
    raw = b"" if body is None else json.dumps(body).encode()
    return store.handle(method, path, {**AUTH, **headers}, raw)


def payload(answer: Answer) -> Any:
    return json.loads(answer.body)


@pytest.fixture
def store() -> ApiStore:
    return ApiStore("k", "t", seed=7)


def test_route_table_names_existing_operations(store: ApiStore) -> None:
    for entry in ROUTES:
        assert callable(getattr(store, entry.operation)), entry


@pytest.mark.parametrize(
    ("method", "path", "operation", "item_id"),
    [
        ("POST", "/api/v1/rooms", "create_room", None),
        ("GET", "/fr/api/v1/rooms/a%2Fb?x=1", "get_room", "a/b"),
        ("DELETE", "/en-US/api/v1/participants/p1", "delete_participant", "p1"),
        ("POST", "/api/v1/events", "send_event", None),
    ],
)
def test_route_finds_the_operation(
    method: str, path: str, operation: str, item_id: str | None
) -> None:
    found, found_id = route(method, path)
    assert (found.operation, found_id) == (operation, item_id)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/rooms"), ("PUT", "/api/v1/rooms/x"), ("GET", "/api/v1/meetings/x"),
     ("POST", "/api/v1/events/x"), ("POST", "//api/v1/rooms"), ("POST", "/FR/api/v1/rooms")],
)  # fmt: skip
def test_route_refuses_unknown_endpoints(method: str, path: str) -> None:
    with pytest.raises(ApiRefusal) as caught:
        route(method, path)
    assert caught.value.status == 404


def test_split_target_and_control_paths() -> None:
    assert split_target("http://host/api/v1/rooms/a%2Fb?q#f") == ["api", "v1", "rooms", "a/b"]
    assert split_target("*") == []
    assert is_control("/_emulator/state")
    assert not is_control("/api/v1/_emulator")


def test_store_create_get_update_delete_without_a_socket(store: ApiStore) -> None:
    room = payload(send(store, "POST", "/api/v1/rooms", {"name": "R"}))
    assert set(room) == {"id", "name", "color", "created_at"}
    assert room["color"] == "#5f5f5f"
    member = payload(send(store, "POST", "/api/v1/participants",
                          {"room_id": room["id"], "username": "Ada"}))  # fmt: skip
    got = payload(send(store, "GET", f"/api/v1/rooms/{room['id']}"))
    assert got["participants"] == [member]
    updated = send(store, "POST", f"/api/v1/participants/{member['id']}", {"language": "en"})
    assert payload(updated)["language"] == "en"
    assert send(store, "DELETE", f"/api/v1/rooms/{room['id']}").status == 200
    assert store.state() == {"rooms": [], "participants": []}


def test_store_checks_route_then_credentials_then_body(store: ApiStore) -> None:
    assert store.handle("GET", "/api/v1/nothing", {}, b"").status == 404
    assert store.handle("POST", "/api/v1/rooms", {}, b'{"name": "x"}').status == 401
    bad = send(store, "POST", "/api/v1/rooms", {"name": ""})
    assert (bad.status, payload(bad)) == (400, {"error": 'name must be a non-empty string, not ""'})
    form = send(store, "POST", "/api/v1/rooms", {"name": "x"}, **{"content-type": "text/plain"})
    assert form.status == 400
    assert store.state()["rooms"] == []


def test_store_events(store: ApiStore) -> None:
    room = payload(send(store, "POST", "/api/v1/rooms", {"name": "R"}))
    other = payload(send(store, "POST", "/api/v1/rooms", {"name": "O"}))
    ada = payload(send(store, "POST", "/api/v1/participants",
                       {"room_id": room["id"], "username": "Ada"}))  # fmt: skip
    event = {"room_event": "mute-all", "room_id": room["id"], "participant_id": ada["id"]}
    muted = send(store, "POST", "/api/v1/events", event)
    assert muted.status == 200
    assert store.state()["participants"][0]["video_and_audio_on"] is False
    wrong_room = send(store, "POST", "/api/v1/events", {"room_event": "activate-video-and-audio",
                      "room_id": other["id"], "participant_id": ada["id"]})  # fmt: skip
    assert wrong_room.status == 402


def test_seeded_stores_give_the_same_ids() -> None:
    def ids() -> list[str]:
        store = ApiStore("k", "t", seed=3)
        return [payload(send(store, "POST", "/api/v1/rooms", {"name": "r"}))["id"] for _ in "ab"]

    assert ids() == ids()


def test_fault_queue_counts_down_and_answers() -> None:
    queue = FaultQueue()
    [fault] = faults_from_json({"action": "status", "status": 429, "retry_after": 2, "times": 2})
    queue.add(fault)
    assert queue.take("GET", "/x") is not None
    taken = queue.take("GET", "/x")
    assert taken is not None
    assert queue.take("GET", "/x") is None
    answer = fault_answer(taken)
    assert (answer.status, answer.header("retry-after")) == (429, "2")
    with pytest.raises(ValueError, match="fault 1: "):
        faults_from_json([{"action": "drop"}, {"action": "nope"}])
    assert fault_answer(Fault("drop")).drop


def test_random_errors_are_seeded() -> None:
    draws = [RandomErrors(0.5, seed=1).draw("POST") for _ in range(3)]
    assert draws[0] == draws[1] == draws[2]
    assert RandomErrors(0.0).draw("POST") is None
