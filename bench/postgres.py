"""The shared PostgreSQL inventory against the SQLite file, measured in one run (run by hand:
`python bench/postgres.py`, with vcctl installed with its `postgres` extra).

It starts a PostgreSQL server of its own the way the test suite does (tests/postgres_server.py:
initdb in a temporary folder, 127.0.0.1, fsync off) and a `vcctl emulator start --latency 20`.

(a) A keyed 1,000-row `rooms create --from-file` (a `key` column, `--concurrency 8`) at 20 ms of
    API latency: median wall time with the inventory in PostgreSQL, against the same batch with
    the SQLite file (goal: at most 1.3x). Each run starts from an empty inventory.
(b) `vcctl rooms list` (plain text, off a terminal) of 10,000 records from PostgreSQL, against
    the same records in the SQLite file (goal: at most 1.5x), median wall time.
(c) `record_many` of 10,000 rooms in one process and one transaction, PostgreSQL against SQLite
    (no goal: the figure the batching is for; it was one round trip a row).
(d) What a PostgreSQL run pays before its first query: `rooms list` of an empty inventory from
    each, and the interpreter importing psycopg against importing sqlite3 (best of the runs),
    which is most of the difference in (b).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))  # tests/postgres_server.py

from inventory import start_emulator

from tests.postgres_server import PostgresServer

ROWS = 1000
RECORDS = 10_000
LATENCY_MS = 20
RUNS = 3
LIST_RUNS = 5


def run(args: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one vcctl run (which must succeed)."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "vcctl", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"vcctl {' '.join(args)} failed: {completed.stderr}")
    return wall


def seed(place: str, base_url: str, api_key: str, count: int) -> float:
    """`count` rooms recorded in one record_many; returns its seconds."""
    from vcctl.inventory.location import Location, open_store
    from vcctl.inventory.records import account_for

    location = Location(Path("/nonexistent"), place) if "://" in place else Location(Path(place))
    account = account_for(base_url, api_key)
    rooms = [
        {"id": f"r{i:05d}", "name": f"room {i}", "color": "#1e90ff", "participants": []}
        for i in range(count)
    ]
    with open_store(location) as inventory:
        started = time.perf_counter()
        inventory.record_many(account, "room", rooms, fetch=False)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke run)")
    options = parser.parse_args()
    runs = 1 if options.quick else RUNS
    work = Path(tempfile.mkdtemp(prefix="vcctl-bench-postgres-"))
    env = {key: value for key, value in os.environ.items() if not key.startswith("VCCTL_")}
    env["VCCTL_CONFIG_DIR"] = str(work / "config")
    with PostgresServer() as server:
        emulator, exported = start_emulator(env, LATENCY_MS)
        try:
            env.update(exported)
            measure(server, env, work, runs)
        finally:
            emulator.terminate()
            emulator.wait()


def measure(server: PostgresServer, env: dict[str, str], work: Path, runs: int) -> None:
    source = work / "rooms.csv"
    source.write_text("name,key\n" + "".join(f"room {i},k{i}\n" for i in range(ROWS)))
    batch = ["rooms", "create", "--from-file", str(source), "-q", "--concurrency", "8"]
    sqlite_walls: list[float] = []
    postgres_walls: list[float] = []
    for n in range(runs):  # interleaved, so that a load spike costs both alike
        sqlite_walls.append(run(batch, {**env, "VCCTL_DATA_DIR": str(work / f"batch-{n}")}))
        url = server.url(server.new_database("batch"))
        postgres_walls.append(run(batch, {**env, "VCCTL_INVENTORY_URL": url}))
    sqlite_wall, postgres_wall = statistics.median(sqlite_walls), statistics.median(postgres_walls)
    print(
        f"(a) keyed batch of {ROWS} at {LATENCY_MS} ms: PostgreSQL {postgres_wall:.2f} s, "
        f"SQLite {sqlite_wall:.2f} s: {postgres_wall / sqlite_wall:.2f}x (goal <= 1.3x)"
    )

    base_url, api_key = env["VCCTL_BASE_URL"], env["VCCTL_API_KEY"]
    list_file = work / "list" / "inventory.sqlite3"
    list_url = server.url(server.new_database("list"))
    sqlite_seed = seed(str(list_file), base_url, api_key, RECORDS)
    postgres_seed = seed(list_url, base_url, api_key, RECORDS)
    sqlite_env = {**env, "VCCTL_DATA_DIR": str(list_file.parent)}
    postgres_env = {**env, "VCCTL_INVENTORY_URL": list_url}
    run(["rooms", "list"], sqlite_env)  # warm the caches
    run(["rooms", "list"], postgres_env)
    sqlite_list: list[float] = []
    postgres_list: list[float] = []
    for _ in range(LIST_RUNS if runs > 1 else 2):
        sqlite_list.append(run(["rooms", "list"], sqlite_env))
        postgres_list.append(run(["rooms", "list"], postgres_env))
    sqlite_wall, postgres_wall = statistics.median(sqlite_list), statistics.median(postgres_list)
    print(
        f"(b) rooms list of {RECORDS} records: PostgreSQL {postgres_wall * 1e3:.0f} ms, "
        f"SQLite {sqlite_wall * 1e3:.0f} ms: {postgres_wall / sqlite_wall:.2f}x (goal <= 1.5x)"
    )
    print(
        f"(c) record_many of {RECORDS} rooms in one transaction: PostgreSQL "
        f"{postgres_seed * 1e3:.0f} ms, SQLite {sqlite_seed * 1e3:.0f} ms: "
        f"{postgres_seed / sqlite_seed:.1f}x"
    )
    empty_sqlite = {**env, "VCCTL_DATA_DIR": str(work / "empty")}
    empty_postgres = {**env, "VCCTL_INVENTORY_URL": server.url(server.new_database("empty"))}
    empty = [(run(["rooms", "list"], empty_sqlite), run(["rooms", "list"], empty_postgres))]
    empty += [
        (run(["rooms", "list"], empty_sqlite), run(["rooms", "list"], empty_postgres))
        for _ in range(LIST_RUNS - 1)
    ]
    imports = [(python("import sqlite3"), python("import psycopg")) for _ in range(LIST_RUNS)]
    print(
        f"(d) rooms list of an empty inventory: PostgreSQL "
        f"{statistics.median(p for _, p in empty) * 1e3:.0f} ms, SQLite "
        f"{statistics.median(s for s, _ in empty) * 1e3:.0f} ms; python -c 'import psycopg' "
        f"{min(p for _, p in imports) * 1e3:.0f} ms, 'import sqlite3' "
        f"{min(s for s, _ in imports) * 1e3:.0f} ms"
    )
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")


def python(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
