"""Batch files as spreadsheets write them (capitalised headers, `;` or tab, extra columns),
every row checked before the first request, and `update --from-file`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import Runner, assert_refused
from vcctl.emulator.server import Emulator


def write(path: Path, text: str) -> str:
    path.write_bytes(text.encode("utf-8"))
    return str(path)


def posted(emulator: Emulator) -> list[dict[str, object]]:
    return [json.loads(r.body) for r in emulator.recorded() if r.method == "POST"]


def test_a_french_excel_export_is_read(vcctl: Runner, emulator: Emulator, tmp_path: Path) -> None:
    rooms = write(
        tmp_path / "rooms.csv",
        "\ufeff Name ;COLOR;Key;#notes\r\n6E Physics;#112233;6E;first floor\r\n",
    )
    done = vcctl("rooms", "create", "--from-file", rooms, "-q")
    assert done.code == 0, done
    assert posted(emulator) == [{"name": "6E Physics", "color": "#112233"}]
    room = done.stdout.strip()

    people = write(tmp_path / "people.csv", "Room_ID\tUsername\tComment\n@6E\tMarie Curie\tx\n")
    refused = vcctl("participants", "create", "--from-file", people)
    assert_refused(refused, "unknown column 'Comment' for participants")
    assert "--ignore-columns 'Comment'" in refused.stderr
    emulator.clear_recorded()
    done = vcctl("participants", "create", "--from-file", people, "--ignore-columns", "comment")
    assert done.code == 0, done
    [body] = posted(emulator)
    assert body["username"] == "Marie Curie"
    assert body["room_id"] == room


def test_a_wrong_delimiter_or_a_typo_is_named_with_the_fix(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    semicolons = write(tmp_path / "rooms.csv", "name;color\nA;#112233\n")
    refused = vcctl("rooms", "create", "--from-file", semicolons, "--delimiter", ",")
    assert_refused(refused, "unknown column 'name;color'")
    assert "--delimiter ';'" in refused.stderr
    typo = write(tmp_path / "typo.csv", "nmae,color\nA,#112233\n")
    refused = vcctl("rooms", "create", "--from-file", typo)
    assert_refused(refused, "unknown column 'nmae'")
    assert "did you mean 'name'?" in refused.stderr
    assert emulator.recorded() == []


def test_one_invalid_row_stops_the_batch_before_anything_is_sent(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    rooms = write(tmp_path / "rooms.csv", "name,color\nA,#112233\nB,red\nC,\n,#000000\n")
    refused = vcctl("rooms", "create", "--from-file", rooms)
    assert refused.code == 2, refused
    assert refused.stdout == ""
    assert "line 3: invalid color 'red'" in refused.stderr
    assert "line 5: missing name" in refused.stderr
    assert "2 invalid rows in " in refused.stderr
    assert emulator.recorded() == []

    from_stdin = vcctl("rooms", "create", "--from-file", "-", input='{"name": "A"}\n{"name": 3}\n')
    assert from_stdin.code == 2, from_stdin
    assert "line 2: name must be a string" in from_stdin.stderr
    assert emulator.recorded() == []

    skipped = vcctl("rooms", "create", "--from-file", rooms, "--skip-invalid", "-q")
    assert skipped.code == 10, skipped
    assert sorted(str(body["name"]) for body in posted(emulator)) == ["A", "C"]


def test_update_from_file_sends_only_what_differs_and_shows_it_first(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    made = vcctl("rooms", "create", "--name", "6E Phyiscs", "--key", "6E", "-q")
    assert made.code == 0, made
    room = made.stdout.strip()
    fixes = write(tmp_path / "fixes.csv", "Id;Name;Color\n@6E;6E Physics;\n")
    emulator.clear_recorded()

    planned = vcctl("rooms", "update", "--from-file", fixes, "--dry-run")
    assert planned.code == 0, planned
    assert planned.stdout == (
        f'line 2: would update room {room} (6E Phyiscs): name: "6E Phyiscs" \u2192 "6E Physics"\n'
    )
    assert "would update 1, unchanged 0, failed 0" in planned.stderr
    assert [r.method for r in emulator.recorded()] == ["GET"]

    done = vcctl("rooms", "update", "--from-file", fixes)
    assert done.code == 0, done
    assert posted(emulator) == [{"name": "6E Physics"}]
    again = vcctl("rooms", "update", "--from-file", fixes)
    assert again.code == 0, again
    assert again.stdout == f"line 2: unchanged room {room} (6E Physics)\n"
    assert "updated 0, unchanged 1, failed 0" in again.stderr
    assert len(posted(emulator)) == 1


def test_participants_update_from_file_names_them_by_key_in_a_room(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    room = vcctl("rooms", "create", "--name", "6E", "--key", "6E", "-q").stdout.strip()
    made = vcctl("participants", "create", "--room", "@6E", "--username", "Hedy Lamar",
                 "--key", "hedy", "-q")  # fmt: skip
    assert made.code == 0, made
    fixes = write(tmp_path / "fixes.csv", "id,username,language\n@hedy,Hedy Lamarr,\n")
    emulator.clear_recorded()
    done = vcctl("participants", "update", "--from-file", fixes, "--room", "@6E")
    assert done.code == 0, done
    assert posted(emulator) == [{"username": "Hedy Lamarr"}]
    assert room
