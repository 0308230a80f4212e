"""The shared inventory's server down or dying mid-run, end to end: what needs the inventory
refuses before sending, what does not goes on with a warning, and no id the API created is
lost (real vcctl processes, the emulator, a real PostgreSQL server killed with SIGKILL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import run_vcctl, seed_room, unused_port
from tests.postgres_server import PostgresServer, find_bin_dir
from tests.test_inventory_postgres import machine
from vcctl.emulator.answers import Answer
from vcctl.emulator.server import Emulator


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


def test_killing_the_server_mid_batch_loses_no_created_id(
    tmp_path: Path, emulator: Emulator, own_server: PostgresServer
) -> None:
    env = machine(tmp_path, "ci", emulator, own_server.url(own_server.new_database()))
    rows = tmp_path / "rooms.csv"
    rows.write_text("name,key\n" + "".join(f"Room {n},k{n}\n" for n in range(24)), "utf-8")
    handle = emulator.store.handle
    seen = {"posts": 0}

    def dying(method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if method == "POST":
            seen["posts"] += 1
            if seen["posts"] == 8:
                own_server.kill()  # as a crash or a pulled cable would: this create goes on
        return handle(method, path, headers, body)

    emulator.store.handle = dying  # type: ignore[method-assign,assignment]
    args = ["rooms", "create", "--from-file", str(rows), "--concurrency", "2", "--json"]
    batch = run_vcctl(args, env, timeout=120)

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
