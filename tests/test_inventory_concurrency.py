"""Many real processes on one inventory at once: no record lost, one create per key."""

from __future__ import annotations

from tests.helpers import start_python
from tests.stores import OPEN_PLACE, open_place
from vcctl.inventory.records import account_for

BASE_URL = "http://127.0.0.1:8000"
API_KEY = "key-of-me-0000000001"

# Each process opens the inventory, says it is ready, waits for "go" on stdin (so that all
# start at once), then works.
RECORDER = (
    OPEN_PLACE
    + """
import sys
from vcctl.inventory.records import account_for
worker, count = sys.argv[2], int(sys.argv[3])
account = account_for("http://127.0.0.1:8000", "key-of-me-0000000001")
with open_place(sys.argv[1]) as inv:
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(count):
        inv.record(account, "room", {"id": f"{worker}-{i:03d}", "name": worker})
    inv.record_many(
        account, "room", [{"id": f"{worker}-b{i:03d}", "name": worker} for i in range(count)]
    )
print("done", flush=True)
"""
)

CLAIMER = (
    OPEN_PLACE
    + """
import os, sys
from vcctl.inventory import claims
from vcctl.inventory.claims import Claim
from vcctl.inventory.records import account_for
account = account_for("http://127.0.0.1:8000", "key-of-me-0000000001")
with open_place(sys.argv[1]) as inv:
    print("ready", flush=True)
    sys.stdin.readline()
    ref = claims.KeyRef(account, "room", "", "standup")
    outcome = claims.claim(inv, ref, patience=claims.Patience(budget=60))
    if isinstance(outcome, Claim):
        # The create in flight: the others must wait for it, not create their own.
        outcome.created({"id": f"room{os.getpid()}", "name": "standup"})
        print("created", f"room{os.getpid()}", flush=True)
    else:
        print("existing", outcome.id, flush=True)
"""
)


def start_together(script: str, argument_lists: list[list[str]]) -> list[str]:
    processes = [start_python(script, *arguments) for arguments in argument_lists]
    outputs: list[str] = []
    try:
        for process in processes:
            assert process.stdout is not None
            line = process.stdout.readline()
            if line != "ready\n":
                process.kill()
                assert process.stderr is not None
                raise AssertionError(f"not ready: {line!r} {process.stderr.read()}")
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        for process in processes:
            stdout, stderr = process.communicate(timeout=60)
            assert process.returncode == 0, stderr
            outputs.append(stdout)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return outputs


def test_eight_processes_recording_at_once_lose_no_record(store_place: str) -> None:
    path = store_place
    workers = [f"w{n}" for n in range(8)]
    outputs = start_together(RECORDER, [[path, worker, "40"] for worker in workers])
    assert outputs == ["done\n"] * 8
    with open_place(path) as inv:
        records = inv.list_records(account_for(BASE_URL, API_KEY), "room")
    assert len(records) == 8 * 80
    assert {r.id for r in records} == {
        f"{worker}-{prefix}{i:03d}" for worker in workers for prefix in ("", "b") for i in range(40)
    }


def test_six_processes_claiming_one_key_create_once(store_place: str) -> None:
    path = store_place
    open_place(path).close()  # created first, so that all six race on the key alone
    outputs = start_together(CLAIMER, [[path] for _ in range(6)])
    verdicts = [line.split() for output in outputs for line in output.splitlines()]
    created = [v for v in verdicts if v[0] == "created"]
    assert len(created) == 1, verdicts
    assert len(verdicts) == 6
    assert {v[1] for v in verdicts} == {created[0][1]}  # every process names the same room
    with open_place(path) as inv:
        [record] = inv.list_records(account_for(BASE_URL, API_KEY), "room")
    assert (record.id, record.key) == (created[0][1], "standup")


def test_processes_creating_the_inventory_at_once_all_succeed(store_place: str) -> None:
    # Each process opens (creates) the file, or the database's schema, at once.
    outputs = start_together(RECORDER, [[store_place, f"w{n}", "1"] for n in range(4)])
    assert outputs == ["done\n"] * 4
