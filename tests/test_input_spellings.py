"""Colours and languages as people write them ('#fff', '#1E90FF', 'EN') are accepted everywhere
and sent in the API's spelling ('#ffffff', '#1e90ff', 'en'); anything else is refused with an
accepted example."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import assert_refused, assert_sent, run_in_process, seed_room
from vcctl import validate
from vcctl.apply import stackfile
from vcctl.emulator.server import Emulator
from vcctl.errors import UsageError


@pytest.mark.parametrize(
    ("given", "sent"),
    [("#fff", "#ffffff"), ("#1E90FF", "#1e90ff"), ("#1e90ff", "#1e90ff"), ("#A0b", "#aa00bb")],
)
def test_room_colours_are_sent_as_lower_case_rrggbb(
    emulator: Emulator, env: dict[str, str], given: str, sent: str
) -> None:
    created = run_in_process(["rooms", "create", "--name", "R", "--color", given, "-q"], env)
    assert (created.code, created.stderr) == (0, ""), created
    room_id = created.stdout.strip()
    updated = run_in_process(["rooms", "update", room_id, "--color", given, "--json"], env)
    assert (updated.code, updated.stderr) == (0, ""), updated

    create, update = emulator.recorded()
    assert_sent(create, "POST", "/api/v1/rooms", {"name": "R", "color": sent})
    assert_sent(update, "POST", f"/fr/api/v1/rooms/{room_id}", {"color": sent})


def test_languages_are_sent_in_lower_case(emulator: Emulator, env: dict[str, str]) -> None:
    room = seed_room(emulator)
    created = run_in_process(
        ["participants", "create", "--room", room["id"], "--username", "Ada", "--language", "EN"],
        env,
    )
    assert (created.code, created.stderr) == (0, ""), created
    [request] = emulator.recorded()
    assert_sent(
        request,
        "POST",
        "/api/v1/participants",
        {"room_id": room["id"], "username": "Ada", "language": "en"},
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--color", "#ffff"], "invalid --color '#ffff': expected a colour such as '#1e90ff'"),
        (["--color", "fff"], "invalid --color 'fff': expected a colour such as '#1e90ff'"),
        (["--color", "#ggg"], "(or '#fff')"),
        (["--color", "#fff\n"], "invalid --color '#fff\\n'"),
    ],
)
def test_other_colours_are_refused_with_an_example(
    emulator: Emulator, env: dict[str, str], args: list[str], message: str
) -> None:
    assert_refused(run_in_process(["rooms", "create", "--name", "R", *args], env), message)
    assert emulator.recorded() == []


@pytest.mark.parametrize("language", ["e", "eng", "é", "EN\n", "e1"])
def test_other_languages_are_refused_with_an_example(language: str) -> None:
    with pytest.raises(UsageError) as refused:
        validate.language(language)
    assert refused.value.message.endswith("expected a two-letter code such as 'fr'")


def test_batch_rows_are_sent_in_the_api_spelling(
    emulator: Emulator, env: dict[str, str], tmp_path: Path
) -> None:
    rooms = tmp_path / "rooms.csv"
    rooms.write_text("name,color\nShort,#FA0\nUpper,#1E90FF\n", encoding="utf-8")
    result = run_in_process(
        ["rooms", "create", "--from-file", str(rooms), "--concurrency", "1"], env
    )
    assert (result.code, result.stderr) == (0, "created 2, existing 0, failed 0\n"), result
    assert sorted(r["color"] for r in emulator.state()["rooms"]) == ["#1e90ff", "#ffaa00"]
    room_id = emulator.state()["rooms"][0]["id"]
    people = tmp_path / "people.jsonl"
    people.write_text('{"username": "Ada", "language": "DE"}\n', encoding="utf-8")
    result = run_in_process(
        [
            "participants",
            "create",
            "--from-file",
            str(people),
            "--room",
            room_id,
            "--language",
            "IT",
        ],
        env,
    )
    assert (result.code, result.stderr) == (0, "created 1, existing 0, failed 0\n"), result
    [participant] = emulator.state()["participants"]
    assert participant["language"] == "de"


def test_a_stack_file_is_read_in_the_api_spelling() -> None:
    desired = stackfile.parse_toml(
        '[rooms.board]\nname = "Board"\ncolor = "#FFF"\n'
        '[rooms.board.participants.ada]\nusername = "Ada"\nlanguage = "EN"\n',
        "stack.toml",
    )
    board = desired.rooms["board"]
    assert board.fields == {"name": "Board", "color": "#ffffff"}
    assert board.participants["ada"].fields == {"username": "Ada", "language": "en"}
