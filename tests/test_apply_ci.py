"""`vcctl apply` as a CI job uses it, end to end against the emulator: every created id on
stdout, `--dry-run --exit-code`, and fields labelled "changed outside vcctl"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Result, Runner, assert_refused, assert_sent
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
