"""Text from elsewhere cannot drive the terminal, and text the user gives cannot carry controls.

Answers from a hostile server (OSC 52 clipboard writes, clear-screen, bidi overrides, zero-width
characters) are shown escaped by every renderer; control characters given on the command line or
in a batch file are refused before anything is sent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import (
    API_KEY,
    API_TOKEN,
    Answer,
    Runner,
    ScriptedServer,
    assert_refused,
    clean_environment,
    run_in_pty,
    run_vcctl,
)
from vcctl.emulator.server import Emulator
from vcctl.text import printable

CLIPBOARD = "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # OSC 52: write the clipboard
CLEAR = "\x1b[2J\x1b[H"
BIDI = "\u202eevil\u202c"
ZERO_WIDTH = "a\u200bb\ufeff"
HOSTILE = f"{CLIPBOARD}{CLEAR}{BIDI}{ZERO_WIDTH}"
SHOWN = "\\x1b]52;c;ZWNobyBwd25lZA==\\x07\\x1b[2J\\x1b[H\\u202eevil\\u202ca\\u200bb\\ufeff"
# What must never reach the terminal raw (rich's own colour codes are fine).
RAW = ("\x1b]52", "\x1b[2J", "\x07", "\u202e", "\u200b", "\ufeff")


def assert_nothing_raw(text: str) -> None:
    for sequence in RAW:
        assert sequence not in text, (sequence, text)


def hostile_env(tmp_path: Path, server: ScriptedServer) -> dict[str, str]:
    env = clean_environment(tmp_path)
    env.update(VCCTL_BASE_URL=server.base_url, VCCTL_API_KEY=API_KEY, VCCTL_API_TOKEN=API_TOKEN)
    return env


def test_printable_makes_every_dangerous_character_visible() -> None:
    assert printable(HOSTILE) == SHOWN
    for character in "\x00\x1b\x7f\x85\x9b\u061c\u200e\u200f\u202a\u2060\u2066\u2069":
        assert printable(character) == (
            f"\\x{ord(character):02x}" if ord(character) < 0x100 else f"\\u{ord(character):04x}"
        )
    assert printable("\n\t\r") == "\\n\\t\\r"
    assert printable("Zoë 山田 «ok» — ✓") == "Zoë 山田 «ok» — ✓"
    assert printable(printable(HOSTILE)) == printable(HOSTILE)


def test_auth_status_shows_the_apis_message_escaped(tmp_path: Path) -> None:
    def answer(method: str, path: str) -> Answer:
        return 401, {"error": HOSTILE}

    with ScriptedServer(answer) as server:
        env = hostile_env(tmp_path, server)
        plain = run_vcctl(["auth", "status"], env)
        terminal = run_in_pty(["auth", "status"], env)

    assert plain.code == 4, plain
    assert_nothing_raw(plain.stdout + plain.stderr)
    assert SHOWN in plain.stdout
    assert terminal.code == 4, terminal
    assert_nothing_raw(terminal.stdout)


def test_batch_lines_show_the_apis_answer_escaped(tmp_path: Path) -> None:
    def answer(method: str, path: str) -> Answer:
        return 200, {"id": f"id{CLEAR}", "name": HOSTILE}

    source = tmp_path / "rooms.csv"
    source.write_text("name\nA\n", encoding="utf-8")
    with ScriptedServer(answer) as server:
        env = hostile_env(tmp_path, server)
        plain = run_vcctl(["rooms", "create", "--from-file", str(source)], env)
        terminal = run_in_pty(["rooms", "create", "--from-file", str(source)], env)

    assert plain.code == 0, plain
    assert plain.stdout == f"line 2: created room id\\x1b[2J\\x1b[H ({SHOWN})\n"
    assert terminal.code == 0, terminal
    assert_nothing_raw(terminal.stdout)
    assert "created room" in terminal.stdout


def test_the_watch_view_shows_odd_cells_escaped(tmp_path: Path) -> None:
    room = {
        "id": "abc123",
        "name": "Board",
        "participants": [
            {"id": "p1", "username": f"Ada{BIDI}", "created_at": HOSTILE, "language": "fr"}
        ],
    }
    gets: list[str] = []

    def answer(method: str, path: str) -> Answer:
        gets.append(path)
        # The room disappears on the second look: the watch ends by itself.
        return (200, room) if len(gets) == 1 else (404, {"error": "Room not found"})

    with ScriptedServer(answer) as server:
        env = hostile_env(tmp_path, server)
        result = run_in_pty(["rooms", "watch", "abc123", "--interval", "0.2"], env, columns=200)

    assert result.code == 0, result
    assert_nothing_raw(result.stdout)
    assert "room deleted" in result.stdout


def test_tables_and_views_show_names_escaped(tmp_path: Path) -> None:
    room = {
        "id": "abc123",
        "name": HOSTILE,
        "participants": [{"id": "p1", "username": HOSTILE, "created_at": HOSTILE}],
    }

    def answer(method: str, path: str) -> Answer:
        return 200, room

    with ScriptedServer(answer) as server:
        env = hostile_env(tmp_path, server)
        plain = run_vcctl(["rooms", "get", "abc123"], env)
        terminal = run_in_pty(["rooms", "get", "abc123"], env, columns=300)
        as_json = run_vcctl(["rooms", "get", "abc123", "--json"], env)

    assert plain.code == 0, plain
    assert terminal.code == 0, terminal
    assert_nothing_raw(plain.stdout)
    assert plain.stdout.count(SHOWN) == 3
    assert_nothing_raw(terminal.stdout)
    # --json is the API's JSON, exact: a program reads it, not a terminal.
    assert json.loads(as_json.stdout) == room


# -- control characters given by the user ---------------------------------------------------------


@pytest.mark.parametrize("value", ["a\x1b[2Jb", "tab\there", "new\nline", "del\x7f"])
def test_a_name_with_a_control_character_is_refused_before_sending(
    vcctl: Runner, emulator: Emulator, value: str
) -> None:
    result = vcctl("rooms", "create", "--name", value)
    assert_refused(result, "--name must not contain control characters")
    assert emulator.recorded() == []


def test_a_username_with_a_control_character_is_refused_before_sending(
    vcctl: Runner, emulator: Emulator
) -> None:
    result = vcctl("participants", "create", "--room", "abc123", "--username", "Ada\x1b]52;c;x\x07")
    assert_refused(result, "--username must not contain control characters (found \\x1b)")
    assert emulator.recorded() == []


def test_batch_cells_with_control_characters_are_invalid_rows_naming_the_column(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    csv_file = tmp_path / "people.csv"
    csv_file.write_bytes(b"username,room_id\nAda,r1\nB\x00b,r1\nCy,r\x1b1\n")
    jsonl_file = tmp_path / "people.jsonl"
    jsonl_file.write_text('{"username": "Zoe\\u001b[2J", "room_id": "r1"}\n', encoding="utf-8")

    from_csv = vcctl("participants", "create", "--from-file", str(csv_file), "--dry-run")
    from_jsonl = vcctl("participants", "create", "--from-file", str(jsonl_file), "--dry-run")

    assert from_csv.code == 2, from_csv
    at = f"vcctl: error: {csv_file}: line"
    assert from_csv.stderr.splitlines() == [
        f"{at} 3: username must not contain control characters (found \\x00)",
        f"{at} 4: room_id must not contain control characters (found \\x1b)",
        "valid 1, invalid 2",
    ]
    assert from_jsonl.code == 2, from_jsonl
    assert from_jsonl.stderr.splitlines() == [
        f"vcctl: error: {jsonl_file}: line 1: username must not contain control characters "
        "(found \\x1b)",
        "valid 0, invalid 1",
    ]
    assert emulator.recorded() == []


# -- one escaping rule for every byte that reaches a terminal -------------------------------------

HOSTILE_ID = f"id{CLEAR}{BIDI}"
SHOWN_ID = "id\\x1b[2J\\x1b[H\\u202eevil\\u202c"


def test_q_prints_a_server_supplied_id_escaped_like_text(tmp_path: Path) -> None:
    # -q of a create, of a batch and of `rooms list` printed the id raw (ESC, bidi).
    def answer(method: str, path: str) -> Answer:
        return 200, {"id": HOSTILE_ID, "name": "A"}

    source = tmp_path / "rooms.csv"
    source.write_text("name\nA\n", encoding="utf-8")
    with ScriptedServer(answer) as server:
        env = hostile_env(tmp_path, server)
        single = run_vcctl(["rooms", "create", "--name", "A", "-q"], env)
        batch = run_vcctl(["rooms", "create", "--from-file", str(source), "-q"], env)
        listed = run_vcctl(["rooms", "list", "-q"], env)

    for result in (single, batch, listed):
        assert result.code == 0, result
        assert_nothing_raw(result.stdout + result.stderr)
    assert single.stdout == f"{SHOWN_ID}\n"
    assert batch.stdout == f"{SHOWN_ID}\n"
    assert set(listed.stdout.splitlines()) == {SHOWN_ID}


def test_json_error_lines_escape_like_text_and_json_resources_stay_exact(tmp_path: Path) -> None:
    def answer(method: str, path: str) -> Answer:
        if path.endswith("/rooms/abc123"):
            return 200, {"id": "abc123", "name": HOSTILE}
        return 400, {"error": HOSTILE}

    with ScriptedServer(answer) as server:
        env = hostile_env(tmp_path, server)
        refused = run_vcctl(["rooms", "get", "def456", "--json"], env)
        resource = run_vcctl(["rooms", "get", "abc123", "--json"], env)

    assert refused.code == 3, refused
    assert refused.stdout == ""
    assert_nothing_raw(refused.stderr)
    [line] = refused.stderr.splitlines()
    assert SHOWN in json.loads(line)["error"]["message"]
    # A resource's JSON is the API's, exactly: a program reads it, not a terminal.
    assert resource.code == 0, resource
    assert json.loads(resource.stdout) == {"id": "abc123", "name": HOSTILE}


def test_apply_export_writes_odd_characters_as_toml_escapes(tmp_path: Path) -> None:
    import tomllib

    name = f"Board{BIDI}{ZERO_WIDTH}"

    def answer(method: str, path: str) -> Answer:
        return 200, {"id": "abc123", "name": name, "participants": []}

    with ScriptedServer(answer) as server:
        env = hostile_env(tmp_path, server)
        exported = run_vcctl(["apply", "--export", "abc123", "--stack", "board"], env)

    assert exported.code == 0, exported
    assert_nothing_raw(exported.stdout + exported.stderr)
    assert "\\u202e" in exported.stdout
    # The escapes mean the same characters: applying the file asks for the same name.
    [room] = tomllib.loads(exported.stdout)["rooms"].values()
    assert room["name"] == name
