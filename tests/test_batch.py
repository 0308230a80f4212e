"""Scripting at scale: `create --from-file`, several ids for get/delete, end to end."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import API_KEY, API_TOKEN, Runner, run_in_pty
from vcctl.batch.reporting import Tally
from vcctl.batch.rows import RowSource
from vcctl.emulator.server import Emulator, Fault
from vcctl.errors import UsageError
from vcctl.http.api import Api
from vcctl.http.client import Client


def api_for(emulator: Emulator) -> Api:
    client = Client(base_url=emulator.base_url, api_key=API_KEY, api_token=API_TOKEN, timeout=5)
    return Api(client, "fr")


def make_rooms(emulator: Emulator, *names: str) -> list[str]:
    """Rooms created straight through the API; the emulator's record is then wiped."""
    client = Client(base_url=emulator.base_url, api_key=API_KEY, api_token=API_TOKEN, timeout=5)
    ids = [Api(client, "fr").create_room({"name": name})["id"] for name in names]
    client.close()
    emulator.clear_recorded()
    return ids


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def sent_bodies(emulator: Emulator) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in emulator.recorded()]


# -- from a file, end to end --------------------------------------------------------------------


def test_200_row_csv_creates_200_and_prints_them_in_input_order(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    names = [f"Room {index:03d}" for index in range(200)]
    source = write(
        tmp_path / "rooms.csv", "name,color\n" + "".join(f"{n},#00aa{n[-2:]}\n" for n in names)
    )
    # One early request answers late, so completion order differs from input order.
    emulator.add_fault(Fault("delay", delay_ms=300, method="POST"))

    result = vcctl("rooms", "create", "--from-file", source, "--concurrency", "8", "--json")

    assert result.code == 0, result
    lines = result.stdout.splitlines()
    assert len(lines) == 200
    printed = [json.loads(line) for line in lines]
    assert [room["name"] for room in printed] == names
    assert [room["color"] for room in printed] == [f"#00aa{n[-2:]}" for n in names]
    assert all(
        line == json.dumps(room, separators=(",", ":"))
        for line, room in zip(lines, printed, strict=True)
    )
    requests = emulator.recorded()
    assert len(requests) == 200
    assert {(r.method, r.path) for r in requests} == {("POST", "/api/v1/rooms")}
    assert sorted(json.dumps(body) for body in sent_bodies(emulator)) == sorted(
        json.dumps({"name": n, "color": f"#00aa{n[-2:]}"}) for n in names
    )
    created = emulator.state()["rooms"]
    assert [room["id"] for room in printed] != [room["id"] for room in created]  # reordered
    assert sorted(room["id"] for room in printed) == sorted(room["id"] for room in created)
    assert result.stderr == '{"summary":{"created":200,"existing":0,"failed":0}}\n'


def test_bad_rows_are_reported_by_line_and_the_good_ones_created(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    [room_id] = make_rooms(emulator, "Webinar")
    source = write(
        tmp_path / "people.csv",
        "username,language,video_and_audio_on,room_id\n"  # line 1
        "Ada,en,yes,\n"  # 2: room from --room
        "\n"  # 3: blank, skipped
        "Bob,english,,\n"  # 4: invalid language
        '"Carol\nSmith",,0,\n'  # 5-6: a quoted cell over two lines (a control character)
        "Dan,fr,maybe,\n"  # 7: invalid boolean
        "Eve,fr,no,unknown-room\n"  # 8: the API answers 404
        "Fay,fr\n"  # 9: too few cells
        ",de,,\n"  # 10: no username
        "Gus,,TRUE,\n",  # 11
    )

    # Without --skip-invalid, the invalid rows stop the batch before anything is sent.
    checked = vcctl("participants", "create", "--from-file", source, "--room", room_id)
    assert checked.code == 2, checked
    assert "line 4: invalid language 'english'" in checked.stderr
    assert emulator.state()["participants"] == []

    result = vcctl(
        "participants", "create", "--from-file", source, "--room", room_id, "--skip-invalid"
    )

    assert result.code == 10, result
    created = emulator.state()["participants"]
    assert sorted(p["username"] for p in created) == ["Ada", "Gus"]
    ada, gus = (p["id"] for p in sorted(created, key=lambda p: str(p["username"])))
    assert result.stdout == (
        f"line 2: created participant {ada} (Ada)\nline 11: created participant {gus} (Gus)\n"
    )
    at = f"vcctl: error: {source}: line"
    assert result.stderr.splitlines() == [
        f"{at} 4: invalid language 'english': expected a two-letter code such as 'fr'",
        f"{at} 5: username must not contain control characters (found \\n)",
        f"{at} 7: invalid video_and_audio_on 'maybe': expected true/false, 1/0 or yes/no",
        f"{at} 8: HTTP 404 Not Found: Room not found",
        "hint: check the id, and --base-url/--locale if every call answers 404",
        f"{at} 9: 2 cells, but the header has 4 columns",
        f"{at} 10: missing username",
        "created 2, existing 0, failed 6",
    ]
    # Only the valid rows were sent, each with exactly the fields it gave.
    assert sorted(sent_bodies(emulator), key=lambda body: body["username"]) == [
        {"room_id": room_id, "username": "Ada", "language": "en", "video_and_audio_on": True},
        {
            "room_id": "unknown-room",
            "username": "Eve",
            "language": "fr",
            "video_and_audio_on": False,
        },
        {"room_id": room_id, "username": "Gus", "video_and_audio_on": True},
    ]


def test_json_lines_on_stdin_with_defaults_and_quiet_ids(vcctl: Runner, emulator: Emulator) -> None:
    room_id, other_room = make_rooms(emulator, "Main", "Side")
    rows = [
        {"username": "Ada"},
        {"username": "Bob", "room_id": other_room, "language": "de"},  # a row's value wins
        {"username": "Cy", "video_and_audio_on": True, "language": None},  # null: not given
    ]
    stdin = "".join(json.dumps(row) + "\n" for row in rows)

    result = vcctl(
        "participants", "create", "--from-file", "-", "--room", room_id, "--language", "en",
        "--no-video-and-audio", "-q", input=stdin,
    )  # fmt: skip

    assert result.code == 0, result
    created = emulator.state()["participants"]
    ids = {p["username"]: p["id"] for p in created}
    assert result.stdout == f"{ids['Ada']}\n{ids['Bob']}\n{ids['Cy']}\n"
    assert result.stderr == "created 3, existing 0, failed 0\n"
    assert sorted(sent_bodies(emulator), key=lambda body: body["username"]) == [
        {"room_id": room_id, "username": "Ada", "language": "en", "video_and_audio_on": False},
        {"room_id": other_room, "username": "Bob", "language": "de", "video_and_audio_on": False},
        {"room_id": room_id, "username": "Cy", "language": "en", "video_and_audio_on": True},
    ]


def test_json_lines_errors_are_json_with_the_line_number(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    source = write(
        tmp_path / "rooms.ndjson",
        '{"name": "Ok"}\n'
        "{not json\n"
        '["a list"]\n'
        '{"name": "Colour", "colour": "#000000"}\n'
        '{"name": 42}\n',
    )

    checked = vcctl("rooms", "create", "--from-file", source, "--json")
    assert checked.code == 2, checked
    assert json.loads(checked.stderr.splitlines()[-1]) == {"summary": {"invalid": 4, "sent": 0}}
    assert emulator.state()["rooms"] == []

    result = vcctl("rooms", "create", "--from-file", source, "--json", "--skip-invalid")

    assert result.code == 10, result
    [created] = emulator.state()["rooms"]
    assert json.loads(result.stdout) == created
    errors = [json.loads(line) for line in result.stderr.splitlines()]
    assert [e.get("error", {}).get("line") for e in errors] == [2, 3, 4, 5, None]
    assert [e["error"]["message"] for e in errors[:4]] == [
        "not valid JSON: Expecting property name enclosed in double quotes (column 2)",
        "expected a JSON object, not a list",
        "unknown field 'colour' for rooms (known: name, color, key)",
        "name must be a string, not a number",
    ]
    assert all(e["error"]["exit_code"] == 2 for e in errors[:4])
    assert all(e["error"]["file"] == source for e in errors[:4])
    assert errors[4] == {"summary": {"created": 1, "existing": 0, "failed": 4}}


def test_when_every_row_fails_the_exit_code_is_the_failures_own(
    vcctl: Runner, emulator: Emulator
) -> None:
    stdin = '{"username": "A", "room_id": "gone"}\n{"username": "B", "room_id": "gone"}\n'

    not_found = vcctl("participants", "create", "--from-file", "-", input=stdin)
    invalid = vcctl(
        "rooms", "create", "--from-file", "-", "--skip-invalid", input='{"color": "#000000"}\n'
    )

    assert not_found.code == 6, not_found
    assert not_found.stderr.splitlines()[-1] == "created 0, existing 0, failed 2"
    assert invalid.code == 2, invalid
    assert invalid.stderr == (
        "vcctl: error: standard input: line 1: missing name\ncreated 0, existing 0, failed 1\n"
    )
    assert len(emulator.recorded()) == 2


def test_when_every_row_fails_with_different_codes_the_first_rows_code_wins(
    vcctl: Runner, emulator: Emulator
) -> None:
    # Line 1 is invalid (exit 2); lines 2 and 3 name a room that does not exist (exit 6 each):
    # the most frequent code would be 6, but the rule takes the first failure in input order.
    stdin = (
        '{"room_id": "gone"}\n'
        '{"username": "A", "room_id": "gone"}\n'
        '{"username": "B", "room_id": "gone"}\n'
    )

    result = vcctl(
        "participants",
        "create",
        "--from-file",
        "-",
        "--concurrency",
        "1",
        "--skip-invalid",
        input=stdin,
    )

    assert result.code == 2, result
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == "vcctl: error: standard input: line 1: missing username"
    assert result.stderr.splitlines()[-1] == "created 0, existing 0, failed 3"
    assert len(emulator.recorded()) == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("r.csv", "name,colour\nA,#000000\n", "{path}: line 1: unknown column 'colour' for rooms"),
        ("r.txt", "name\nA\n", "cannot tell the format of '{path}' from its name"),
        ("missing.csv", None, "cannot open {path}: No such file or directory"),
    ],
)
def test_a_file_that_cannot_be_used_exits_2_before_sending_anything(
    vcctl: Runner, emulator: Emulator, tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        write(path, content)

    result = vcctl("rooms", "create", "--from-file", str(path))

    assert result.code == 2, result
    assert result.stderr.splitlines()[0] == "vcctl: error: " + message.format(path=path)
    assert result.stdout == ""
    assert emulator.recorded() == []


def test_dry_run_shows_what_would_be_sent_without_credentials(
    vcctl: Runner, emulator: Emulator, env: dict[str, str], tmp_path: Path
) -> None:
    del env["VCCTL_API_KEY"], env["VCCTL_API_TOKEN"]
    good = write(tmp_path / "good.csv", "room_id,username,video_and_audio_on\nr1,Ada,1\n,Bob,\n")
    bad = write(tmp_path / "bad.csv", "username,language\nAda,\n   ,en\n,\nBob,\n")

    valid = vcctl(
        "participants",
        "create",
        "--from-file",
        good,
        "--room",
        "r9",
        "--dry-run",
        "--json",
        env=env,
    )
    plain = vcctl(
        "participants", "create", "--from-file", bad, "--room", "r9", "--dry-run", env=env
    )

    assert valid.code == 0, valid
    assert [json.loads(line) for line in valid.stdout.splitlines()] == [
        {"line": 2, "method": "POST", "path": "/api/v1/participants",
         "body": {"room_id": "r1", "username": "Ada", "video_and_audio_on": True}},
        {"line": 3, "method": "POST", "path": "/api/v1/participants",
         "body": {"room_id": "r9", "username": "Bob"}},
    ]  # fmt: skip
    assert valid.stderr == '{"summary":{"valid":2,"invalid":0}}\n'
    assert plain.code == 2, plain
    assert plain.stdout == (
        'line 2: POST /api/v1/participants {"room_id":"r9","username":"Ada"}\n'
        'line 5: POST /api/v1/participants {"room_id":"r9","username":"Bob"}\n'
    )
    assert plain.stderr == (
        f"vcctl: error: {bad}: line 3: username must not be empty\nvalid 2, invalid 1\n"
    )
    assert emulator.recorded() == []


def test_ctrl_c_stops_sending_reports_what_was_done_and_exits_130(
    emulator: Emulator, env: dict[str, str], tmp_path: Path
) -> None:
    source = write(tmp_path / "rooms.csv", "name\n" + "".join(f"R{i}\n" for i in range(100)))
    emulator.add_fault(Fault("delay", delay_ms=300, method="POST", times=100))
    child = subprocess.Popen(
        [sys.executable, "-m", "vcctl", "rooms", "create", "--from-file", source,
         "--concurrency", "2", "-q"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while len(emulator.recorded()) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)  # polling a condition, with a deadline
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=30)
    finally:
        child.kill()

    assert child.returncode == 130, (stdout, stderr)
    created = [room["id"] for room in emulator.state()["rooms"]]
    assert 3 <= len(created) < 100
    # Every room that was created is reported, in input order; nothing more was sent.
    names = {room["id"]: room["name"] for room in emulator.state()["rooms"]}
    assert [names[i] for i in stdout.split()] == [f"R{i}" for i in range(len(created))]
    assert len(emulator.recorded()) == len(created)
    summary, error = stderr.splitlines()[-2:]
    assert summary.startswith(f"created {len(created)}, existing 0, failed 0, not sent ")
    assert error.startswith("vcctl: error: interrupted before the end of")
    assert "Traceback" not in stderr


def test_progress_bar_on_a_terminal(
    emulator: Emulator, env: dict[str, str], tmp_path: Path
) -> None:
    # In a pipe there is none: the other tests see stderr exactly, without escape codes.
    source = write(tmp_path / "rooms.csv", "name\nA\nB\n")

    result = run_in_pty(["rooms", "create", "--from-file", source], env)

    assert result.code == 0, result
    assert "rooms: " in result.stdout  # the bar's description
    assert "\x1b[" in result.stdout
    assert "line 3: created room " in result.stdout
    assert result.stdout.rstrip().endswith("created 2, existing 0, failed 0")


# -- several ids for get and delete -------------------------------------------------------------


def test_delete_several_rooms_asks_once_and_prints_json_lines(
    emulator: Emulator, env: dict[str, str]
) -> None:
    ids = make_rooms(emulator, "A", "B", "C")

    result = run_in_pty(["rooms", "delete", *ids, "--json"], env, answers=[("[y/N]", "y")])

    assert result.code == 0, result
    assert result.stdout.count("[y/N]") == 1
    # One question listing each room by name (one GET each), then the deletes.
    assert "Delete these 3 rooms?" in result.stdout
    for room_id, name in zip(ids, "ABC", strict=True):
        assert f'  room {room_id} "{name}" and its 0 participants' in result.stdout
    printed = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [room["id"] for room in printed] == ids
    sent = [(r.method, r.path) for r in emulator.recorded()]
    assert sent[:3] == [("GET", f"/fr/api/v1/rooms/{room_id}") for room_id in ids]
    # The deletes are sent concurrently (in any order), each exactly once.
    assert sorted(sent[3:]) == sorted(("DELETE", f"/fr/api/v1/rooms/{room_id}") for room_id in ids)
    assert emulator.state()["rooms"] == []


def test_delete_several_with_one_missing_exits_10(vcctl: Runner, emulator: Emulator) -> None:
    first, last = make_rooms(emulator, "A", "B")

    result = vcctl("rooms", "delete", first, "nope", last, "--yes")
    refused = vcctl("rooms", "delete", first, last)  # no terminal, no --yes

    assert result.code == 10, result
    assert result.stdout == f"deleted room {first} (A)\ndeleted room {last} (B)\n"
    assert result.stderr.splitlines()[0] == "vcctl: error: nope: HTTP 404 Not Found: Room not found"
    assert refused.code == 2, refused
    assert len(emulator.recorded()) == 3  # the refusal sent nothing


def test_get_several_participants_prints_json_lines(vcctl: Runner, emulator: Emulator) -> None:
    [room_id] = make_rooms(emulator, "Main")
    api = api_for(emulator)
    people = [api.create_participant({"room_id": room_id, "username": n}) for n in ("A", "B")]
    emulator.clear_recorded()

    result = vcctl("participants", "get", people[1]["id"], people[0]["id"], "--json")

    assert result.code == 0, result
    assert [json.loads(line) for line in result.stdout.splitlines()] == [people[1], people[0]]


# -- reading rows (narrow unit tests of the parser) ---------------------------------------------


def read(
    tmp_path: Path, name: str, data: bytes, defaults: dict[str, Any] | None = None
) -> list[tuple[int, Any]]:
    path = tmp_path / name
    path.write_bytes(data)
    source = RowSource("participants", str(path), defaults or {"room_id": "R"})
    try:
        return [
            (row.line, row.body if row.error is None else row.error.message)
            for row in source.rows()
        ]
    finally:
        source.close()


def test_csv_with_bom_crlf_and_undecodable_bytes(tmp_path: Path) -> None:
    data = (
        b"\xef\xbb\xbfusername,video_and_audio_on\r\n"
        b"Ada,Yes\r\n"
        b"B\xe9b,no\r\n"  # Latin-1, not UTF-8
        b"\r\n"
        b'"Cy\r\nD",\r\n'
        b"Ed,0\r\n"
    )

    assert read(tmp_path, "p.csv", data) == [
        (2, {"room_id": "R", "username": "Ada", "video_and_audio_on": True}),
        (3, "username is not valid UTF-8 text"),
        (5, "username must not contain control characters (found \\r)"),
        (7, {"room_id": "R", "username": "Ed", "video_and_audio_on": False}),
    ]


def test_jsonl_types_and_line_numbers(tmp_path: Path) -> None:
    data = (
        b'{"username": "Ada", "video_and_audio_on": "true"}\n'
        b"   \n"
        b'{"username": "Bo", "language": "EN"}\n'
        b'{"username": "\\udc80"}\n'
        b'{"username": "Cy", "video_and_audio_on": true}'  # no final newline
    )

    assert read(tmp_path, "p.jsonl", data) == [
        (1, "video_and_audio_on must be true or false, not a string"),
        (3, {"room_id": "R", "username": "Bo", "language": "en"}),  # sent in the API's spelling
        (4, "username is not valid UTF-8 text"),
        (5, {"room_id": "R", "username": "Cy", "video_and_audio_on": True}),
    ]


@pytest.mark.parametrize(
    ("content", "defaults", "message"),
    [
        ("username\nA\n", {}, "p.csv: line 1: no 'room_id' column (or give --room)"),
        (
            "username,username\nA,B\n",
            {"room_id": "R"},
            "p.csv: line 1: column 'username' appears more than once",
        ),
        (
            "",
            {"room_id": "R"},
            "p.csv is empty: expected a header row of room_id,username,language,video_and_audio_on",
        ),
    ],
)
def test_csv_header_problems(
    tmp_path: Path, content: str, defaults: dict[str, Any], message: str
) -> None:
    path = tmp_path / "p.csv"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(UsageError) as raised:
        RowSource("participants", str(path), defaults)

    assert raised.value.message == f"{tmp_path}/{message}"


@pytest.mark.parametrize(
    ("succeeded", "codes", "expected"),
    [(3, [], 0), (2, [6], 10), (0, [6, 6], 6), (0, [2, 6, 6], 2), (0, [6, 2, 2], 6), (0, [2], 2)],
)
def test_exit_code(succeeded: int, codes: list[int], expected: int) -> None:
    tally = Tally(succeeded=succeeded)
    for code in codes:
        tally.fail(code)
    assert tally.exit_code() == expected
