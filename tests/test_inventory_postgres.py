"""The inventory in a shared PostgreSQL database, end to end: real vcctl processes on separate
"machines" (each its own HOME, config and data folder) against the emulator and a real server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import (
    API_KEY,
    API_TOKEN,
    clean_environment,
    run_concurrently,
    run_vcctl,
    sent_to,
    unused_port,
)
from tests.postgres_server import PostgresServer
from tests.stores import open_place
from vcctl.emulator.server import Emulator
from vcctl.inventory.records import account_for
from vcctl.inventory.store.postgres import SCHEMA_VERSION as PG_VERSION

SECRET = "s3cret-Pa55word"
ACCOUNT = account_for("http://127.0.0.1:8000", API_KEY)


def machine(tmp_path: Path, name: str, emulator: Emulator, url: str) -> dict[str, str]:
    """The environment of a CI runner or a colleague's laptop sharing the inventory at `url`."""
    env = clean_environment(tmp_path / name)
    env.update(
        VCCTL_BASE_URL=emulator.base_url,
        VCCTL_API_KEY=API_KEY,
        VCCTL_API_TOKEN=API_TOKEN,
        VCCTL_INVENTORY_URL=url,
    )
    return env


def with_password(url: str) -> str:
    user, rest = url.removeprefix("postgresql://").split("@", 1)
    return f"postgresql://{user}:{SECRET}@{rest}"


def test_a_room_created_on_one_machine_is_listed_and_found_by_key_on_another(
    tmp_path: Path, emulator: Emulator, postgres_url: str
) -> None:
    laptop = machine(tmp_path, "laptop", emulator, postgres_url)
    runner = machine(tmp_path, "runner", emulator, postgres_url)
    created = run_vcctl(["rooms", "create", "--name", "Board", "--key", "board", "-q"], laptop)
    assert created.code == 0, created
    room_id = created.stdout.strip()

    listed = run_vcctl(["rooms", "list", "-q"], runner)
    again = run_vcctl(["rooms", "create", "--name", "Board", "--key", "board", "-q"], runner)

    assert (listed.code, listed.stdout) == (0, f"{room_id}\n")
    assert (again.code, again.stdout) == (0, f"{room_id}\n")
    assert len([r for r in sent_to(emulator, "/api/v1/rooms") if r.method == "POST"]) == 1
    assert not (tmp_path / "laptop" / "data" / "inventory.sqlite3").exists()  # no local file


def test_each_machine_keeps_its_own_key_index_of_the_shared_keys(
    tmp_path: Path, emulator: Emulator, postgres_url: str
) -> None:
    """The shell completion's key index is a local cache: refreshed by this machine's key
    writes and by `inventory keys`, not by another machine's."""
    laptop = machine(tmp_path, "laptop", emulator, postgres_url)
    runner = machine(tmp_path, "runner", emulator, postgres_url)
    assert run_vcctl(["rooms", "list"], runner).code == 0  # the runner's index: no key yet
    created = run_vcctl(["rooms", "create", "--name", "Ci", "--key", "ci-room", "-q"], laptop)
    assert created.code == 0, created

    def indexed(machine_dir: str) -> list[str]:
        text = (tmp_path / machine_dir / "data" / "key-index.txt").read_text(encoding="utf-8")
        return [line for line in text.splitlines() if not line.startswith("#")]

    assert "room\t@ci-room" in indexed("laptop")
    assert "room\t@ci-room" not in indexed("runner")
    assert run_vcctl(["inventory", "keys"], runner).code == 0
    assert "room\t@ci-room" in indexed("runner")


def test_nine_processes_on_three_machines_racing_one_key_create_one_room(
    tmp_path: Path, emulator: Emulator, postgres_url: str
) -> None:
    machines = [machine(tmp_path, f"m{n}", emulator, postgres_url) for n in range(3)]
    run_vcctl(["inventory", "keys"], machines[0])  # the schema exists: they race on the key
    command = ["rooms", "create", "--name", "Standup", "--key", "standup", "-q"]
    results = run_concurrently([(command, machines[n % 3]) for n in range(9)])

    assert [r.code for r in results] == [0] * 9, results
    ids = {r.stdout for r in results}
    assert len(ids) == 1, results
    assert ids != {""}, results
    assert len([r for r in sent_to(emulator, "/api/v1/rooms") if r.method == "POST"]) == 1


def test_the_password_of_the_url_is_never_shown(
    tmp_path: Path, emulator: Emulator, postgres_server: PostgresServer
) -> None:
    url = with_password(postgres_server.url(postgres_server.new_database()))
    env = machine(tmp_path, "ci", emulator, url)
    masked = url.replace(SECRET, "****")

    path = run_vcctl(["inventory", "path"], env)
    status = run_vcctl(["auth", "status", "--no-check"], env)
    status_json = run_vcctl(["auth", "status", "--no-check", "--json"], env)
    debug = run_vcctl(["--debug", "rooms", "create", "--name", "x", "--key", "x"], env)
    down = dict(env, VCCTL_INVENTORY_URL=url.replace(str(postgres_server.port), str(unused_port())))
    refused = run_vcctl(["rooms", "list"], down)

    assert (path.code, path.stdout) == (0, f"{masked}\n")
    assert masked in status.stdout
    assert json.loads(status_json.stdout)["inventory_url"] == {"value": masked, "source": "env"}
    assert debug.code == 0, debug
    assert refused.code == 2
    assert "cannot open inventory postgresql://" in refused.stderr
    for result in (path, status, status_json, debug, refused):
        assert SECRET not in result.stdout + result.stderr


def test_a_server_that_is_down_plain_commands_warn_keys_and_lists_refuse(
    tmp_path: Path, emulator: Emulator
) -> None:
    env = machine(tmp_path, "ci", emulator, f"postgresql://vcctl@127.0.0.1:{unused_port()}/x")

    plain = run_vcctl(["rooms", "create", "--name", "plain", "-q"], env)
    keyed = run_vcctl(["rooms", "create", "--name", "keyed", "--key", "k"], env)
    listed = run_vcctl(["rooms", "list"], env)

    assert plain.code == 0
    assert plain.stdout.strip()
    assert "cannot open inventory postgresql://vcctl@127.0.0.1" in plain.stderr
    assert "(the inventory was not updated)" in plain.stderr
    assert keyed.code == 2
    assert "cannot open inventory" in keyed.stderr
    assert listed.code == 2
    assert "cannot open inventory" in listed.stderr
    assert len([r for r in sent_to(emulator, "/api/v1/rooms") if r.method == "POST"]) == 1


def test_a_newer_schema_is_refused_and_never_modified(
    tmp_path: Path, emulator: Emulator, postgres_server: PostgresServer
) -> None:
    database = postgres_server.new_database()
    env = machine(tmp_path, "ci", emulator, postgres_server.url(database))
    assert run_vcctl(["rooms", "list"], env).code == 0  # creates the schema
    postgres_server.psql("UPDATE vcctl.meta SET version = 99", database)

    listed = run_vcctl(["rooms", "list"], env)

    assert listed.code == 2
    assert "written by a newer vcctl (schema version 99" in listed.stderr
    assert postgres_server.psql("SELECT version FROM vcctl.meta", database) == "99\n"


def test_a_version_3_schema_gains_the_listing_index_and_lists_off_it(
    postgres_server: PostgresServer,
) -> None:
    database = postgres_server.new_database()
    url = postgres_server.url(database)
    with open_place(url) as inv:
        inv.record_many(ACCOUNT, "room", [{"id": f"r{n}", "name": f"n{n}"} for n in range(3)])
    postgres_server.psql(  # the schema as the vcctl before this step left it
        "DROP INDEX vcctl.records_newest_first; CREATE INDEX records_by_created"
        " ON vcctl.records (base_url, key_fp, kind, created); UPDATE vcctl.meta SET version = 3",
        database,
    )

    with open_place(url) as inv:
        listed = inv.list_rows(ACCOUNT, "room", ["id"])

    indexes = "SELECT indexname FROM pg_indexes WHERE tablename = 'records' ORDER BY 1"
    assert postgres_server.psql(indexes, database).split() == [
        "records_by_room", "records_newest_first", "records_pkey",
    ]  # fmt: skip
    assert postgres_server.psql("SELECT version FROM vcctl.meta", database) == f"{PG_VERSION}\n"
    assert listed == [("r0",), ("r1",), ("r2",)]  # one created time: by id
    # The order comes off the index: no sort of every row (the planner would pick a scan and
    # a sort for three rows, so scans are priced out).
    plan = postgres_server.psql(
        "SET enable_seqscan = off; EXPLAIN SELECT id FROM vcctl.records WHERE base_url = 'a'"
        " AND key_fp = 'b' AND kind = 'room' AND gone IS NULL ORDER BY created DESC, id",
        database,
    )
    assert "records_newest_first" in plan, plan
    assert "Sort" not in plan, plan


def test_without_the_driver_the_error_names_the_extra(tmp_path: Path, emulator: Emulator) -> None:
    shadow = tmp_path / "no-psycopg"
    shadow.mkdir()
    (shadow / "psycopg.py").write_text("raise ImportError('No module named psycopg')\n")
    env = machine(tmp_path, "ci", emulator, "postgresql://vcctl@127.0.0.1/x")
    env["PYTHONPATH"] = str(shadow)

    listed = run_vcctl(["rooms", "list"], env)

    assert listed.code == 2
    assert "PostgreSQL driver (psycopg) is not installed" in listed.stderr
    assert "pip install 'vcctl[postgres]'" in listed.stderr
    assert "Traceback" not in listed.stderr


PROBE = """
import contextlib, io, json, sys
sys.argv = ["vcctl", *json.loads(sys.argv[1])]
from vcctl.cli.main import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        main()
    except SystemExit:
        pass
print(json.dumps(sorted(name for name in sys.modules if name.startswith("psycopg"))))
"""


def test_the_local_file_and_the_inventory_off_load_nothing_of_psycopg(
    tmp_path: Path, emulator: Emulator
) -> None:
    env = machine(tmp_path, "laptop", emulator, "")
    del env["VCCTL_INVENTORY_URL"]
    for extra in ({}, {"VCCTL_INVENTORY": "off"}):
        for args in (["rooms", "create", "--name", "x", "--key", "x"], ["rooms", "list"]):
            completed = subprocess.run(
                [sys.executable, "-c", PROBE, json.dumps(args)],
                env={**env, **extra},
                capture_output=True,
                text=True,
                check=True,
            )
            assert json.loads(completed.stdout) == [], (args, extra)
