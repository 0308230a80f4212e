"""`vcctl apply` end to end: the real CLI against the emulator, with a --state file (and the
key cases again with the records in the local inventory instead)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    Result,
    Runner,
    assert_refused,
    delete_directly,
    inventory_keys,
    run_concurrently,
    run_in_pty,
    seed_participant,
    seed_room,
)
from vcctl.emulator.server import Emulator, Fault

STACK = """\
stack = "weekly-board"

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

[rooms.sales.participants.linus]
username = "Linus"
language = "fi"
"""


@pytest.fixture(autouse=True)
def private_data_dir(env: dict[str, str], tmp_path: Path) -> None:
    """Each test's own VCCTL_DATA_DIR (the `vcctl` fixture runs with this very dict)."""
    env["VCCTL_DATA_DIR"] = str(tmp_path / "data")


@pytest.fixture
def stack_file(tmp_path: Path) -> Path:
    path = tmp_path / "rooms.toml"
    path.write_text(STACK)
    return path


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "rooms.state.json"


@pytest.fixture(params=["state-file", "inventory"])
def records(request: pytest.FixtureRequest, env: dict[str, str], state_file: Path) -> Records:
    """Where the test's applies keep their records: the --state file, or the inventory."""
    return Records(state_file if request.param == "state-file" else None, env)


class Records:
    def __init__(self, state_file: Path | None, env: dict[str, str]) -> None:
        self.state_file = state_file
        self.env = env

    def ids(self, stack: str | None = "weekly-board") -> dict[str, str | None]:
        if self.state_file is None:
            return inventory_keys(self.env, stack)
        return dict(ids(self.state_file))

    def snapshot(self) -> str:
        """The records as text, to compare before and after."""
        if self.state_file is None:
            return json.dumps(self.ids(), sort_keys=True)
        return self.state_file.read_text()


def apply(vcctl: Runner, stack_file: Path, where: Path | Records | None, *extra: str) -> Result:
    """apply -f, with --state unless `where` is None or Records kept in the inventory."""
    state_file = where.state_file if isinstance(where, Records) else where
    state = ["--state", str(state_file)] if state_file is not None else []
    return vcctl("apply", "-f", str(stack_file), *state, *extra)


def methods(emulator: Emulator) -> list[str]:
    return [request.method for request in emulator.recorded()]


def server_rooms(emulator: Emulator) -> dict[str, dict[str, Any]]:
    """Room name -> room with a `members` list of its participants, from the emulator."""
    state = emulator.state()
    rooms = {room["name"]: {**room, "members": []} for room in state["rooms"]}
    by_id = {room["id"]: room for room in rooms.values()}
    for participant in state["participants"]:
        by_id[participant["room_id"]]["members"].append(participant)
    return rooms


def ids(state_file: Path) -> dict[str, str]:
    """key -> id from the state file (participants as room/participant)."""
    data = json.loads(state_file.read_text())
    found = {}
    for room_key, room in data["rooms"].items():
        found[room_key] = room["id"]
        for key, participant in room["participants"].items():
            found[f"{room_key}/{key}"] = participant["id"]
    return found


def test_first_apply_creates_exactly_what_the_file_declares(
    emulator: Emulator, vcctl: Runner, stack_file: Path, records: Records
) -> None:
    result = apply(vcctl, stack_file, records)
    assert result.code == 0, result
    assert result.stderr == ""
    assert methods(emulator) == ["POST"] * 5  # nothing recorded yet: nothing to GET
    rooms = server_rooms(emulator)
    assert sorted(rooms) == ["Board meeting", "Sales"]
    board, sales = rooms["Board meeting"], rooms["Sales"]
    assert board["color"] == "#1e90ff"
    members = {p["username"]: p for p in board["members"]}
    assert sorted(members) == ["Ada Lovelace", "Grace Hopper"]
    assert members["Ada Lovelace"]["language"] == "en"
    assert members["Ada Lovelace"]["video_and_audio_on"] is True
    assert [p["username"] for p in sales["members"]] == ["Linus"]
    assert sales["members"][0]["language"] == "fi"
    # Each line names what it created: a CI log finds every room the run made.
    assert result.stdout == (
        f'+ room board  "Board meeting" → {board["id"]}\n'
        f'+ room sales  "Sales" → {sales["id"]}\n'
        f'+ participant board/ada  "Ada Lovelace" → {members["Ada Lovelace"]["id"]}\n'
        f'+ participant board/grace  "Grace Hopper" → {members["Grace Hopper"]["id"]}\n'
        f'+ participant sales/linus  "Linus" → {sales["members"][0]["id"]}\n'
        "5 created, 0 updated, 0 deleted, 0 unchanged\n"
    )
    # Only the fields the file gives were sent.
    bodies = [json.loads(r.body) for r in emulator.recorded()]
    assert {"name": "Sales"} in bodies
    assert {"room_id": board["id"], "username": "Grace Hopper"} in bodies
    assert records.ids() == {
        "board": board["id"],
        "sales": sales["id"],
        "board/ada": members["Ada Lovelace"]["id"],
        "board/grace": members["Grace Hopper"]["id"],
        "sales/linus": sales["members"][0]["id"],
    }


def test_a_second_apply_sends_only_gets_and_says_nothing_changed(
    emulator: Emulator, vcctl: Runner, stack_file: Path, records: Records
) -> None:
    assert apply(vcctl, stack_file, records).code == 0
    before = records.snapshot()
    emulator.clear_recorded()
    result = apply(vcctl, stack_file, records)
    assert result.code == 0, result
    assert result.stdout == "no changes (5 unchanged)\n"
    # One GET per room: its answer lists its participants.
    assert methods(emulator) == ["GET", "GET"]
    assert records.snapshot() == before


def test_changed_colour_and_language_send_two_updates_with_only_those_fields(
    emulator: Emulator, vcctl: Runner, stack_file: Path, state_file: Path
) -> None:
    assert apply(vcctl, stack_file, state_file).code == 0
    known = ids(state_file)
    stack_file.write_text(
        STACK.replace('color = "#1e90ff"', 'color = "#FF8C00"').replace('"fi"', '"sv"')
    )
    emulator.clear_recorded()
    result = apply(vcctl, stack_file, state_file)
    assert result.code == 0, result
    # The file's '#FF8C00' is shown and sent as the API spells it.
    assert result.stdout == (
        '~ room board  color: "#1e90ff" → "#ff8c00"\n'
        '~ participant sales/linus  language: "fi" → "sv"\n'
        "0 created, 2 updated, 0 deleted, 3 unchanged\n"
    )
    changes = [r for r in emulator.recorded() if r.method != "GET"]
    assert sorted((r.method, r.path, json.loads(r.body)) for r in changes) == sorted(
        [
            ("POST", f"/fr/api/v1/rooms/{known['board']}", {"color": "#ff8c00"}),
            ("POST", f"/fr/api/v1/participants/{known['sales/linus']}", {"language": "sv"}),
        ]
    )


def test_dry_run_sends_only_gets_and_shows_old_and_new(
    emulator: Emulator, vcctl: Runner, stack_file: Path, state_file: Path
) -> None:
    assert apply(vcctl, stack_file, state_file).code == 0
    before = state_file.read_text()
    stack_file.write_text(STACK.replace('"en"', '"de"') + '\n[rooms.annex]\nname = "Annex"\n')
    emulator.clear_recorded()
    result = apply(vcctl, stack_file, state_file, "--dry-run")
    assert result.code == 0, result
    assert result.stdout == (
        '+ room annex  "Annex"\n'
        '~ participant board/ada  language: "en" → "de"\n'
        "1 created, 1 updated, 0 deleted, 4 unchanged (dry run: nothing was changed)\n"
    )
    assert set(methods(emulator)) == {"GET"}
    assert state_file.read_text() == before
    ada = next(p for p in emulator.state()["participants"] if p["username"] == "Ada Lovelace")
    assert ada["language"] == "en"


def test_json_prints_one_line_per_action(
    emulator: Emulator, vcctl: Runner, stack_file: Path, state_file: Path
) -> None:
    assert apply(vcctl, stack_file, state_file).code == 0
    stack_file.write_text(STACK.replace('name = "Sales"', 'name = "Sales team"'))
    result = apply(vcctl, stack_file, state_file, "--json")
    assert result.code == 0, result
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(line["key"] for line in lines) == [
        "board",
        "board/ada",
        "board/grace",
        "sales",
        "sales/linus",
    ]
    for line in lines:
        assert list(line) == ["action", "kind", "key", "id", "changes", "resource"]
    update = next(line for line in lines if line["action"] == "update")
    assert update["key"] == "sales"
    assert update["changes"] == {"name": ["Sales", "Sales team"]}
    assert update["resource"]["name"] == "Sales team"
    assert json.loads(result.stderr) == {
        "summary": {"created": 0, "updated": 1, "deleted": 0, "unchanged": 4, "failed": 0}
    }


def test_prune_refuses_off_a_terminal_without_yes_then_deletes_participants_first(
    emulator: Emulator, vcctl: Runner, stack_file: Path, state_file: Path
) -> None:
    assert apply(vcctl, stack_file, state_file).code == 0
    known = ids(state_file)
    without_grace = STACK.replace(
        '[rooms.board.participants.grace]\nusername = "Grace Hopper"\n', ""
    )
    stack_file.write_text(without_grace[: without_grace.index("[rooms.sales]")])
    emulator.clear_recorded()
    refused = apply(vcctl, stack_file, state_file, "--prune")
    assert refused.code == 2, refused
    assert "refusing to delete without confirmation" in refused.stderr
    assert "--yes" in refused.stderr
    assert set(methods(emulator)) == {"GET"}
    assert len(emulator.state()["participants"]) == 3
    emulator.clear_recorded()
    result = apply(vcctl, stack_file, state_file, "--prune", "--yes")
    assert result.code == 0, result
    assert result.stdout == (
        f'- participant board/grace  "Grace Hopper" (id {known["board/grace"]})\n'
        f'- participant sales/linus  "Linus" (id {known["sales/linus"]})\n'
        f'- room sales  "Sales" (id {known["sales"]}, with 1 participant)\n'
        "0 created, 0 updated, 3 deleted, 2 unchanged\n"
    )
    deletes = [(r.method, r.path) for r in emulator.recorded() if r.method != "GET"]
    # The API does not promise that a room's delete takes its participants: each goes first.
    assert sorted(deletes[:2]) == sorted(
        [
            ("DELETE", f"/fr/api/v1/participants/{known['board/grace']}"),
            ("DELETE", f"/fr/api/v1/participants/{known['sales/linus']}"),
        ]
    )
    assert deletes[2:] == [("DELETE", f"/fr/api/v1/rooms/{known['sales']}")]
    assert sorted(server_rooms(emulator)) == ["Board meeting"]
    assert sorted(ids(state_file)) == ["board", "board/ada"]


def test_prune_asks_on_a_terminal(
    emulator: Emulator, env: dict[str, str], stack_file: Path, state_file: Path
) -> None:
    args = ["apply", "-f", str(stack_file), "--state", str(state_file)]
    seeded = run_in_pty(args, env)
    assert seeded.code == 0, seeded
    stack_file.write_text(STACK[: STACK.index("[rooms.sales]")])
    result = run_in_pty([*args, "--prune"], env, answers=[("[y/N]", "y")])
    assert result.code == 0, result
    question = "Carry out this plan, with 1 participant delete and 1 room delete? [y/N]"
    assert question in result.stdout
    assert "\x1b[" in result.stdout  # the plan is coloured on a terminal
    assert sorted(server_rooms(emulator)) == ["Board meeting"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (STACK.replace("color =", "colour ="), ":5: unknown field rooms.board.colour"),
        (STACK.replace("#1e90ff", "blue"), ":5: "),
        (
            STACK.replace('[rooms.sales]\nname = "Sales"', '[rooms.sales]\nname = "Sales'),
            ":16:14: invalid TOML",
        ),
    ],
    ids=["unknown field", "bad colour", "syntax error"],
)
def test_an_invalid_file_is_refused_naming_the_file_and_line_with_nothing_sent(
    emulator: Emulator,
    vcctl: Runner,
    stack_file: Path,
    state_file: Path,
    text: str,
    expected: str,
) -> None:
    stack_file.write_text(text)
    result = apply(vcctl, stack_file, state_file)
    assert_refused(result, f"{stack_file}{expected}")
    assert emulator.recorded() == []
    assert not state_file.exists()


def test_a_bad_colour_names_the_field(
    emulator: Emulator, vcctl: Runner, stack_file: Path, state_file: Path
) -> None:
    stack_file.write_text(STACK.replace("#1e90ff", "blue"))
    result = apply(vcctl, stack_file, state_file)
    assert_refused(result, "rooms.board.color")
    assert "'blue'" in result.stderr or '"blue"' in result.stderr
    assert emulator.recorded() == []


def test_a_failed_create_exits_10_and_the_rerun_completes_the_stack_once(
    emulator: Emulator, vcctl: Runner, stack_file: Path, records: Records
) -> None:
    emulator.add_fault(Fault("status", status=400, method="POST", path_regex="participants$"))
    result = apply(vcctl, stack_file, records, "--concurrency", "1")
    assert result.code == 10, result
    assert "vcctl: error: create participant board/ada: HTTP 400" in result.stderr
    assert result.stdout.endswith("4 created, 0 updated, 0 deleted, 0 unchanged, 1 failed\n")
    assert sorted(records.ids()) == ["board", "board/grace", "sales", "sales/linus"]
    emulator.clear_recorded()
    again = apply(vcctl, stack_file, records)
    assert again.code == 0, again
    assert again.stdout.endswith("1 created, 0 updated, 0 deleted, 4 unchanged\n")
    assert [r.method for r in emulator.recorded() if r.method != "GET"] == ["POST"]
    assert len(emulator.state()["rooms"]) == 2
    assert sorted(p["username"] for p in emulator.state()["participants"]) == [
        "Ada Lovelace",
        "Grace Hopper",
        "Linus",
    ]


def test_a_create_with_an_unknown_outcome_blocks_its_key(
    emulator: Emulator, vcctl: Runner, stack_file: Path, state_file: Path
) -> None:
    emulator.add_fault(Fault("status", status=502, method="POST", path_regex="rooms$", apply=True))
    result = apply(vcctl, stack_file, state_file, "--concurrency", "1")
    assert result.code == 10, result
    assert "outcome is unknown" in result.stderr
    data = json.loads(state_file.read_text())
    blocked = data["rooms"]["board"]
    assert blocked["id"] is None
    assert blocked["unknown_since"]
    emulator.clear_recorded()
    # The blocked key is refused (exit 11), nothing sent for it; the plan names it.
    again = apply(vcctl, stack_file, state_file)
    assert again.code == 11, again
    assert "? room board: an earlier create's outcome is unknown (since " in again.stdout
    assert f"remove rooms.board from state file {state_file}" in again.stderr
    assert set(methods(emulator)) <= {"GET"}


def test_a_room_deleted_elsewhere_is_recreated_with_its_participants(
    emulator: Emulator, vcctl: Runner, stack_file: Path, state_file: Path
) -> None:
    assert apply(vcctl, stack_file, state_file).code == 0
    old = ids(state_file)
    delete_directly(emulator, f"/api/v1/rooms/{old['board']}")
    result = apply(vcctl, stack_file, state_file)
    assert result.code == 0, result
    assert result.stdout.endswith("3 created, 0 updated, 0 deleted, 2 unchanged\n")
    board = server_rooms(emulator)["Board meeting"]
    assert sorted(p["username"] for p in board["members"]) == ["Ada Lovelace", "Grace Hopper"]
    new = ids(state_file)
    assert new["board"] == board["id"] != old["board"]
    assert new["sales"] == old["sales"]


def test_export_then_apply_changes_nothing(
    emulator: Emulator, vcctl: Runner, tmp_path: Path, records: Records
) -> None:
    room = seed_room(emulator, "Open house", color="#00aa00")
    seed_participant(emulator, room["id"], "Zoë Ünal", language="de")
    seed_participant(emulator, room["id"], "Zoë Ünal")
    other = seed_room(emulator, "Open house")
    state = [] if records.state_file is None else ["--state", str(records.state_file)]
    exported = vcctl("apply", "--export", room["id"], other["id"], "--stack", "open", *state)
    assert exported.code == 0, exported
    assert '[rooms.open-house-2]\nname = "Open house"\n' in exported.stdout
    assert "[rooms.open-house.participants.zoe-unal-2]" in exported.stdout
    stack_file = tmp_path / "open.toml"
    stack_file.write_text(exported.stdout)
    emulator.clear_recorded()
    result = apply(vcctl, stack_file, records)
    assert result.code == 0, result
    assert result.stdout == "no changes (4 unchanged)\n"
    assert set(methods(emulator)) == {"GET"}


def test_two_machines_sharing_one_state_file_create_the_stack_once(
    emulator: Emulator, env: dict[str, str], stack_file: Path, state_file: Path, tmp_path: Path
) -> None:
    commands = []
    for machine in ("one", "two"):
        machine_env = {**env, "VCCTL_DATA_DIR": str(tmp_path / machine)}
        args = ["apply", "-f", str(stack_file), "--state", str(state_file)]
        commands.append((args, machine_env))
    results = run_concurrently(commands)
    assert [result.code for result in results] == [0, 0], results
    summaries = sorted(result.stdout.splitlines()[-1] for result in results)
    assert summaries == [
        "5 created, 0 updated, 0 deleted, 0 unchanged",
        "no changes (5 unchanged)",
    ]
    assert len(emulator.state()["rooms"]) == 2
    assert len(emulator.state()["participants"]) == 3


def test_stack_file_on_stdin(emulator: Emulator, vcctl: Runner, state_file: Path) -> None:
    result = vcctl("apply", "-f", "-", "--state", str(state_file), input=STACK)
    assert result.code == 0, result
    assert len(emulator.state()["participants"]) == 3


def test_prune_needs_a_stack_name(emulator: Emulator, vcctl: Runner, tmp_path: Path) -> None:
    path = tmp_path / "plain.toml"
    path.write_text('[rooms.a]\nname = "A"\n')
    result = vcctl("apply", "-f", str(path), "--state", str(tmp_path / "s.json"), "--prune")
    assert_refused(result, "--prune needs a stack name")
    assert emulator.recorded() == []
