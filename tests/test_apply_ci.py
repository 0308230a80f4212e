"""`vcctl apply` as a CI job uses it, end to end against the emulator: every created id on
stdout, `--dry-run --exit-code`, and fields labelled "changed outside vcctl"."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    Result,
    Runner,
    assert_refused,
    assert_sent,
    run_concurrently,
    run_in_pty,
    run_vcctl,
    seed,
)
from vcctl.emulator.server import Emulator, Fault

STACK = """\
stack = "ci"

[rooms.board]
name = "Board meeting"
color = "#1e90ff"

[rooms.board.participants.ada]
username = "Ada Lovelace"
language = "en"

[rooms.sales]
name = "Sales"
"""


@pytest.fixture(autouse=True)
def private_data_dir(env: dict[str, str], tmp_path: Path) -> None:
    env["VCCTL_DATA_DIR"] = str(tmp_path / "data")


@pytest.fixture
def stack_file(tmp_path: Path) -> Path:
    path = tmp_path / "rooms.toml"
    path.write_text(STACK)
    return path


@pytest.fixture(params=["state-file", "inventory"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> list[str]:
    """Where the applies keep their records: a --state file, or the local inventory."""
    if request.param == "state-file":
        return ["--state", str(tmp_path / "rooms.state.json")]
    return []


def apply(vcctl: Runner, stack_file: Path, state: list[str], *extra: str) -> Result:
    return vcctl("apply", "-f", str(stack_file), *state, *extra)


def by_name(emulator: Emulator, kind: str) -> dict[str, dict[str, Any]]:
    found = emulator.state()[kind]
    return {item["name" if kind == "rooms" else "username"]: item for item in found}


def test_a_run_names_each_created_id_on_its_line_in_plan_order(
    emulator: Emulator, vcctl: Runner, stack_file: Path, state: list[str]
) -> None:
    result = apply(vcctl, stack_file, state)
    assert result.code == 0, result
    rooms, people = by_name(emulator, "rooms"), by_name(emulator, "participants")
    assert result.stdout == (
        f'+ room board  "Board meeting" → {rooms["Board meeting"]["id"]}\n'
        f'+ room sales  "Sales" → {rooms["Sales"]["id"]}\n'
        f'+ participant board/ada  "Ada Lovelace" → {people["Ada Lovelace"]["id"]}\n'
        "3 created, 0 updated, 0 deleted, 0 unchanged\n"
    )
    assert result.stderr == ""


def test_a_failed_create_is_marked_and_what_waited_for_it_is_not_sent(
    emulator: Emulator, vcctl: Runner, stack_file: Path, state: list[str]
) -> None:
    emulator.add_fault(Fault("status", status=400, method="POST", path_regex="rooms$"))
    result = apply(vcctl, stack_file, state, "--concurrency", "1")
    assert result.code == 10, result
    sales = by_name(emulator, "rooms")["Sales"]
    assert list(by_name(emulator, "rooms")) == ["Sales"]
    # The board's create was refused, so its participant was never sent; the rest was done.
    assert result.stdout == (
        '+ room board  "Board meeting" (failed)\n'
        f'+ room sales  "Sales" → {sales["id"]}\n'
        '+ participant board/ada  "Ada Lovelace" (not sent)\n'
        "1 created, 0 updated, 0 deleted, 0 unchanged, 2 failed\n"
    )
    assert result.stderr.splitlines()[0].startswith("vcctl: error: create room board: HTTP 400")
    assert "not sent: its room board was not created" in result.stderr
    posts = [r for r in emulator.recorded() if r.method == "POST"]
    assert [json.loads(r.body) for r in posts] == [
        {"name": "Board meeting", "color": "#1e90ff"},
        {"name": "Sales"},
    ]


def test_a_create_of_unknown_outcome_says_so_on_its_line(
    emulator: Emulator, vcctl: Runner, stack_file: Path, state: list[str]
) -> None:
    stack_file.write_text('stack = "ci"\n\n[rooms.sales]\nname = "Sales"\n')
    emulator.add_fault(Fault("status", status=502, method="POST", path_regex="rooms$", apply=True))
    result = apply(vcctl, stack_file, state)
    assert result.code == 8, result
    assert result.stdout == (
        '+ room sales  "Sales" (outcome unknown)\n'
        "0 created, 0 updated, 0 deleted, 0 unchanged, 1 failed\n"
    )
    assert "outcome is unknown" in result.stderr


def test_json_lines_carry_the_created_ids(
    emulator: Emulator, vcctl: Runner, stack_file: Path, state: list[str]
) -> None:
    result = apply(vcctl, stack_file, state, "--json")
    assert result.code == 0, result
    lines = {line["key"]: line for line in map(json.loads, result.stdout.splitlines())}
    rooms, people = by_name(emulator, "rooms"), by_name(emulator, "participants")
    assert {key: (line["action"], line["id"]) for key, line in lines.items()} == {
        "board": ("create", rooms["Board meeting"]["id"]),
        "sales": ("create", rooms["Sales"]["id"]),
        "board/ada": ("create", people["Ada Lovelace"]["id"]),
    }
    assert lines["board/ada"]["resource"] == people["Ada Lovelace"]


def test_a_run_that_asks_before_deleting_shows_the_plan_then_what_it_did(
    emulator: Emulator, vcctl: Runner, stack_file: Path, tmp_path: Path
) -> None:
    state = ["--state", str(tmp_path / "s.json")]
    assert apply(vcctl, stack_file, state).code == 0
    sales = by_name(emulator, "rooms")["Sales"]
    stack_file.write_text(STACK.replace('[rooms.sales]\nname = "Sales"', '[rooms.hr]\nname = "HR"'))
    refused = apply(vcctl, stack_file, state, "--prune")
    assert refused.code == 2, refused
    # Off a terminal without --yes: the plan it would carry out, then the refusal.
    assert refused.stdout == (f'+ room hr  "HR"\n- room sales  "Sales" (id {sales["id"]})\n')
    assert "refusing to delete without confirmation" in refused.stderr
    assert "HR" not in by_name(emulator, "rooms")
    done = apply(vcctl, stack_file, state, "--prune", "--yes")
    assert done.code == 0, done
    hr = by_name(emulator, "rooms")["HR"]
    assert done.stdout == (
        f'+ room hr  "HR" → {hr["id"]}\n'
        f'- room sales  "Sales" (id {sales["id"]})\n'
        "1 created, 0 updated, 1 deleted, 2 unchanged\n"
    )


def test_on_a_terminal_each_line_comes_coloured_with_its_id(
    emulator: Emulator, env: dict[str, str], stack_file: Path, tmp_path: Path
) -> None:
    state = ["--state", str(tmp_path / "s.json")]
    result = run_in_pty(["apply", "-f", str(stack_file), *state], env)
    assert result.code == 0, result
    rooms = by_name(emulator, "rooms")
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", result.stdout)
    assert f'+ room board  "Board meeting" → {rooms["Board meeting"]["id"]}' in shown
    assert f'+ room sales  "Sales" → {rooms["Sales"]["id"]}' in shown
    assert "\x1b[32m+ room board" in result.stdout  # green, as the plan's creates are
    assert shown.count("+ room board") == 1  # no plan first: nothing to ask


# -- --dry-run --exit-code ---------------------------------------------------------------------


def test_exit_code_is_12_when_the_plan_has_changes_and_only_gets_are_sent(
    emulator: Emulator, vcctl: Runner, stack_file: Path, state: list[str]
) -> None:
    assert apply(vcctl, stack_file, state).code == 0
    board = by_name(emulator, "rooms")["Board meeting"]
    stack_file.write_text(STACK.replace("#1e90ff", "#ff8c00"))
    emulator.clear_recorded()
    result = apply(vcctl, stack_file, state, "--dry-run", "--exit-code")
    assert result.code == 12, result
    assert result.stdout == (
        '~ room board  color: "#1e90ff" → "#ff8c00"\n'
        "0 created, 1 updated, 0 deleted, 2 unchanged (dry run: nothing was changed)\n"
    )
    assert result.stderr == ""
    sent = emulator.recorded()
    assert {r.method for r in sent} == {"GET"}
    assert_sent(
        next(r for r in sent if board["id"] in r.path), "GET", f"/fr/api/v1/rooms/{board['id']}"
    )
    assert by_name(emulator, "rooms")["Board meeting"]["color"] == "#1e90ff"


def test_exit_code_is_0_when_nothing_would_change(
    emulator: Emulator, vcctl: Runner, stack_file: Path, state: list[str]
) -> None:
    assert apply(vcctl, stack_file, state).code == 0
    result = apply(vcctl, stack_file, state, "--dry-run", "--exit-code")
    assert (result.code, result.stdout, result.stderr) == (0, "no changes (3 unchanged)\n", "")


def test_exit_code_is_12_for_a_first_plan_and_with_json(
    emulator: Emulator, vcctl: Runner, stack_file: Path, state: list[str]
) -> None:
    result = apply(vcctl, stack_file, state, "--dry-run", "--exit-code", "--json")
    assert result.code == 12, result
    assert [json.loads(line)["action"] for line in result.stdout.splitlines()] == ["create"] * 3
    assert json.loads(result.stderr)["summary"]["created"] == 3
    assert emulator.recorded() == []


def test_without_exit_code_a_plan_with_changes_exits_0(
    emulator: Emulator, vcctl: Runner, stack_file: Path, state: list[str]
) -> None:
    result = apply(vcctl, stack_file, state, "--dry-run")
    assert result.code == 0, result


def test_exit_code_keeps_the_other_failures_codes(
    emulator: Emulator, vcctl: Runner, stack_file: Path, state: list[str]
) -> None:
    assert apply(vcctl, stack_file, state).code == 0
    stack_file.write_text(STACK.replace("#1e90ff", "#ff8c00"))
    # The GETs the plan needs are refused: 401 is 4, as anywhere.
    emulator.add_fault(Fault("status", status=401, method="GET", times=10))
    result = apply(vcctl, stack_file, state, "--dry-run", "--exit-code")
    assert result.code == 4, result
    assert "HTTP 401" in result.stderr
    stack_file.write_text(STACK.replace("color =", "colour ="))
    invalid = apply(vcctl, stack_file, state, "--dry-run", "--exit-code")
    assert_refused(invalid, "unknown field rooms.board.colour")


def test_exit_code_is_11_when_a_key_is_blocked_even_with_other_changes(
    emulator: Emulator, vcctl: Runner, stack_file: Path, state: list[str]
) -> None:
    emulator.add_fault(Fault("status", status=502, method="POST", path_regex="rooms$", apply=True))
    assert apply(vcctl, stack_file, state, "--concurrency", "1").code == 10
    emulator.clear_recorded()
    result = apply(vcctl, stack_file, state, "--dry-run", "--exit-code")
    assert result.code == 11, result
    assert "? room board: an earlier create's outcome is unknown" in result.stdout
    assert {r.method for r in emulator.recorded()} <= {"GET"}


def test_exit_code_without_dry_run_is_refused_before_anything_is_sent(
    emulator: Emulator, vcctl: Runner, stack_file: Path, state: list[str]
) -> None:
    result = apply(vcctl, stack_file, state, "--exit-code")
    assert_refused(result, "--exit-code goes with --dry-run")
    assert "a real apply exits 0 when it succeeds" in result.stderr
    assert emulator.recorded() == []


# -- changed outside vcctl -----------------------------------------------------------------------


@pytest.fixture(params=["state-file", "sqlite", "postgres"])
def memory(request: pytest.FixtureRequest, env: dict[str, str], tmp_path: Path) -> list[str]:
    """Where apply remembers what it set: a --state file, or the inventory on either backend."""
    if request.param == "state-file":
        return ["--state", str(tmp_path / "rooms.state.json")]
    if request.param == "postgres":
        env["VCCTL_INVENTORY_URL"] = request.getfixturevalue("postgres_url")
    return []


def change_directly(emulator: Emulator, path: str, **fields: Any) -> None:
    """An update through the emulator's API, as a colleague or the web console would make it."""
    seed(emulator, path, fields)


def test_a_field_changed_outside_vcctl_is_labelled_in_the_plan(
    emulator: Emulator, vcctl: Runner, stack_file: Path, memory: list[str]
) -> None:
    assert apply(vcctl, stack_file, memory).code == 0
    board = by_name(emulator, "rooms")["Board meeting"]
    ada = by_name(emulator, "participants")["Ada Lovelace"]
    change_directly(emulator, f"/api/v1/rooms/{board['id']}", color="#00ff00")
    change_directly(emulator, f"/api/v1/participants/{ada['id']}", language="de")
    # The file changes the name too: that change is the file's, not labelled.
    stack_file.write_text(STACK.replace('"Board meeting"', '"Board"'))

    plan = apply(vcctl, stack_file, memory, "--dry-run")
    assert plan.code == 0, plan
    assert plan.stdout == (
        '~ room board  name: "Board meeting" → "Board", '
        'color: "#00ff00" → "#1e90ff" (changed outside vcctl)\n'
        '~ participant board/ada  language: "de" → "en" (changed outside vcctl)\n'
        "0 created, 2 updated, 0 deleted, 1 unchanged (dry run: nothing was changed)\n"
    )
    assert plan.stderr == ""

    lines = apply(vcctl, stack_file, memory, "--dry-run", "--json")
    updates = {line["key"]: line for line in map(json.loads, lines.stdout.splitlines())}
    assert updates["board"]["changes"] == {
        "name": ["Board meeting", "Board"],
        "color": ["#00ff00", "#1e90ff"],
    }
    assert updates["board"]["changed_outside"] == {"color": "#1e90ff"}
    assert updates["board/ada"]["changed_outside"] == {"language": "en"}
    assert "changed_outside" not in updates["sales"]  # unchanged: the contract's keys only

    # The apply sets them back; then nothing is changed, nothing labelled.
    done = apply(vcctl, stack_file, memory)
    assert done.code == 0, done
    assert "(changed outside vcctl)" in done.stdout
    emulator.clear_recorded()
    again = apply(vcctl, stack_file, memory, "--dry-run", "--exit-code")
    assert (again.code, again.stdout) == (0, "no changes (3 unchanged)\n")
    assert {r.method for r in emulator.recorded()} == {"GET"}


def test_what_an_update_set_is_what_the_next_plan_compares_with(
    emulator: Emulator, vcctl: Runner, stack_file: Path, memory: list[str]
) -> None:
    assert apply(vcctl, stack_file, memory).code == 0
    board = by_name(emulator, "rooms")["Board meeting"]
    stack_file.write_text(STACK.replace("#1e90ff", "#ff8c00"))
    updated = apply(vcctl, stack_file, memory)
    assert updated.stdout.startswith('~ room board  color: "#1e90ff" → "#ff8c00"\n'), updated
    # A file change is not a change outside vcctl, before or after it is applied.
    assert "outside" not in updated.stdout
    change_directly(emulator, f"/api/v1/rooms/{board['id']}", color="#123456")
    plan = apply(vcctl, stack_file, memory, "--dry-run", "--json")
    [line] = [json.loads(line) for line in plan.stdout.splitlines() if '"update"' in line]
    assert line["changes"] == {"color": ["#123456", "#ff8c00"]}
    assert line["changed_outside"] == {"color": "#ff8c00"}


def test_a_field_set_outside_to_what_the_file_says_is_no_change(
    emulator: Emulator, vcctl: Runner, stack_file: Path, memory: list[str]
) -> None:
    assert apply(vcctl, stack_file, memory).code == 0
    board = by_name(emulator, "rooms")["Board meeting"]
    change_directly(emulator, f"/api/v1/rooms/{board['id']}", color="#ff8c00")
    stack_file.write_text(STACK.replace("#1e90ff", "#ff8c00"))
    result = apply(vcctl, stack_file, memory, "--dry-run", "--exit-code")
    assert (result.code, result.stdout) == (0, "no changes (3 unchanged)\n")


def test_a_version_1_state_file_shows_no_label_until_an_apply_has_set_the_fields(
    emulator: Emulator, vcctl: Runner, stack_file: Path, tmp_path: Path
) -> None:
    path = tmp_path / "rooms.state.json"
    state = ["--state", str(path)]
    assert apply(vcctl, stack_file, state).code == 0
    rooms, ada = by_name(emulator, "rooms"), by_name(emulator, "participants")["Ada Lovelace"]
    board, sales = rooms["Board meeting"], rooms["Sales"]
    old = {  # what a vcctl from before kept: ids only
        "rooms": {
            "board": {"id": board["id"], "participants": {"ada": {"id": ada["id"]}}},
            "sales": {"id": sales["id"], "participants": {}},
        },
        "stack": "ci",
        "version": 1,
    }
    path.write_text(json.dumps(old, indent=2, sort_keys=True) + "\n")
    change_directly(emulator, f"/api/v1/rooms/{board['id']}", color="#00ff00")

    plan = apply(vcctl, stack_file, state, "--dry-run")
    assert plan.stdout.splitlines()[0] == '~ room board  color: "#00ff00" → "#1e90ff"', plan
    assert json.loads(path.read_text()) == old  # a dry run writes nothing

    # A real apply sets every managed field, so it keeps them all, at the new version.
    assert apply(vcctl, stack_file, state).code == 0
    data = json.loads(path.read_text())
    assert data["version"] == 2
    assert data["rooms"]["board"]["applied"] == {"name": "Board meeting", "color": "#1e90ff"}
    assert data["rooms"]["board"]["participants"]["ada"] == {
        "id": ada["id"],
        "applied": {"username": "Ada Lovelace", "language": "en"},
    }
    assert data["rooms"]["sales"]["applied"] == {"name": "Sales"}
    # Then a run that changes nothing writes nothing.
    before = path.stat()
    assert apply(vcctl, stack_file, state).stdout == "no changes (3 unchanged)\n"
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_inventory_keys_from_before_show_no_label(
    emulator: Emulator, vcctl: Runner, stack_file: Path, env: dict[str, str]
) -> None:
    assert apply(vcctl, stack_file, []).code == 0
    board = by_name(emulator, "rooms")["Board meeting"]
    inventory = Path(env["VCCTL_DATA_DIR"]) / "inventory.sqlite3"
    with sqlite3.connect(inventory) as db:  # what the migration leaves on keys it finds
        assert db.execute("UPDATE keys SET applied = NULL").rowcount == 3
    change_directly(emulator, f"/api/v1/rooms/{board['id']}", color="#00ff00")
    plan = apply(vcctl, stack_file, [], "--dry-run", "--json")
    [update] = [json.loads(line) for line in plan.stdout.splitlines() if '"update"' in line]
    assert update["changes"] == {"color": ["#00ff00", "#1e90ff"]}
    assert "changed_outside" not in update


# -- the CI race: a committed state file from a stale checkout, and the shared inventory ---------

HR = 'stack = "ci"\n\n[rooms.legal]\nname = "Legal"\n\n[rooms.hr]\nname = "HR"\n'


def runner(tmp_path: Path, name: str, env: dict[str, str]) -> dict[str, str]:
    """A fresh CI runner: its own HOME, config and data folder."""
    folder = tmp_path / name
    return {
        **env,
        "HOME": str(folder / "home"),
        "VCCTL_CONFIG_DIR": str(folder / "config"),
        "VCCTL_DATA_DIR": str(folder / "data"),
    }


def test_two_runs_from_checkouts_without_each_others_state_commit_create_twice_and_log_both(
    emulator: Emulator, env: dict[str, str], tmp_path: Path
) -> None:
    """What the README warns of: each run's checkout has the state file as committed before
    either ran, so the second does not know what the first created."""
    committed = '{"rooms": {}, "stack": "ci", "version": 2}\n'
    results = []
    for name in ("pr-3", "pr-4"):
        checkout = tmp_path / name / "checkout"
        checkout.mkdir(parents=True)
        (checkout / "rooms.toml").write_text(HR)
        (checkout / "rooms.state.json").write_text(committed)
        args = ["apply", "-f", str(checkout / "rooms.toml")]
        args += ["--state", str(checkout / "rooms.state.json")]
        results.append(run_vcctl(args, runner(tmp_path, name, env)))
    assert [result.code for result in results] == [0, 0], results
    hr = sorted(room["id"] for room in emulator.state()["rooms"] if room["name"] == "HR")
    assert len(hr) == 2  # the duplicate the README describes
    # Each run's log names the HR room it made: the orphan can be found and deleted.
    logged = sorted(
        line.rsplit(" → ", 1)[1]
        for result in results
        for line in result.stdout.splitlines()
        if line.startswith('+ room hr  "HR" → ')
    )
    assert logged == hr


def test_runners_sharing_the_inventory_create_the_stack_once_and_the_log_names_it(
    emulator: Emulator, env: dict[str, str], tmp_path: Path, postgres_url: str
) -> None:
    commands = []
    for name in ("pr-3", "pr-4", "pr-5"):
        checkout = tmp_path / name / "checkout"
        checkout.mkdir(parents=True)
        (checkout / "rooms.toml").write_text(HR)
        shared = {**runner(tmp_path, name, env), "VCCTL_INVENTORY_URL": postgres_url}
        commands.append((["apply", "-f", str(checkout / "rooms.toml")], shared))
    results = run_concurrently(commands)
    assert [result.code for result in results] == [0, 0, 0], results
    rooms = emulator.state()["rooms"]
    assert sorted(room["name"] for room in rooms) == ["HR", "Legal"]
    ids = {room["name"]: room["id"] for room in rooms}
    outputs = sorted(result.stdout for result in results)
    assert outputs == [
        f'+ room legal  "Legal" → {ids["Legal"]}\n'
        f'+ room hr  "HR" → {ids["HR"]}\n'
        "2 created, 0 updated, 0 deleted, 0 unchanged\n",
        "no changes (2 unchanged)\n",
        "no changes (2 unchanged)\n",
    ]
    assert len([r for r in emulator.recorded() if r.method == "POST"]) == 2


def test_a_file_without_a_stack_keeps_what_it_set_with_the_plain_keys(
    emulator: Emulator, vcctl: Runner, stack_file: Path
) -> None:
    stack_file.write_text(STACK.replace('stack = "ci"\n', ""))
    assert apply(vcctl, stack_file, []).code == 0
    ada = by_name(emulator, "participants")["Ada Lovelace"]
    change_directly(emulator, f"/api/v1/participants/{ada['id']}", language="de")
    plan = apply(vcctl, stack_file, [], "--dry-run")
    assert plan.stdout == (
        '~ participant board/ada  language: "de" → "en" (changed outside vcctl)\n'
        "0 created, 1 updated, 0 deleted, 2 unchanged (dry run: nothing was changed)\n"
    ), plan
