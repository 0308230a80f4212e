"""The shared inventory's server down or dying mid-run, end to end: what needs the inventory
refuses before sending, what does not goes on with a warning, and no id the API created is
lost (real vcctl processes, the emulator, a real PostgreSQL server killed with SIGKILL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Result, run_vcctl, seed_room, unused_port
from tests.postgres_server import PostgresServer, find_bin_dir
from tests.test_inventory_postgres import machine
from vcctl.emulator.answers import Answer
from vcctl.emulator.server import Emulator
from vcctl.inventory.store.postgres import DOWN_HINT


def test_with_the_server_down_apply_and_lists_refuse_before_sending_plain_calls_go_on(
    tmp_path: Path, emulator: Emulator
) -> None:
    env = machine(tmp_path, "ci", emulator, f"postgresql://vcctl@127.0.0.1:{unused_port()}/x")
    room = seed_room(emulator, "Kept")
    stack = tmp_path / "s.toml"
    stack.write_text('stack = "s"\n[rooms.a]\nname = "A"\n', encoding="utf-8")
    emulator.clear_recorded()

    refused = [
        run_vcctl(args, env)
        for args in (
            ["apply", "-f", str(stack)],
            ["apply", "-f", str(stack), "--dry-run"],
            ["participants", "list"],
            ["rooms", "get", "@board"],
        )
    ]
    assert emulator.recorded() == []  # refused before anything was sent
    got = run_vcctl(["rooms", "get", room["id"], "--json"], env)
    deleted = run_vcctl(["rooms", "delete", room["id"], "--yes"], env)

    for result in refused:
        assert result.code == 2, result
        assert "cannot open inventory postgresql://vcctl@127.0.0.1" in result.stderr, result
        assert "Traceback" not in result.stderr
    for result in (got, deleted):
        assert result.code == 0, result
        assert "(the inventory was not updated)" in result.stderr
    assert json.loads(got.stdout)["id"] == room["id"]
    assert emulator.state()["rooms"] == []


@pytest.fixture
def own_server() -> Iterator[PostgresServer]:
    """A server of this test's own: it is killed mid-run."""
    if find_bin_dir() is None:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    with PostgresServer() as server:
        yield server


def batch_killing_the_server(
    tmp_path: Path, emulator: Emulator, server: PostgresServer, rows: int, *extra: str
) -> Result:
    """A keyed batch of `rows` rooms on two workers; the server is killed (SIGKILL) while the
    API creates the eighth."""
    env = machine(tmp_path, "ci", emulator, server.url(server.new_database()))
    source = tmp_path / "rooms.csv"
    source.write_text("name,key\n" + "".join(f"Room {n},k{n}\n" for n in range(rows)), "utf-8")
    handle = emulator.store.handle
    seen = {"posts": 0}

    def dying(method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if method == "POST":
            seen["posts"] += 1
            if seen["posts"] == 8:
                server.kill()  # as a crash or a pulled cable would: this create goes on
        return handle(method, path, headers, body)

    emulator.store.handle = dying  # type: ignore[method-assign,assignment]
    args = ["rooms", "create", "--from-file", str(source), "--concurrency", "2", *extra]
    return run_vcctl(args, env, timeout=120)


def test_killing_the_server_mid_batch_loses_no_created_id(
    tmp_path: Path, emulator: Emulator, own_server: PostgresServer
) -> None:
    batch = batch_killing_the_server(tmp_path, emulator, own_server, 24, "--json")

    created = {room["id"] for room in emulator.state()["rooms"]}
    printed = {
        item["id"]
        for item in map(json.loads, batch.stdout.splitlines())
        if isinstance(item, dict) and "id" in item
    }
    assert len(created) >= 8
    assert created <= printed, (created - printed, batch)  # every id the API made is reported
    assert batch.code == 10, batch  # some made, the rest refused: never 2 for what was made
    assert "Traceback" not in batch.stderr
    assert "psycopg" not in batch.stderr  # the driver's own log lines stay quiet
    lines = batch.stderr.splitlines()
    assert all(line.startswith(("vcctl: ", "{")) for line in lines), lines
    assert "\\n" not in batch.stderr  # the driver's message in one line, not escaped lines


def test_the_rows_after_the_server_died_say_to_check_the_server(
    tmp_path: Path, emulator: Emulator, own_server: PostgresServer
) -> None:
    """Every row the dead connection refuses carries the hint that opening it would give (the
    text output shows a hint once: the rows after the first share it)."""
    batch = batch_killing_the_server(tmp_path, emulator, own_server, 16)

    lines = batch.stderr.splitlines()
    refused = [
        n
        for n, line in enumerate(lines)
        if line.startswith("vcctl: error: ") and "cannot write inventory" in line
    ]
    hints = [n for n, line in enumerate(lines) if line.startswith("hint: ")]
    assert batch.code == 10, batch
    assert len(refused) >= 2, lines  # the rows claimed after the server died
    assert hints == [refused[0] + 1], lines  # right after the first, and not repeated
    assert lines[hints[0]] == f"hint: {DOWN_HINT}"
