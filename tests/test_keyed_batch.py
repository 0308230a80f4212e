"""Keyed batches told truly, end to end: a re-run says `existing` for the rows whose key already
had a resource (and warns, per row, where the resource differs), a key twice in one file is
refused before anything is sent, --dry-run shows per row what a run would send (GET, POST, ?)
with the real paths, and row messages name the file and line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import Runner, assert_sent
from vcctl.emulator.server import Emulator, Fault


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def rooms_by_name(emulator: Emulator) -> dict[str, str]:
    return {room["name"]: room["id"] for room in emulator.state()["rooms"]}


def test_a_keyed_rerun_says_existing_for_rows_whose_key_had_a_resource(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    source = tmp_path / "rooms.csv"
    write(source, "name,key\nAlpha,a\nBravo,b\n")
    first = vcctl("rooms", "create", "--from-file", str(source))
    assert (first.code, first.stderr) == (0, "created 2, existing 0, failed 0\n"), first
    ids = rooms_by_name(emulator)
    write(source, "name,key\nAlpha,a\nBravo,b\nCharlie,c\n")
    emulator.clear_recorded()

    again = vcctl("rooms", "create", "--from-file", str(source))
    as_json = vcctl("rooms", "create", "--from-file", str(source), "--json")

    assert (again.code, again.stderr) == (0, "created 1, existing 2, failed 0\n"), again
    ids = rooms_by_name(emulator)
    assert again.stdout == (
        f"line 2: exists: room {ids['Alpha']} (Alpha)\n"
        f"line 3: exists: room {ids['Bravo']} (Bravo)\n"
        f"line 4: created room {ids['Charlie']} (Charlie)\n"
    )
    assert as_json.code == 0, as_json
    assert as_json.stderr == '{"summary":{"created":0,"existing":3,"failed":0}}\n'
    assert [json.loads(line)["id"] for line in as_json.stdout.splitlines()] == [
        ids["Alpha"], ids["Bravo"], ids["Charlie"]
    ]  # fmt: skip
    requests = emulator.recorded()
    gets = sorted(r.path for r in requests[:3] if r.method == "GET")
    assert gets == sorted(f"/fr/api/v1/rooms/{ids[n]}" for n in ("Alpha", "Bravo"))
    (post,) = [r for r in requests[:3] if r.method == "POST"]
    assert_sent(post, "POST", "/api/v1/rooms", {"name": "Charlie"})
    assert sorted(r.path for r in requests[3:]) == sorted(
        f"/fr/api/v1/rooms/{room_id}" for room_id in ids.values()
    )
    assert all(r.method == "GET" for r in requests[3:])


def test_a_row_whose_key_names_a_different_resource_is_warned_about_once(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    source = tmp_path / "roster.csv"
    room = vcctl("rooms", "create", "--name", "Board", "-q").stdout.strip()
    write(source, "username,language,key\nAda,en,ada\nGrace,en,grace\n")
    assert vcctl("participants", "create", "--from-file", str(source), "--room", room).code == 0
    write(source, "username,language,key\nAda,en,ada\nGrace H,fr,grace\n")
    emulator.clear_recorded()

    again = vcctl("participants", "create", "--from-file", str(source), "--room", room)
    as_json = vcctl("participants", "create", "--from-file", str(source), "--room", room, "--json")

    grace = next(p for p in emulator.state()["participants"] if p["username"] == "Grace")
    message = (
        f"key 'grace': the existing participant {grace['id']} differs from what was asked in "
        "username, language (not changed)"
    )
    assert again.code == 0, again
    assert again.stderr == (
        f"vcctl: warning: {source}: line 3: {message}\ncreated 0, existing 2, failed 0\n"
    )
    assert as_json.code == 0, as_json
    assert [json.loads(line) for line in as_json.stderr.splitlines()] == [
        {"warning": {"file": str(source), "line": 3, "message": message}},
        {"summary": {"created": 0, "existing": 2, "failed": 0}},
    ]
    assert {r.method for r in emulator.recorded()} == {"GET"}  # nothing created or changed
    assert len(emulator.state()["participants"]) == 2


def test_a_key_twice_in_one_file_is_refused_naming_both_lines_and_nothing_is_sent(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    rooms = write(tmp_path / "rooms.csv", "name,key\nAlpha,a\nBravo,b\nAgain,a\n")
    people = write(
        tmp_path / "people.jsonl",
        '{"room_id": "r1", "username": "Ada", "key": "ada"}\n'
        '{"room_id": "r2", "username": "Ada", "key": "ada"}\n'  # another room: another scope
        "\n"
        '{"room_id": "r1", "username": "Ada L", "key": "ada"}\n',
    )

    refused = vcctl("rooms", "create", "--from-file", rooms)
    as_json = vcctl("participants", "create", "--from-file", people, "--json")
    dry_run = vcctl("rooms", "create", "--from-file", rooms, "--dry-run")
    skipped = vcctl("rooms", "create", "--from-file", rooms, "--skip-invalid", "-q")

    assert refused.code == 2, refused
    assert refused.stdout == ""
    assert refused.stderr == (
        f"vcctl: error: {rooms}: line 4: key 'a' is already the key of line 2: a key names one "
        "room, so each row needs its own\n"
        f"1 invalid row in {rooms}: nothing was sent (fix them, or --skip-invalid to send the "
        "others)\n"
    )
    assert as_json.code == 2, as_json
    error, summary = (json.loads(line) for line in as_json.stderr.splitlines())
    assert error == {
        "error": {
            "exit_code": 2,
            "status": None,
            "message": "key 'ada' (room r1) is already the key of line 1: a key names one "
            "participant, so each row needs its own",
            "file": people,
            "line": 4,
        }
    }
    assert summary == {"summary": {"invalid": 1, "sent": 0}}
    assert dry_run.code == 2, dry_run
    assert f"{rooms}: line 4: key 'a' is already the key of line 2" in dry_run.stderr
    assert dry_run.stderr.endswith("valid 2, invalid 1, would create 2, existing 0, unknown 0\n")
    assert [(r.method, r.path) for r in emulator.recorded()] == [("POST", "/api/v1/rooms")] * 2
    assert sorted(rooms_by_name(emulator)) == ["Alpha", "Bravo"]  # --skip-invalid sent those
    assert skipped.code == 10, skipped


def test_a_keyed_dry_run_shows_per_row_what_a_run_would_send_with_the_real_paths(
    vcctl: Runner, emulator: Emulator, env: dict[str, str], tmp_path: Path
) -> None:
    env = {**env, "VCCTL_LOCALE": "de"}
    made = write(tmp_path / "made.csv", "name,key\nAlpha,a\n")
    assert vcctl("rooms", "create", "--from-file", made, env=env).code == 0
    emulator.add_fault(Fault("status", status=502, method="POST", apply=True))
    lost = vcctl("rooms", "create", "--name", "Maybe", "--key", "m", env=env)
    assert lost.code == 8, lost  # the create's outcome is unknown: key m is blocked
    ids = rooms_by_name(emulator)
    source = write(tmp_path / "rooms.csv", "name,key\nAlpha,a\nMaybe,m\nNew,n\nPlain,\n")
    emulator.clear_recorded()

    plan = vcctl("rooms", "create", "--from-file", source, "--dry-run", env=env)
    as_json = vcctl("rooms", "create", "--from-file", source, "--dry-run", "--json", env=env)
    retrying = vcctl(
        "rooms", "create", "--from-file", source, "--dry-run", "--retry-unknown", env=env
    )

    assert plan.code == 11, plan
    lines = plan.stdout.splitlines()
    alpha = ids["Alpha"]
    assert (
        lines[0]
        == f"line 2: GET /de/api/v1/rooms/{alpha} (key 'a': room {alpha} exists, nothing created)"
    )
    assert lines[1].startswith("line 3: ? room key 'm': an earlier create's outcome is unknown")
    assert lines[2:] == [
        'line 4: POST /api/v1/rooms {"name":"New"}',
        'line 5: POST /api/v1/rooms {"name":"Plain"}',
    ]
    stderr = plan.stderr.splitlines()
    assert stderr[0].startswith(
        f"vcctl: error: {source}: line 3: room key 'm': an earlier create's outcome is unknown"
    )
    assert stderr[1].startswith("hint: check whether it was created, then run 'vcctl inventory")
    assert stderr[2] == "valid 4, invalid 0, would create 2, existing 1, unknown 1"
    assert as_json.code == 11, as_json
    shown = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert shown[0] == {
        "line": 2, "method": "GET", "path": f"/de/api/v1/rooms/{ids['Alpha']}", "body": None,
        "key": "a", "id": ids["Alpha"],
    }  # fmt: skip
    assert {k: v for k, v in shown[1].items() if k != "message"} == {
        "line": 3, "method": "?", "path": None, "body": {"name": "Maybe"}, "key": "m",
    }  # fmt: skip
    assert shown[2:] == [
        {"line": 4, "method": "POST", "path": "/api/v1/rooms", "body": {"name": "New"}, "key": "n"},
        {"line": 5, "method": "POST", "path": "/api/v1/rooms", "body": {"name": "Plain"}},
    ]
    assert json.loads(as_json.stderr.splitlines()[-1]) == {
        "summary": {"valid": 4, "invalid": 0, "would_create": 2, "existing": 1, "unknown": 1}
    }
    assert retrying.code == 0, retrying
    assert retrying.stdout.splitlines()[1] == 'line 3: POST /api/v1/rooms {"name":"Maybe"}'
    assert emulator.recorded() == []  # a dry run sends nothing, not even the GETs
