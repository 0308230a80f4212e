"""`vcctl apply` from CSV: a rooms file and a participants file declare the same stack as TOML,
and `apply --export --format csv` writes such a pair. The real CLI against the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import Runner, assert_refused, inventory_keys, seed_participant, seed_room
from vcctl.emulator.server import Emulator

STACK_TOML = """\
stack = "weekly"

[rooms.board]
name = "Board meeting"
color = "#1e90ff"

[rooms.board.participants.ada]
username = "Ada Lovelace"
language = "en"
video_and_audio_on = true

[rooms.board.participants.grace]
username = "Grace Hopper"

[rooms.sales]
name = "Sales"
"""
# The same stack as a spreadsheet saves it: `;`, capitalised headers, a BOM, CRLF, a notes
# column, a boolean spelt `yes`, a colour in capitals, a cell left empty.
ROOMS_CSV = (
    "\ufeffKey;Name;Color;# notes\r\nboard;Board meeting;#1E90FF;weekly\r\nsales;Sales;;\r\n"
)
PEOPLE_CSV = (
    " Room ;Key;Username;Language;Video_And_Audio_On\r\n"
    "board;ada;Ada Lovelace;EN;yes\r\n"
    "board;grace;Grace Hopper;;\r\n"
)


@pytest.fixture(autouse=True)
def private_data_dir(env: dict[str, str], tmp_path: Path) -> None:
    env["VCCTL_DATA_DIR"] = str(tmp_path / "data")


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    rooms, people = tmp_path / "rooms.csv", tmp_path / "participants.csv"
    rooms.write_text(ROOMS_CSV, encoding="utf-8", newline="")
    people.write_text(PEOPLE_CSV, encoding="utf-8", newline="")
    return rooms, people


@pytest.fixture
def toml_file(tmp_path: Path) -> Path:
    path = tmp_path / "rooms.toml"
    path.write_text(STACK_TOML)
    return path


def test_csv_pair_plans_and_applies_like_the_toml_file(
    vcctl: Runner, pair: tuple[Path, Path], toml_file: Path, tmp_path: Path, emulator: Emulator
) -> None:
    rooms, people = pair
    state = str(tmp_path / "state.json")
    from_toml = vcctl("apply", "-f", str(toml_file), "--state", state, "--dry-run")
    # Either order of the files: each is told by its columns.
    from_csv = vcctl(
        "apply",
        "-f",
        str(people),
        "-f",
        str(rooms),
        "--stack",
        "weekly",
        "--state",
        state,
        "--dry-run",
    )
    assert from_csv.code == from_toml.code == 0, (from_csv, from_toml)
    assert from_csv.stdout == from_toml.stdout
    assert "+ participant board/ada" in from_csv.stdout
    emulator.clear_recorded()

    applied = vcctl(
        "apply", "-f", str(rooms), "-f", str(people), "--stack", "weekly", "--state", state
    )
    assert applied.code == 0, applied
    assert "4 created" in applied.stdout
    bodies = [json.loads(r.body) for r in emulator.requests if r.method == "POST"]
    assert {"name": "Board meeting", "color": "#1e90ff"} in bodies
    assert {"name": "Sales"} in bodies  # an empty cell: a field the file does not manage
    assert {"username": "Ada Lovelace", "language": "en", "video_and_audio_on": True} in [
        {k: v for k, v in body.items() if k != "room_id"} for body in bodies
    ]
    # The same state: the TOML form of the stack finds everything done, and so does the CSV.
    again = vcctl("apply", "-f", str(toml_file), "--state", state)
    assert (again.code, again.stdout) == (0, "no changes (4 unchanged)\n"), again
    recorded = json.loads(Path(state).read_text())
    assert recorded["stack"] == "weekly"
    assert sorted(recorded["rooms"]["board"]["participants"]) == ["ada", "grace"]


def test_csv_pair_keeps_the_stack_keys_in_the_inventory(
    vcctl: Runner, pair: tuple[Path, Path], toml_file: Path, env: dict[str, str]
) -> None:
    rooms, people = pair
    applied = vcctl("apply", "-f", str(rooms), "-f", str(people), "--stack", "weekly")
    assert applied.code == 0, applied
    keys = inventory_keys(env, "weekly")
    assert sorted(keys) == ["board", "board/ada", "board/grace", "sales"]
    again = vcctl("apply", "-f", str(toml_file), "--dry-run")
    assert again.stdout.startswith("no changes (4 unchanged)"), again
    got = vcctl("rooms", "get", "@weekly/board", "--json")
    assert json.loads(got.stdout)["id"] == keys["board"]


def test_a_changed_cell_is_an_update_and_a_dropped_row_is_pruned(
    vcctl: Runner, pair: tuple[Path, Path]
) -> None:
    rooms, people = pair
    assert vcctl("apply", "-f", str(rooms), "-f", str(people), "--stack", "weekly").code == 0
    rooms.write_text("key,name,color\nboard,Board meeting,#ff8c00\n")
    people.write_text("room,key,username\nboard,ada,Ada Lovelace\n")
    plan = vcctl(
        "apply", "-f", str(rooms), "-f", str(people), "--stack", "weekly", "--prune", "--yes"
    )
    assert plan.code == 0, plan
    assert '~ room board  color: "#1e90ff" → "#ff8c00"' in plan.stdout
    assert "- participant board/grace" in plan.stdout
    assert "- room sales" in plan.stdout


def test_every_problem_is_named_with_file_line_and_column_and_nothing_is_sent(
    vcctl: Runner, tmp_path: Path, emulator: Emulator
) -> None:
    rooms, people = tmp_path / "r.csv", tmp_path / "p.csv"
    rooms.write_text("key,name,color\nboard,Board,blue\nbad key,X,\nsales,Sales,\nsales,Again,\n")
    people.write_text("room,key,username,language\nbord,ada,Ada,en\nsales,,,\nboard,x,X,\n")
    result = vcctl("apply", "-f", str(rooms), "-f", str(people), "--stack", "s")
    assert_refused(result, "problems in stack file")
    for expected in (
        f"{rooms}:2:3: invalid color 'blue'",
        f"{rooms}:3:1: invalid room key 'bad key'",
        f"{rooms}:5:1: duplicate room key 'sales' (first at {rooms}:4)",
        f"{people}:2:1: room 'bord' names no room of the rooms files (did you mean 'board'?)",
        f"{people}:3:2: no key",
        f"{people}:3:3: no username",
    ):
        assert expected in result.stderr
    assert result.stderr.index(f"{rooms}:2:3") < result.stderr.index(f"{people}:2:1")
    assert f"{people}:4" not in result.stderr  # its room's row has a problem of its own
    assert emulator.requests == []


def test_unknown_columns_and_mixed_files_are_refused(
    vcctl: Runner, pair: tuple[Path, Path], toml_file: Path, tmp_path: Path
) -> None:
    rooms, people = pair
    odd = tmp_path / "odd.csv"
    odd.write_text("key,name,colour\nboard,Board,#fff\n")
    refused = vcctl("apply", "-f", str(odd), "--stack", "s")
    assert_refused(refused, "unknown column 'colour'")
    assert "did you mean 'color'?" in refused.stderr
    # --ignore-columns, as for batch files
    ignored = vcctl(
        "apply", "-f", str(odd), "--stack", "s", "--ignore-columns", "colour", "--dry-run"
    )
    assert ignored.code == 0, ignored
    assert "+ room board" in ignored.stdout
    assert_refused(vcctl("apply", "-f", str(rooms), "-f", str(toml_file)), "CSV files only")
    assert_refused(vcctl("apply", "-f", str(toml_file), "--stack", "s"), "--stack goes with")
    assert_refused(vcctl("apply", "-f", str(rooms), "--prune"), "give --stack NAME")
    lone = vcctl("apply", "-f", str(people), "--stack", "s")
    assert_refused(lone, "names no room of the rooms files")


def test_export_csv_writes_the_pair_and_applying_it_changes_nothing(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    board = seed_room(emulator, "Board, the big one", color="#1e90ff")
    seed_participant(emulator, board["id"], "Ada Lovelace", language="en")
    seed_participant(emulator, board["id"], "Grace", video_and_audio_on=False)
    sales = seed_room(emulator, "Sales")
    out = tmp_path / "out"
    exported = vcctl(
        "apply",
        "--export",
        board["id"],
        sales["id"],
        "--stack",
        "adopted",
        "--format",
        "csv",
        "--output-dir",
        str(out),
    )
    assert exported.code == 0, exported
    assert exported.stdout == f"{out / 'rooms.csv'}\n{out / 'participants.csv'}\n"
    assert (out / "rooms.csv").read_text() == (
        'key,name,color\nboard-the-big-one,"Board, the big one",#1e90ff\nsales,Sales,#5f5f5f\n'
    )
    assert (out / "participants.csv").read_text() == (
        "room,key,username,language,video_and_audio_on\n"
        "board-the-big-one,ada-lovelace,Ada Lovelace,en,true\n"
        "board-the-big-one,grace,Grace,fr,false\n"
    )
    emulator.clear_recorded()
    again = vcctl(
        "apply",
        "-f",
        str(out / "rooms.csv"),
        "-f",
        str(out / "participants.csv"),
        "--stack",
        "adopted",
    )
    assert (again.code, again.stdout) == (0, "no changes (4 unchanged)\n"), again
    assert {r.method for r in emulator.requests} == {"GET"}
    # The keys were recorded: references name the exported rooms, and export takes them too.
    by_key = vcctl("apply", "--export", "@adopted/sales", "--stack", "adopted")
    assert by_key.code == 0, by_key
    assert "[rooms.sales]" in by_key.stdout


def test_export_format_csv_needs_an_output_dir(vcctl: Runner) -> None:
    assert_refused(vcctl("apply", "--export", "abc123", "--format", "csv"), "--output-dir DIR")
    assert_refused(
        vcctl("apply", "--export", "abc123", "--output-dir", "x"), "--output-dir goes with"
    )
    assert_refused(vcctl("apply", "--export", "@nothing"), "names no room")
