"""`vcctl events ...`, end to end against the emulator: the exact event names and bodies."""

from __future__ import annotations

from typing import Any

from tests.helpers import (
    Runner,
    assert_refused,
    assert_sent,
    pretty,
    run_in_process,
    seed_participant,
    seed_room,
)
from vcctl.emulator.server import Emulator, Fault

EVENTS_PATH = "/fr/api/v1/events"


def _video_and_audio(emulator: Emulator) -> dict[str, bool]:
    return {p["username"]: p["video_and_audio_on"] for p in emulator.state()["participants"]}


def test_deactivate_sends_the_apis_spelling(vcctl: Runner, emulator: Emulator) -> None:
    room = seed_room(emulator)
    ada = seed_participant(emulator, room["id"], "Ada")
    seed_participant(emulator, room["id"], "Bob")

    result = vcctl(
        "events", "deactivate-video-and-audio", "--room", room["id"], "--participant", ada["id"]
    )

    assert (result.code, result.stderr) == (0, "")
    assert result.stdout == (
        f"sent desactivate-video-and-audio to participant {ada['id']} in room {room['id']}\n"
    )
    [request] = emulator.recorded()
    body = {
        "room_event": "desactivate-video-and-audio",
        "room_id": room["id"],
        "participant_id": ada["id"],
    }
    assert_sent(request, "POST", EVENTS_PATH, body)
    assert _video_and_audio(emulator) == {"Ada": False, "Bob": True}


def test_every_event_body(emulator: Emulator, env: dict[str, str]) -> None:
    room = seed_room(emulator)
    ada = seed_participant(emulator, room["id"], "Ada", video_and_audio_on=False)
    bob = seed_participant(emulator, room["id"], "Bob")
    target = ["--room", room["id"], "--participant"]

    def send(*args: str) -> str:
        result = run_in_process(["events", *args], env)
        assert (result.code, result.stderr) == (0, ""), result
        return result.stdout

    activated = send("activate-video-and-audio", *target, ada["id"], "--json")
    answer: dict[str, Any] = {
        "room_event": "activate-video-and-audio",
        "room_id": room["id"],
        "participant_id": ada["id"],
    }
    assert activated == pretty(answer)  # the API's answer, as received
    assert_sent(emulator.recorded()[-1], "POST", EVENTS_PATH, answer)
    assert _video_and_audio(emulator) == {"Ada": True, "Bob": True}

    # The hidden alias is the API's own spelling, for people who copy it from its reference.
    send("desactivate-video-and-audio", *target, bob["id"])
    assert_sent(
        emulator.recorded()[-1], "POST", EVENTS_PATH,
        {"room_event": "desactivate-video-and-audio", "room_id": room["id"],
         "participant_id": bob["id"]},
    )  # fmt: skip
    assert _video_and_audio(emulator) == {"Ada": True, "Bob": False}

    muted = send("mute-all", "--room", room["id"])
    assert muted == f"sent mute-all to room {room['id']}\n"
    # mute-all names no participant: the key is absent, not null.
    assert_sent(
        emulator.recorded()[-1],
        "POST",
        EVENTS_PATH,
        {"room_event": "mute-all", "room_id": room["id"]},
    )
    assert _video_and_audio(emulator) == {"Ada": False, "Bob": False}

    # An event answered 204 with no body succeeded; --json then prints nothing.
    emulator.add_fault(Fault("empty", status=204))
    assert send("mute-all", "--room", room["id"], "--json") == ""
    emulator.add_fault(Fault("empty", status=200))
    assert send("mute-all", "--room", room["id"]) == f"sent mute-all to room {room['id']}\n"


def test_invalid_events_are_refused_before_anything_is_sent(
    emulator: Emulator, env: dict[str, str]
) -> None:
    room = seed_room(emulator)
    ada = seed_participant(emulator, room["id"])
    cases = {
        "Missing option '--participant'": [
            "activate-video-and-audio", "--room", room["id"]
        ],
        "Missing option '--participant'.": ["deactivate-video-and-audio", "--room", room["id"]],
        "--participant must not be empty": [
            "desactivate-video-and-audio", "--room", room["id"], "--participant", ""
        ],
        "Missing option '--room'": ["activate-video-and-audio", "--participant", ada["id"]],
        "--room must not be empty": ["mute-all", "--room", " "],
        "No such option: --participant": ["mute-all", "--room", room["id"], "--participant", "x"],
        "No such command 'unmute-all'": ["unmute-all", "--room", room["id"]],
    }  # fmt: skip

    for message, args in cases.items():
        assert_refused(run_in_process(["events", *args], env), message)

    assert emulator.recorded() == []


def test_short_names_send_the_apis_own_events(emulator: Emulator, env: dict[str, str]) -> None:
    room = seed_room(emulator)
    ada = seed_participant(emulator, room["id"], "Ada")
    on, off = "activate-video-and-audio", "desactivate-video-and-audio"
    names = {"off": off, "on": on, "mute": off, "unmute": on, "deactivate": off, "activate": on}
    for name, event in names.items():
        result = run_in_process(
            ["events", name, "--room", room["id"], "--participant", ada["id"]], env
        )
        assert (result.code, result.stderr) == (0, ""), (name, result)
        assert result.stdout == f"sent {event} to participant {ada['id']} in room {room['id']}\n"
        body = {"room_event": event, "room_id": room["id"], "participant_id": ada["id"]}
        assert_sent(emulator.recorded()[-1], "POST", EVENTS_PATH, body)
        assert _video_and_audio(emulator) == {"Ada": event == on}
    assert len(emulator.recorded()) == len(names)


def test_mute_without_a_participant_does_not_mute_everyone(
    emulator: Emulator, env: dict[str, str]
) -> None:
    room = seed_room(emulator)
    seed_participant(emulator, room["id"], "Ada")
    result = run_in_process(["events", "mute", "--room", room["id"]], env)
    assert_refused(result, "events mute turns one participant off: give --participant")
    assert f"hint: to mute everyone in the room: vcctl events mute-all --room {room['id']}" in (
        result.stderr
    )
    assert emulator.recorded() == []
