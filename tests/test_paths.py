"""Where requests go: locales, base URLs with a path, and ids as one segment."""

from __future__ import annotations

from urllib.parse import unquote

from tests.helpers import Runner, assert_refused, run_in_process, seed_participant, seed_room
from vcctl.emulator.server import Emulator

# Ids that URL handling (ours, requests', a proxy's, the server's) could turn into another path.
ODD_IDS = {
    "a/b": "a%2Fb",
    "..": "%2E%2E",
    ".": "%2E",
    "%2F": "%252F",
    "a b": "a%20b",
    "é": "%C3%A9",
    "?x=1": "%3Fx%3D1",
    "#top": "%23top",
    "a\\b": "a%5Cb",
    "a;b": "a%3Bb",
    "+": "%2B",
}


def test_odd_ids_reach_the_server_as_one_segment(vcctl: Runner, emulator: Emulator) -> None:
    # One at a time, so that the order they are sent in is known.
    result = vcctl("rooms", "get", *ODD_IDS, "--json", "--concurrency", "1")

    assert result.code == 6, result  # every one is unknown, and each was asked for on its own
    assert result.stdout == ""
    assert result.stderr.count('"status": 404') == len(ODD_IDS)
    sent = emulator.recorded()
    assert [r.path for r in sent] == [f"/fr/api/v1/rooms/{enc}" for enc in ODD_IDS.values()]
    for request, room_id in zip(sent, ODD_IDS, strict=True):
        segments = request.path.split("/")
        assert len(segments) == 6, request.path
        assert unquote(segments[-1]) == room_id
        assert request.answered == 404


def test_an_id_can_never_reach_another_resource(emulator: Emulator, env: dict[str, str]) -> None:
    room = seed_room(emulator)
    participant = seed_participant(emulator, room["id"])
    escapes = [
        ["participants", "delete", f"../rooms/{room['id']}", "--yes"],
        ["participants", "delete", f"../../fr/api/v1/rooms/{room['id']}", "--yes"],
        ["rooms", "delete", f"..%2Fparticipants%2F{participant['id']}", "--yes"],
        ["rooms", "update", f"../participants/{participant['id']}", "--name", "x"],
    ]

    for args in escapes:
        result = run_in_process(args, env)
        assert result.code == 6, result

    assert emulator.state() == {"rooms": [room], "participants": [participant]}
    for request in emulator.recorded():
        assert len(request.path.split("/")) == 6, request.path
        assert "/../" not in request.path


def test_locale_and_base_url_decide_every_path(emulator: Emulator, env: dict[str, str]) -> None:
    room = seed_room(emulator)
    participant = seed_participant(emulator, room["id"])
    rid, pid = room["id"], participant["id"]
    german = {**env, "VCCTL_LOCALE": "de"}
    cases: list[tuple[list[str], dict[str, str], str, str]] = [
        (["rooms", "get", rid], env, "GET", f"/fr/api/v1/rooms/{rid}"),
        (["rooms", "get", rid], german, "GET", f"/de/api/v1/rooms/{rid}"),
        (["--locale", "it", "rooms", "get", rid], german, "GET", f"/it/api/v1/rooms/{rid}"),
        (["rooms", "get", rid, "--locale", ""], german, "GET", f"/api/v1/rooms/{rid}"),
        (["rooms", "get", rid, "--locale="], env, "GET", f"/api/v1/rooms/{rid}"),
        (["participants", "get", pid, "--locale", "en"], env, "GET",
         f"/en/api/v1/participants/{pid}"),
        (["participants", "update", pid, "--username", "B"], german, "POST",
         f"/de/api/v1/participants/{pid}"),
        (["events", "mute-all", "--room", rid, "--locale", ""], german, "POST", "/api/v1/events"),
        (["events", "mute-all", "--room", rid], german, "POST", "/de/api/v1/events"),
        # Creates never take a locale.
        (["rooms", "create", "--name", "x", "--locale", "en"], env, "POST", "/api/v1/rooms"),
        (["participants", "create", "--room", rid, "--username", "C"], german, "POST",
         "/api/v1/participants"),
    ]  # fmt: skip

    for args, environment, method, path in cases:
        emulator.clear_recorded()
        result = run_in_process(args, environment)
        assert result.code == 0, (args, result)
        [request] = emulator.recorded()
        assert (request.method, request.path) == (method, path), args


def test_a_base_url_with_a_path_prefix_keeps_it(emulator: Emulator, env: dict[str, str]) -> None:
    # The emulator serves no prefix, so it answers 404: what matters is where the requests went.
    for base in (f"{emulator.base_url}/proxy", f"{emulator.base_url}/proxy/"):
        emulator.clear_recorded()
        get = run_in_process(["rooms", "get", "r1", "--base-url", base], env)
        create = run_in_process(["rooms", "create", "--name", "x", "--base-url", base], env)
        assert (get.code, create.code) == (6, 6), (get, create)
        paths = [r.path for r in emulator.recorded()]
        assert paths == ["/proxy/fr/api/v1/rooms/r1", "/proxy/api/v1/rooms"]


def test_an_invalid_locale_is_refused(emulator: Emulator, env: dict[str, str]) -> None:
    for args, environment in (
        (["rooms", "get", "x", "--locale", "FR"], env),
        (["rooms", "get", "x"], {**env, "VCCTL_LOCALE": "f/r"}),
    ):
        assert_refused(run_in_process(args, environment), "invalid locale")
    assert emulator.recorded() == []
