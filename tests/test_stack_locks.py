"""Apply's stack locks between machines: real vcctl processes on separate "machines" (each its own
HOME, config and data folder) sharing a real PostgreSQL inventory, against the emulator.

An apply is held mid-run by a gate in the emulator (its creates wait until the test opens it), so
that the second apply meets the lock for sure, without sleeps.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import run_concurrently, run_vcctl, sent_to
from tests.postgres_server import PostgresServer
from tests.test_inventory_postgres import machine
from tests.test_stop_signals import start
from vcctl.emulator.answers import Answer
from vcctl.emulator.server import Emulator
from vcctl.errors import UsageError
from vcctl.inventory.store.postgres import SCHEMA_VERSION
from vcctl.inventory.when import parse_duration


class Gate:
    """Room creates whose name starts with `prefix` wait in the emulator until `open()`."""

    def __init__(self, emulator: Emulator, prefix: str) -> None:
        self.arrived = threading.Event()
        self._opened = threading.Event()
        handle: Callable[..., Answer] = emulator.store.handle

        def gated(method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
            if method == "POST" and json.loads(body or b"{}").get("name", "").startswith(prefix):
                self.arrived.set()
                self._opened.wait(60)
            return handle(method, path, headers, body)

        emulator.store.handle = gated  # type: ignore[method-assign,assignment]

    def open(self) -> None:
        self._opened.set()


@pytest.fixture
def gate(emulator: Emulator) -> Iterator[Callable[[str], Gate]]:
    made: list[Gate] = []

    def make(prefix: str) -> Gate:
        made.append(Gate(emulator, prefix))
        return made[-1]

    yield make
    for each in made:
        each.open()  # never leave an emulator thread waiting


def stack_file(folder: Path, stack: str, rooms: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stack}.toml"
    body = "".join(f'[rooms.{key}]\nname = "{name}"\n' for key, name in rooms.items())
    path.write_text(f'stack = "{stack}"\n{body}', encoding="utf-8")
    return path


def room_posts(emulator: Emulator) -> list[str]:
    posts = [r for r in sent_to(emulator, "/api/v1/rooms") if r.method == "POST"]
    return [json.loads(r.body)["name"] for r in posts]


def created_ids(stdout: str) -> dict[str, str]:
    """key -> id of the rooms an `apply --json` created."""
    lines = [json.loads(line) for line in stdout.splitlines()]
    return {a["key"]: a["id"] for a in lines if a.get("action") == "create" and a.get("id")}


def test_two_applies_of_one_stack_from_two_machines_create_it_once_the_second_waits(
    tmp_path: Path, emulator: Emulator, postgres_url: str, gate: Callable[[str], Gate]
) -> None:
    laptop = machine(tmp_path, "laptop", emulator, postgres_url)
    runner = machine(tmp_path, "runner", emulator, postgres_url)
    stack = stack_file(tmp_path, "board", {"board": "Board", "hr": "HR"})
    held = gate("Board")

    first = start(["apply", "-f", str(stack), "--json", "--concurrency", "1"], laptop)
    assert held.arrived.wait(60), "the first apply never sent its create"
    second = start(["apply", "-f", str(stack), "--json"], runner)
    assert second.stderr is not None
    waiting = second.stderr.readline()
    held.open()
    first_out, first_err = first.communicate(timeout=60)
    second_out, second_err = second.communicate(timeout=60)

    assert "waiting for another vcctl apply of stack board to finish" in waiting, waiting
    assert f"pid {first.pid} on " in waiting, waiting  # the holder: host, pid, since
    assert " since " in waiting
    assert (first.returncode, second.returncode) == (0, 0), (first_err, second_err)
    assert sorted(room_posts(emulator)) == ["Board", "HR"]  # created once
    assert set(created_ids(first_out)) == {"board", "hr"}
    assert created_ids(second_out) == {}  # it found what the first created


def test_two_different_stacks_apply_at_once_without_waiting(
    tmp_path: Path, emulator: Emulator, postgres_url: str, gate: Callable[[str], Gate]
) -> None:
    laptop = machine(tmp_path, "laptop", emulator, postgres_url)
    runner = machine(tmp_path, "runner", emulator, postgres_url)
    held = gate("Sales")
    first = start(["apply", "-f", str(stack_file(tmp_path, "sales", {"s": "Sales"}))], laptop)
    try:
        assert held.arrived.wait(60), "the first apply never sent its create"
        other = stack_file(tmp_path, "legal", {"l": "Legal"})
        # Finishes while the other stack's apply still holds its lock (its create is held).
        second = run_vcctl(["apply", "-f", str(other), "--json"], runner, timeout=60)
    finally:
        held.open()
        first.communicate(timeout=60)

    assert second.code == 0, second
    assert "waiting" not in second.stderr
    assert set(created_ids(second.stdout)) == {"l"}
    assert first.returncode == 0


@pytest.mark.parametrize("where", ["postgres", "sqlite", "state-file"])
def test_past_lock_timeout_the_second_apply_exits_11_having_sent_nothing(
    tmp_path: Path,
    emulator: Emulator,
    where: str,
    gate: Callable[[str], Gate],
    request: pytest.FixtureRequest,
) -> None:
    if where == "postgres":
        url = request.getfixturevalue("postgres_url")
        envs = [machine(tmp_path, name, emulator, url) for name in ("laptop", "runner")]
    else:  # one machine: the file lock is local
        envs = [machine(tmp_path, "laptop", emulator, "")] * 2
    extra = ["--state", str(tmp_path / "state.json")] if where == "state-file" else []
    stack = stack_file(tmp_path, "payroll", {"p": "Payroll"})
    held = gate("Payroll")
    first = start(["apply", "-f", str(stack), *extra], envs[0])
    try:
        assert held.arrived.wait(60), "the first apply never sent its create"
        second = run_vcctl(["apply", "-f", str(stack), *extra, "--lock-timeout", "1s"], envs[1])
    finally:
        held.open()
        first.communicate(timeout=60)

    assert second.code == 11, second
    assert second.stdout == ""
    assert "waiting for another vcctl apply of" in second.stderr
    assert f"is locked by another vcctl apply (pid {first.pid} on " in second.stderr
    assert "past --lock-timeout 1s: nothing was sent" in second.stderr
    assert room_posts(emulator) == ["Payroll"]  # the first apply's create only
    assert len(emulator.recorded()) == 1  # and the second sent not even a GET


def test_lock_timeout_takes_durations_as_ages_are_written() -> None:
    assert [parse_duration(text, "--lock-timeout") for text in ("90", "0", "1.5s", "5m", "2h")] == [
        90,
        0,
        1.5,
        300,
        7200,
    ]
    for bad in ("soon", "-1", "5M", "nan", "1y"):
        with pytest.raises(UsageError, match="invalid"):
            parse_duration(bad, "--lock-timeout")


def test_a_bad_lock_timeout_is_refused_before_anything_is_sent(
    tmp_path: Path, emulator: Emulator, env: dict[str, str]
) -> None:
    stack = stack_file(tmp_path, "s", {"a": "A"})
    refused = run_vcctl(["apply", "-f", str(stack), "--lock-timeout", "soon"], env)
    assert refused.code == 2, refused
    assert "invalid --lock-timeout 'soon': expected seconds or a duration" in refused.stderr
    assert emulator.recorded() == []


def test_the_ci_race_two_jobs_sharing_the_inventory_make_no_duplicate_and_print_every_id(
    tmp_path: Path, emulator: Emulator, postgres_url: str
) -> None:
    # PR 3 adds legal and hr; PR 4, merged right after, adds finance: the second job's checkout
    # has all three, the first's only its own. No --state file: the shared inventory (the
    # README's CI setup), so neither job relies on the other's commit.
    first = stack_file(tmp_path / "pr3", "org", {"legal": "Legal", "hr": "HR"})
    second = stack_file(tmp_path / "pr4", "org", {"legal": "Legal", "hr": "HR", "fin": "Finance"})
    # Two fresh CI runners, the inventory URL from the CI secret.
    jobs = [machine(tmp_path, name, emulator, postgres_url) for name in ("job3", "job4")]
    run_vcctl(["inventory", "keys"], jobs[0])  # the schema exists: the jobs race on the stack

    results = run_concurrently(
        [
            (["apply", "-f", str(first), "--json"], jobs[0]),
            (["apply", "-f", str(second), "--json"], jobs[1]),
        ]
    )

    assert [r.code for r in results] == [0, 0], results
    assert sorted(room_posts(emulator)) == ["Finance", "HR", "Legal"]  # no second HR
    printed = {**created_ids(results[0].stdout), **created_ids(results[1].stdout)}
    assert sorted(printed.values()) == sorted(room["id"] for room in emulator.state()["rooms"])
    listed = run_vcctl(["rooms", "list", "-q"], jobs[0])
    assert sorted(listed.stdout.split()) == sorted(printed.values())


def test_a_version_1_schema_is_migrated_to_hold_the_lock_holders(
    tmp_path: Path, emulator: Emulator, postgres_server: PostgresServer
) -> None:
    database = postgres_server.new_database()
    env = machine(tmp_path, "ci", emulator, postgres_server.url(database))
    assert run_vcctl(["inventory", "keys"], env).code == 0
    # What a version 1 schema lacks: the lock holders' table, and what later steps added.
    postgres_server.psql(
        "DROP TABLE vcctl.stack_locks; ALTER TABLE vcctl.keys DROP COLUMN applied;"
        " UPDATE vcctl.meta SET version = 1",
        database,
    )

    applied = run_vcctl(["apply", "-f", str(stack_file(tmp_path, "s", {"a": "A"}))], env)

    assert applied.code == 0, applied
    assert postgres_server.psql("SELECT version FROM vcctl.meta", database) == f"{SCHEMA_VERSION}\n"
    assert postgres_server.psql("SELECT count(*) FROM vcctl.stack_locks", database) == "0\n"
