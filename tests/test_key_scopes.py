"""Keys that never duplicate, end to end (real vcctl processes, the emulator): exact scopes and
the forget command that frees exactly one key, `inventory keys`, one protocol for apply and
`--key`, one account per server however its URL is spelt, and a create whose recording fails
after the API answered, which is printed, never hidden."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from tests.helpers import Runner, run_concurrently
from vcctl.emulator.server import Emulator, Fault


def room_posts(emulator: Emulator) -> int:
    return sum(
        1
        for request in emulator.recorded()
        if request.method == "POST" and request.path.endswith("/rooms")
    )


def stack_file(tmp_path: Path, stack: str | None, *, name: str = "Board") -> Path:
    path = tmp_path / f"{stack or 'plain'}.toml"
    header = f'stack = "{stack}"\n' if stack else ""
    path.write_text(
        f'{header}[rooms.board]\nname = "{name}"\n'
        '[rooms.board.participants.ada]\nusername = "Ada"\n'
    )
    return path


def test_the_forget_hint_frees_exactly_the_one_key_and_no_stack_creates_again(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    weekly, daily = stack_file(tmp_path, "weekly"), stack_file(tmp_path, "daily")
    assert vcctl("apply", "-f", str(weekly)).code == 0
    assert vcctl("apply", "-f", str(daily)).code == 0
    emulator.add_fault(Fault("status", status=504, method="POST", apply=True))
    lost = vcctl("rooms", "create", "--name", "Board", "--key", "board", "-q")
    assert lost.code == 8, lost
    blocked = vcctl("rooms", "create", "--name", "Board", "--key", "board", "-q")
    assert blocked.code == 11, blocked
    assert blocked.stdout == ""
    found = re.search(r"run '(vcctl inventory forget [^']*)'", blocked.stderr)
    assert found is not None, blocked.stderr
    assert found.group(1) == "vcctl inventory forget --key board --no-stack"

    ambiguous = vcctl("inventory", "forget", "--key", "board")
    assert ambiguous.code == 2, ambiguous
    assert "key 'board' is in 3 scopes" in ambiguous.stderr
    assert "'vcctl inventory forget --key board --stack weekly'" in ambiguous.stderr
    assert "'vcctl inventory forget --key board --stack daily'" in ambiguous.stderr

    freed = vcctl(*found.group(1).split()[1:])
    assert freed.code == 0, freed
    emulator.clear_recorded()
    for path in (weekly, daily):
        again = vcctl("apply", "-f", str(path))
        assert again.code == 0, again
        assert again.stdout == "no changes (2 unchanged)\n"
    assert room_posts(emulator) == 0
    listed = vcctl("inventory", "keys", "--json")
    keys = [json.loads(line) for line in listed.stdout.splitlines()]
    assert sorted((k["kind"], k["stack"], k["key"], k["state"]) for k in keys) == [
        ("participant", "daily", "ada", "created"),
        ("participant", "weekly", "ada", "created"),
        ("room", "daily", "board", "created"),
        ("room", "weekly", "board", "created"),
    ]


def test_a_participant_key_is_freed_in_its_room_only(vcctl: Runner, emulator: Emulator) -> None:
    rooms = [vcctl("rooms", "create", "--name", n, "-q").stdout.strip() for n in ("A", "B")]
    emulator.add_fault(Fault("status", status=502, method="POST", apply=True, times=2))
    for room in rooms:
        made = vcctl("participants", "create", "--room", room, "--username", "p", "--key", "p0")
        assert made.code == 8, made
    blocked = vcctl("participants", "create", "--room", rooms[0], "--username", "p", "--key", "p0")
    assert blocked.code == 11, blocked
    assert f"run 'vcctl inventory forget --key p0 --room {rooms[0]}'" in blocked.stderr
    assert vcctl("inventory", "forget", "--key", "p0", "--room", rooms[0]).code == 0
    unknown = vcctl("inventory", "keys", "--unknown")
    assert unknown.code == 0, unknown
    [header, row] = unknown.stdout.splitlines()
    assert header.split() == ["KIND", "KEY", "STACK", "ROOM", "STATE", "ID", "SINCE", "OWNER"]
    assert row.split()[:5] == ["participant", "p0", "-", rooms[1], "unknown"]
    assert f"then run 'vcctl inventory forget --key p0 --room {rooms[1]}'" in unknown.stderr


def test_a_stackless_apply_and_a_keyed_create_at_once_make_one_room(
    vcctl: Runner, env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    plain = stack_file(tmp_path, None)
    # The first create answers slowly: the other process finds the key pending and waits.
    emulator.add_fault(Fault("delay", delay_ms=1500, method="POST", path_regex=r"/rooms$"))
    applied, created = run_concurrently(
        [
            (["apply", "-f", str(plain), "--json"], env),
            (["rooms", "create", "--name", "Board", "--key", "board", "-q"], env),
        ]
    )
    assert applied.code == 0, applied
    assert created.code == 0, created
    assert room_posts(emulator) == 1
    [room] = emulator.state()["rooms"]
    assert created.stdout == f"{room['id']}\n"
    actions = [json.loads(line) for line in applied.stdout.splitlines()]
    assert [a["id"] for a in actions if a.get("kind") == "room"][:1] == [room["id"]]


def test_three_spellings_of_one_base_url_are_one_account(
    vcctl: Runner, env: dict[str, str], emulator: Emulator
) -> None:
    base = emulator.base_url.rstrip("/")
    spellings = [base, base.replace("http://", "HTTP://") + "/", base + "/"]
    ids = set()
    for spelling in spellings:
        made = vcctl(
            "rooms",
            "create",
            "--name",
            "R",
            "--key",
            "r",
            "-q",
            env={**env, "VCCTL_BASE_URL": spelling},
        )
        assert made.code == 0, made
        ids.add(made.stdout)
    assert len(ids) == 1
    assert room_posts(emulator) == 1


FAIL_CREATED_KEYS = (
    "CREATE TRIGGER vcctl_test_fails BEFORE INSERT ON keys WHEN NEW.state = 'created'"
    " BEGIN SELECT RAISE(ABORT, 'disk full'); END"
)


def break_recording(env: dict[str, str], vcctl: Runner) -> None:
    """The inventory takes a claim but fails the write that records a create's answer."""
    assert vcctl("rooms", "list").code == 0  # makes the file
    path = Path(env["VCCTL_DATA_DIR"]) / "inventory.sqlite3"
    db = sqlite3.connect(path)
    db.execute(FAIL_CREATED_KEYS)
    db.commit()
    db.close()


def test_a_create_whose_recording_fails_is_printed_not_hidden(
    vcctl: Runner, env: dict[str, str], emulator: Emulator
) -> None:
    break_recording(env, vcctl)
    for flags in ([], ["-q"], ["--json"]):
        made = vcctl("rooms", "create", "--name", "R", "--key", f"k{len(flags)}{flags}", *flags)
        assert made.code == 0, made  # the API created it: done, with a warning (never 2)
        [room] = [r for r in emulator.state()["rooms"] if r["id"] in made.stdout]
        assert f"room {room['id']} was created, but" in made.stderr
        if flags == ["--json"]:
            assert json.loads(made.stdout)["id"] == room["id"]
        if flags == ["-q"]:
            assert made.stdout == f"{room['id']}\n"
    assert room_posts(emulator) == 3


def test_a_batch_row_whose_recording_fails_is_printed_not_hidden(
    vcctl: Runner, env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    break_recording(env, vcctl)
    source = tmp_path / "rooms.csv"
    source.write_text("name,key\nR1,r1\nR2,r2\n")
    made = vcctl("rooms", "create", "--from-file", str(source), "-q")
    assert made.code == 0, made
    by_name = {room["name"]: room["id"] for room in emulator.state()["rooms"]}
    ids = [by_name["R1"], by_name["R2"]]
    assert made.stdout.split() == ids
    assert f"line 2: room {ids[0]} was created, but" in made.stderr
    assert f"line 3: room {ids[1]} was created, but" in made.stderr


def test_a_loose_inventory_file_and_folder_are_tightened_with_a_warning(
    vcctl: Runner, env: dict[str, str]
) -> None:
    assert vcctl("rooms", "create", "--name", "R", "--key", "r", "-q").code == 0
    folder = Path(env["VCCTL_DATA_DIR"])
    folder.chmod(0o755)
    (folder / "inventory.sqlite3").chmod(0o644)
    again = vcctl("rooms", "create", "--name", "R", "--key", "r", "-q")
    assert again.code == 0, again
    assert f"{folder} was accessible to other users (mode 0755); changed it to 0700" in (
        again.stderr
    )
    assert "inventory.sqlite3 was accessible to other users (mode 0644); changed it to 0600" in (
        again.stderr
    )
    assert (
        folder.stat().st_mode & 0o777,
        (folder / "inventory.sqlite3").stat().st_mode & 0o777,
    ) == (
        0o700,
        0o600,
    )


def test_an_unknown_key_is_planned_as_blocked_and_the_rest_is_carried_out(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "weekly.toml"
    path.write_text('stack = "weekly"\n[rooms.board]\nname = "Board"\n')
    emulator.add_fault(Fault("status", status=504, method="POST", apply=True))
    assert vcctl("apply", "-f", str(path)).code == 8
    path.write_text(path.read_text() + '[rooms.sales]\nname = "Sales"\n')
    emulator.clear_recorded()

    planned = vcctl("apply", "-f", str(path), "--dry-run")
    assert planned.code == 11, planned
    assert re.search(
        r"^\? room board: an earlier create's outcome is unknown \(since \S+\)$",
        planned.stdout,
        re.M,
    ), planned.stdout
    assert "+ room sales" in planned.stdout
    assert "run 'vcctl inventory forget --key board --stack weekly'" in planned.stderr
    assert room_posts(emulator) == 0

    applied = vcctl("apply", "-f", str(path))
    assert applied.code == 11, applied
    assert room_posts(emulator) == 1  # sales only
    assert {room["name"] for room in emulator.state()["rooms"]} == {"Board", "Sales"}


STATE = {
    "version": 1,
    "stack": "weekly",
    "rooms": {"board": {"id": "r1", "participants": {"ada": {"id": "p1"}}}},
}


def test_a_state_file_with_an_empty_id_is_refused_naming_the_field(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "weekly.toml"
    path.write_text('stack = "weekly"\n[rooms.board]\nname = "Board"\n')
    state = tmp_path / "state.json"
    broken = json.loads(json.dumps(STATE))
    broken["rooms"]["board"]["participants"]["ada"]["id"] = ""
    state.write_text(json.dumps(broken))
    refused = vcctl("apply", "-f", str(path), "--state", str(state))
    assert refused.code == 2, refused
    assert f"state file {state}" in refused.stderr
    assert "rooms.board.participants.ada.id: expected a non-empty id or null" in refused.stderr
    assert emulator.recorded() == []


def mutations(data: object, path: tuple[str, ...] = ()) -> list[object]:
    """The state file with one value at a time replaced by odd ones."""
    odd: list[object] = ["", None, 0, 1.5, [], {}, True, "\u202e", "x" * 300]
    found: list[object] = []
    if isinstance(data, dict):
        for key, value in data.items():
            for replacement in odd:
                found.append({**data, key: replacement})
            for changed in mutations(value, (*path, key)):
                found.append({**data, key: changed})
        found.append({**data, "": {}})
    return found


def test_fuzzed_state_files_exit_0_or_2_never_a_traceback(vcctl: Runner, tmp_path: Path) -> None:
    path = tmp_path / "weekly.toml"
    path.write_text('stack = "weekly"\n')
    state = tmp_path / "state.json"
    cases = mutations(STATE)
    import random

    picked = random.Random(19).sample(cases, 12)
    for case in picked:
        state.write_text(json.dumps(case))
        result = vcctl("apply", "-f", str(path), "--state", str(state), "--dry-run")
        assert result.code in (0, 2, 4, 6, 9), (case, result)
        assert "Traceback" not in result.stderr
        assert "internal error" not in result.stderr
