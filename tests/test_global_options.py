"""Global options are parsed where they are written, on every command: after the subcommand
they still work, and a value that looks like one (`--name --debug`) stays a value."""

from __future__ import annotations

import json

from tests.helpers import (
    Answer,
    Runner,
    ScriptedServer,
    assert_sent,
    seed_room,
    unused_port,
)
from vcctl.emulator.server import Emulator


def test_an_option_value_that_looks_like_a_global_option_stays_a_value(
    vcctl: Runner, emulator: Emulator
) -> None:
    result = vcctl("rooms", "create", "--name", "--debug", "-q")

    assert result.code == 0, result
    assert result.stderr == ""  # --debug was the name, not the flag
    [room] = emulator.state()["rooms"]
    assert room["name"] == "--debug"
    assert result.stdout == f"{room['id']}\n"  # -q still the quiet flag


def test_credentials_never_go_to_a_base_url_written_as_a_value(
    vcctl: Runner, emulator: Emulator
) -> None:
    elsewhere: list[str] = []

    def answer(method: str, path: str) -> Answer:
        elsewhere.append(f"{method} {path}")
        return 200, {"id": "stolen"}

    room = seed_room(emulator)
    with ScriptedServer(answer) as other:
        username = f"--base-url={other.base_url}"
        result = vcctl("participants", "create", "--room", room["id"], "--username", username)

    assert result.code == 0, result
    assert elsewhere == []
    [request] = emulator.recorded()
    assert_sent(
        request, "POST", "/api/v1/participants", {"room_id": room["id"], "username": username}
    )


def test_global_options_after_the_subcommand_and_between_groups(
    vcctl: Runner, emulator: Emulator, env: dict[str, str]
) -> None:
    room = seed_room(emulator, "Board")
    nowhere = dict(env, VCCTL_BASE_URL=f"http://127.0.0.1:{unused_port()}")

    after = vcctl(
        "rooms", "get", room["id"], "--json", "--base-url", emulator.base_url, env=nowhere
    )
    between = vcctl("rooms", "--base-url", emulator.base_url, "get", room["id"], env=nowhere)
    before_json = vcctl("--json", "rooms", "get", room["id"])
    equals = vcctl("rooms", "get", f"--base-url={emulator.base_url}", room["id"], env=nowhere)

    assert after.code == 0, after
    assert json.loads(after.stdout)["name"] == "Board"
    assert between.code == 0, between
    assert "Board" in between.stdout
    assert before_json.code == 0, before_json
    assert json.loads(before_json.stdout)["name"] == "Board"
    assert equals.code == 0, equals


def test_after_a_double_dash_nothing_is_an_option(vcctl: Runner, emulator: Emulator) -> None:
    result = vcctl("rooms", "get", "--", "--debug")

    assert result.code == 6, result  # looked up as a room id, and not found
    assert "[debug]" not in result.stderr
    [request] = emulator.recorded()
    assert request.path == "/fr/api/v1/rooms/--debug"
