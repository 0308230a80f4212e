"""`vcctl apply` without --state: the stack's records in the local inventory. Real processes
against the real emulator, each test with its own VCCTL_DATA_DIR (see `clean_environment`)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import Runner, assert_refused, inventory_keys, run_concurrently
from vcctl.emulator.server import Emulator

STACK = """\
stack = "weekly"

[rooms.board]
name = "Board meeting"

[rooms.board.participants.ada]
username = "Ada Lovelace"

[rooms.sales]
name = "Sales"
"""


def write(tmp_path: Path, text: str, name: str = "rooms.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_applied_rooms_are_listed_with_their_keys_and_pruned_ones_are_gone(
    env: dict[str, str], vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    assert vcctl("apply", "-f", write(tmp_path, STACK)).code == 0
    ids = inventory_keys(env, "weekly")

    listed = [json.loads(line) for line in vcctl("rooms", "list", "--json").stdout.splitlines()]
    participants = vcctl("participants", "list", "--json").stdout.splitlines()

    assert {(room["name"], room["vcctl"]["key"], room["id"]) for room in listed} == {
        ("Board meeting", "board", ids["board"]),
        ("Sales", "sales", ids["sales"]),
    }
    ada = json.loads(participants[0])
    assert (ada["id"], ada["vcctl"]["key"]) == (ids["board/ada"], "ada")

    smaller = write(tmp_path, STACK.split("[rooms.sales]")[0], "smaller.toml")
    pruned = vcctl("apply", "-f", smaller, "--prune", "--yes")
    assert pruned.code == 0, pruned
    assert vcctl("rooms", "list", "-q").stdout.split() == [ids["board"]]
    assert inventory_keys(env, "weekly") == {
        "board": ids["board"],
        "board/ada": ids["board/ada"],
    }


def test_without_a_stack_the_keys_are_the_plain_keys_of_rooms_create(
    env: dict[str, str], vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    created = vcctl("rooms", "create", "--name", "Board meeting", "--key", "board", "-q")
    room_id = created.stdout.strip()
    keyed = vcctl(
        "participants", "create", "--room", room_id, "--username", "Ada", "--key", "ada", "-q"
    )
    assert keyed.code == 0, keyed
    emulator.clear_recorded()
    plain = (
        '[rooms.board]\nname = "Board meeting"\n[rooms.board.participants.ada]\nusername = "Ada"\n'
    )

    result = vcctl("apply", "-f", write(tmp_path, plain))

    assert result.code == 0, result
    assert result.stdout == "no changes (2 unchanged)\n"
    assert {request.method for request in emulator.recorded()} == {"GET"}
    # And the other way round: a key apply made is the one rooms create --key finds.
    applied = vcctl("apply", "-f", write(tmp_path, '[rooms.sales]\nname = "Sales"\n'))
    assert applied.code == 0, applied
    again = vcctl("rooms", "create", "--name", "Sales", "--key", "sales", "-q")
    assert again.code == 0, again
    assert sorted(room["name"] for room in emulator.state()["rooms"]) == ["Board meeting", "Sales"]
    assert inventory_keys(env, None) == {
        "board": room_id,
        "sales": again.stdout.strip(),
        "board/ada": keyed.stdout.strip(),
    }


def test_with_the_inventory_off_apply_refuses_before_sending(
    env: dict[str, str], vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    result = vcctl("apply", "-f", write(tmp_path, STACK), env={**env, "VCCTL_INVENTORY": "off"})

    assert_refused(result, "apply without --state keeps its records in the local inventory")
    assert "--state FILE" in result.stderr
    assert emulator.recorded() == []
    assert not (tmp_path / "data").exists()


def test_an_unusable_inventory_makes_apply_refuse_before_sending(
    env: dict[str, str], vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    data = Path(env["VCCTL_DATA_DIR"])
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    (data / "inventory.sqlite3").write_bytes(b"not a database" * 100)

    result = vcctl("apply", "-f", write(tmp_path, STACK))

    assert_refused(result, "apply without --state keeps its records in the local inventory")
    assert "--state FILE" in result.stderr
    assert emulator.recorded() == []


def test_two_applies_of_one_stack_at_once_create_it_once(
    env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    args = ["apply", "-f", write(tmp_path, STACK)]
    results = run_concurrently([(args, env), (args, env)])

    assert [result.code for result in results] == [0, 0], results
    summaries = sorted(result.stdout.splitlines()[-1] for result in results)
    assert summaries == [
        "3 created, 0 updated, 0 deleted, 0 unchanged",
        "no changes (3 unchanged)",
    ]
    assert len(emulator.state()["rooms"]) == 2
    assert len(emulator.state()["participants"]) == 1
