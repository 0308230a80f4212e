"""`-o/--output json|jsonl|csv|tsv|id|table` on the list and get commands, end to end: what each
format prints, the CSV round trip through a spreadsheet into `update --from-file`, escaping on a
terminal, and the refusal of two ways of choosing the output."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    Runner,
    ScriptedServer,
    assert_sent,
    json_lines,
    pretty,
    run_in_pty,
    run_vcctl,
    seed_room,
    sent_to,
)
from vcctl.emulator.server import Emulator


@pytest.fixture
def rooms(vcctl: Runner, emulator: Emulator) -> list[str]:
    """Two rooms created by vcctl (so the inventory lists them), one with a participant."""
    board = vcctl("rooms", "create", "--name", "Board, meeting", "--color", "#1e90ff", "-q")
    sales = vcctl("rooms", "create", "--name", 'Sales "EMEA"', "-q")
    ids = [board.stdout.strip(), sales.stdout.strip()]
    created = vcctl("participants", "create", "--room", ids[0], "--username", "Ada", "-q")
    assert created.code == 0, created
    emulator.clear_recorded()
    return ids


def api_json(vcctl: Runner, *args: str) -> list[Any]:
    result = vcctl(*args, "--json")
    assert result.code == 0, result
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_rooms_list_as_csv_round_trips_through_update_from_file(
    vcctl: Runner, emulator: Emulator, rooms: list[str], tmp_path: Path
) -> None:
    exported = vcctl("rooms", "list", "-o", "csv")
    assert exported.code == 0, exported
    assert exported.stderr == ""
    board, sales = rooms
    assert exported.stdout == (
        f'id,name,color\n{sales},"Sales ""EMEA""",#5f5f5f\n{board},"Board, meeting",#1e90ff\n'
    )
    assert emulator.recorded() == []  # from the inventory: nothing sent
    # A spreadsheet opens it, one name is changed, and it is saved as CSV again.
    table = list(csv.reader(io.StringIO(exported.stdout)))
    table[2][1] = "Board meeting (weekly)"
    edited = tmp_path / "rooms.csv"
    with edited.open("w", newline="") as file:
        csv.writer(file).writerows(table)
    updated = vcctl("rooms", "update", "--from-file", str(edited))
    assert updated.code == 0, updated
    posts = [r for r in emulator.recorded() if r.method == "POST"]
    assert len(posts) == 1, posts
    assert_sent(posts[0], "POST", f"/fr/api/v1/rooms/{board}", {"name": "Board meeting (weekly)"})
    emulator.clear_recorded()
    again = vcctl("rooms", "update", "--from-file", str(edited))
    assert again.code == 0, again
    assert [r.method for r in emulator.recorded()] == ["GET", "GET"]  # nothing left to change


def test_participants_as_tsv_round_trip_through_update_from_file(
    vcctl: Runner, emulator: Emulator, rooms: list[str], tmp_path: Path
) -> None:
    board = rooms[0]
    exported = vcctl("participants", "list", "--room", board, "-o", "tsv")
    assert exported.code == 0, exported
    [header, row] = exported.stdout.splitlines()
    assert header == "id\troom_id\tusername\tlanguage\tvideo_and_audio_on"
    participant = row.split("\t")[0]
    assert row == f"{participant}\t{board}\tAda\tfr\ttrue"
    emulator.clear_recorded()
    edited = tmp_path / "people.tsv"
    edited.write_text(f"{header}\n{participant}\t{board}\tAda\tfr\tfalse\n")
    updated = vcctl("participants", "update", "--from-file", str(edited))
    assert updated.code == 0, updated
    [post] = [r for r in emulator.recorded() if r.method == "POST"]
    assert_sent(
        post, "POST", f"/fr/api/v1/participants/{participant}", {"video_and_audio_on": False}
    )


def test_each_format_of_rooms_get(vcctl: Runner, rooms: list[str]) -> None:
    board, sales = rooms
    one = json.loads(vcctl("rooms", "get", board, "--json").stdout)
    both = api_json(vcctl, "rooms", "get", board, sales)
    assert vcctl("rooms", "get", board, "-o", "json").stdout == pretty(one)
    assert vcctl("rooms", "get", board, sales, "-o", "json").stdout == pretty(both)
    assert vcctl("rooms", "get", board, "-o", "jsonl").stdout == json_lines(one)
    assert vcctl("rooms", "get", board, sales, "--output", "jsonl").stdout == json_lines(*both)
    assert vcctl("rooms", "get", sales, board, "-o", "id").stdout == f"{sales}\n{board}\n"
    shown = vcctl("rooms", "get", board, "-o", "table")
    assert shown.stdout == vcctl("rooms", "get", board).stdout
    assert "participants: 1" in shown.stdout


def test_a_get_that_partly_fails_prints_what_was_answered(vcctl: Runner, rooms: list[str]) -> None:
    result = vcctl("rooms", "get", rooms[1], "gone00", "-o", "csv")
    assert result.code == 10, result
    assert result.stdout.splitlines() == ["id,name,color", f'{rooms[1]},"Sales ""EMEA""",#5f5f5f']
    assert "gone00: HTTP 404" in result.stderr


def test_each_format_of_the_lists(vcctl: Runner, rooms: list[str]) -> None:
    listed = api_json(vcctl, "rooms", "list")
    assert [room["id"] for room in listed] == rooms[::-1]  # newest first
    assert vcctl("rooms", "list", "-o", "jsonl").stdout == json_lines(*listed)
    assert vcctl("rooms", "list", "-o", "json").stdout == pretty(listed)
    assert vcctl("rooms", "list", "-o", "id").stdout == vcctl("rooms", "list", "-q").stdout
    assert vcctl("rooms", "list", "-o", "table").stdout == vcctl("rooms", "list").stdout
    people = api_json(vcctl, "participants", "list", "--room", rooms[0])
    assert vcctl("participants", "list", "--room", rooms[0], "-o", "json").stdout == pretty(people)
    inventory = api_json(vcctl, "participants", "list")
    assert inventory[0]["vcctl"]["kind"] == "participant"
    assert vcctl("participants", "list", "-o", "jsonl").stdout == json_lines(*inventory)
    csv_out = vcctl("participants", "list", "-o", "csv").stdout
    assert csv_out == (
        f"id,room_id,username,language,video_and_audio_on\n{people[0]['id']},{rooms[0]},Ada,fr,true\n"
    )


def test_an_empty_listing_is_a_header_or_an_empty_array(vcctl: Runner) -> None:
    assert vcctl("rooms", "list", "-o", "csv").stdout == "id,name,color\n"
    assert vcctl("rooms", "list", "-o", "json").stdout == "[]\n"
    assert vcctl("participants", "list", "-o", "jsonl").stdout == ""


@pytest.mark.parametrize(
    ("args", "other"),
    [
        (["rooms", "list", "-o", "csv", "--json"], "--json"),
        (["--json", "rooms", "list", "-o", "json"], "--json"),
        (["rooms", "list", "-q", "-o", "id"], "-q"),
        (["rooms", "list", "--one", "-o", "csv"], "--one"),
        (["participants", "list", "--room", "abc123", "-o", "tsv", "--quiet"], "-q"),
        (["rooms", "get", "abc123", "-o", "jsonl", "--jq", ".id"], "--jq"),
        (["participants", "get", "abc123", "--json", "-o", "table"], "--json"),
    ],
)
def test_two_ways_of_choosing_the_output_are_refused(
    vcctl: Runner, emulator: Emulator, args: list[str], other: str
) -> None:
    result = vcctl(*args)
    assert result.code == 2, result
    assert result.stdout == ""
    assert "both choose what is printed: give one" in result.stderr
    assert other in result.stderr
    assert emulator.recorded() == []


def test_an_unknown_format_is_refused_naming_the_formats(vcctl: Runner) -> None:
    result = vcctl("rooms", "list", "-o", "xml")
    assert result.code == 2, result
    assert "'json', 'jsonl', 'csv', 'tsv', 'id', 'table'" in result.stderr


HOSTILE = "Evil\x1b[31m\u202eroom"


def test_csv_is_exact_off_a_terminal_and_escaped_on_one(
    vcctl: Runner, emulator: Emulator, env: dict[str, str]
) -> None:
    room = seed_room(emulator, HOSTILE)["id"]
    piped = vcctl("rooms", "get", room, "-o", "csv")
    assert piped.stdout == f"id,name,color\n{room},{HOSTILE},#5f5f5f\n"
    shown = run_in_pty(["rooms", "get", room, "-o", "csv"], env)
    assert shown.code == 0, shown
    assert "\x1b" not in shown.stdout
    assert "\u202e" not in shown.stdout
    assert f"{room},Evil\\x1b[31m\\u202eroom,#5f5f5f" in shown.stdout
    assert len(sent_to(emulator, f"/fr/api/v1/rooms/{room}")) == 2


def test_an_answer_without_an_id_is_an_error_with_o_id(env: dict[str, str]) -> None:
    def answer(method: str, path: str) -> tuple[int, object]:
        return 200, {"name": "no id here"}

    with ScriptedServer(answer) as server:
        result = run_vcctl(
            ["rooms", "get", "abc123", "-o", "id"], env | {"VCCTL_BASE_URL": server.base_url}
        )
    assert result.code == 9, result
    assert result.stdout == ""
    assert "no id to print (-o id)" in result.stderr
