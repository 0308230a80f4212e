"""A first end-to-end pass: the README's tour works against the emulator."""

from __future__ import annotations

import json

from tests.helpers import API_KEY, API_TOKEN, Runner
from vcctl.emulator.server import Emulator


def test_tour_create_room_add_participant_mute_all(vcctl: Runner, emulator: Emulator) -> None:
    created = vcctl("rooms", "create", "--name", "Demo", "-q")
    assert created.code == 0, created
    room_id = created.stdout.strip()
    assert len(room_id) == 6
    assert room_id.isalnum()

    participant = vcctl("participants", "create", "--room", room_id, "--username", "Ada", "--json")
    assert participant.code == 0, participant
    body = json.loads(participant.stdout)
    assert body["room_id"] == room_id
    assert body["username"] == "Ada"

    muted = vcctl("events", "mute-all", "--room", room_id)
    assert muted.code == 0, muted

    room = vcctl("rooms", "get", room_id, "--json")
    assert json.loads(room.stdout)["participants"][0]["video_and_audio_on"] is False

    sent = [(r.method, r.path) for r in emulator.recorded()]
    assert sent == [
        ("POST", "/api/v1/rooms"),
        ("POST", "/api/v1/participants"),
        ("POST", "/fr/api/v1/events"),
        ("GET", f"/fr/api/v1/rooms/{room_id}"),
    ]
    for request in emulator.recorded():
        assert request.headers["apiKey"] == API_KEY
        assert request.headers["apiToken"] == API_TOKEN
