"""The key protocol's state machine (vcctl.inventory.claims), on its own: every transition, a
live owner, a dead owner, a crash between send and record; on a table in memory, then on the
inventory file with real processes."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_python, start_python
from vcctl.errors import (
    ApiError,
    KeyBlockedError,
    KeyPendingError,
    NetworkError,
    NotSent,
)
from vcctl.halt import Halt
from vcctl.inventory import claims
from vcctl.inventory.claims import Claim, KeyRef, KeyRow, Owner, Patience
from vcctl.inventory.records import Record, account_for
from vcctl.inventory.store import Inventory

ME = account_for("http://127.0.0.1:8000", "key-of-me-0000000001")
REF = KeyRef(ME, "room", "", "board")


class MemoryTable:
    """The smallest KeyTable: a dict, a lock, and the resources recorded."""

    def __init__(self) -> None:
        self.rows: dict[KeyRef, KeyRow] = {}
        self.resources: dict[str, Mapping[str, Any]] = {}
        self.lock = threading.Lock()
        self.writes = 0

    def read_key(self, ref: KeyRef) -> KeyRow | None:
        return self.rows.get(ref)

    def swap_key(
        self,
        ref: KeyRef,
        expected: KeyRow | None,
        new: KeyRow | None,
        *,
        resource: Mapping[str, Any] | None = None,
    ) -> bool:
        with self.lock:
            self.writes += 1
            if resource is not None:
                self.resources[str(resource["id"])] = resource
            if self.rows.get(ref) != expected:
                return False
            if new is None:
                self.rows.pop(ref, None)
            else:
                self.rows[ref] = new
            return True

    def live_target(self, ref: KeyRef, row: KeyRow) -> Mapping[str, Any] | None:
        return self.resources.get(row.id or "")

    def release_hint(self, ref: KeyRef) -> str:
        return f"forget {ref.key}"


def state(table: MemoryTable, ref: KeyRef = REF) -> str | None:
    row = table.read_key(ref)
    return None if row is None else row.state


def taken(table: MemoryTable, ref: KeyRef = REF) -> Claim:
    held = claims.claim(table, ref)
    assert isinstance(held, Claim)
    return held


# -- every transition ----------------------------------------------------------------------


def test_none_to_pending_names_this_process_as_owner() -> None:
    table = MemoryTable()
    held = taken(table)
    row = table.read_key(REF)
    assert row is not None
    assert row.state == "pending"
    assert row.owner is not None
    assert (row.owner.host, row.owner.pid) == (claims.this_host(), os.getpid())
    assert row.owner.start == claims.process_start(os.getpid())
    assert row.owner.state() == "alive"
    assert held.since == row.since


def test_pending_to_created_records_the_resource_in_the_same_write() -> None:
    table = MemoryTable()
    held = taken(table)
    writes = table.writes
    held.created({"id": "r1", "name": "Board"})
    assert table.writes == writes + 1
    row = table.read_key(REF)
    assert row is not None
    assert (row.state, row.id, row.owner, row.token) == ("created", "r1", None, None)
    assert claims.claim(table, REF) == {"id": "r1", "name": "Board"}  # found, nothing taken


def test_pending_to_failed_frees_the_key() -> None:
    table = MemoryTable()
    taken(table).failed()
    assert state(table) is None
    taken(table)


def test_pending_to_unknown_blocks_until_released_or_retried() -> None:
    table = MemoryTable()
    taken(table).unknown()
    with pytest.raises(KeyBlockedError) as caught:
        claims.claim(table, REF)
    assert caught.value.exit_code == 11
    assert caught.value.hint is not None
    assert "then forget board; or pass --retry-unknown" in caught.value.hint
    assert isinstance(claims.claim(table, REF, retry_unknown=True), Claim)
    claims.release(table, REF)
    assert state(table) is None


def test_a_created_key_whose_resource_is_gone_is_taken_again() -> None:
    table = MemoryTable()
    taken(table).created({"id": "r1"})
    del table.resources["r1"]
    assert isinstance(claims.claim(table, REF), Claim)


def test_a_claim_resolves_once_and_only_the_row_it_made() -> None:
    table = MemoryTable()
    held = taken(table)
    held.failed()
    with pytest.raises(RuntimeError):
        held.unknown()
    first = taken(table)
    claims.release(table, REF)  # `inventory forget --key` while it was in flight
    second = taken(table)
    first.created({"id": "r1"})  # changes nothing of the second claim's row ...
    assert state(table) == "pending"
    assert "r1" in table.resources  # ... but the resource is recorded all the same
    second.failed()


@pytest.mark.parametrize(
    ("error", "after"),
    [
        (ApiError("HTTP 422", status=422), None),
        (ApiError("HTTP 503", status=503), None),
        (ApiError("HTTP 500", status=500, maybe_carried_out=True), "unknown"),
        (NetworkError("timed out", maybe_carried_out=True), "unknown"),
        (NetworkError("refused"), None),
        (KeyboardInterrupt(), "unknown"),
    ],
)
def test_resolve_reads_the_typed_fact_on_the_error(error: BaseException, after: str) -> None:
    table = MemoryTable()
    taken(table).resolve(error)
    assert state(table) == after


def test_leaving_a_claim_unresolved_by_an_exception_counts_as_unknown() -> None:
    table = MemoryTable()
    with pytest.raises(ZeroDivisionError), taken(table):
        raise ZeroDivisionError
    assert state(table) == "unknown"


def test_two_threads_racing_for_one_key_never_both_win() -> None:
    table = MemoryTable()
    results: list[object] = []
    barrier = threading.Barrier(8)

    def race() -> None:
        barrier.wait()
        held = claims.claim(table, REF, patience=Patience(budget=30))
        if isinstance(held, Claim):
            held.created({"id": "r1"})
        results.append(held)

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(isinstance(result, Claim) for result in results) == 1
    assert results.count({"id": "r1"}) == 7


# -- owners: live, dead, recycled, another host ----------------------------------------------


def test_a_live_owner_is_waited_for_with_one_message_then_reported() -> None:
    table = MemoryTable()
    taken(table)
    told: list[KeyRow] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    patience = Patience(budget=1.0, sleep=sleep, on_wait=told.append, clock=lambda: now[0])
    with pytest.raises(KeyPendingError) as caught:
        claims.claim(table, REF, patience=patience)
    assert len(told) == 1
    assert caught.value.exit_code == 11
    assert "is being created by another vcctl (pid " in caught.value.message
    assert state(table) == "pending"  # never unknown while its owner lives


def test_a_wait_ends_as_soon_as_the_owner_resolves() -> None:
    table = MemoryTable()
    held = taken(table)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:
            held.created({"id": "r1"})

    assert claims.claim(table, REF, patience=Patience(sleep=sleep)) == {"id": "r1"}
    assert len(sleeps) == 3


def test_a_stop_signal_ends_the_wait_and_nothing_is_taken(monkeypatch: Any) -> None:
    table = MemoryTable()
    taken(table)
    halt = Halt()
    monkeypatch.setattr(claims, "process_halt", lambda: halt)
    threading.Timer(0.2, halt.trip).start()
    with pytest.raises(NotSent):
        claims.claim(table, REF)  # the default patience: 300 s, on the stop token
    assert state(table) == "pending"


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        (Owner(claims.this_host(), 2**22 + 12345, None), "dead"),  # no such pid
        (Owner(claims.this_host(), os.getpid(), 1.0), "dead"),  # pid recycled: another start
        (Owner(claims.this_host(), os.getpid(), None), "alive"),
        (Owner("elsewhere.example", 1, None), "unknowable"),
    ],
)
def test_owner_state(owner: Owner, expected: str) -> None:
    assert owner.state() == expected


def test_a_claim_of_a_dead_owner_becomes_unknown_and_stays_so() -> None:
    table = MemoryTable()
    dead = Owner(claims.this_host(), 2**22 + 12345, None)
    table.rows[REF] = KeyRow("room", "", "board", "pending", None, 1.0, dead, "t")
    with pytest.raises(KeyBlockedError):
        claims.claim(table, REF)
    assert state(table) == "unknown"
    with pytest.raises(KeyBlockedError):
        claims.claim(table, REF)


def test_another_hosts_claim_is_waited_for_until_its_lease_ends() -> None:
    remote = Owner("elsewhere.example", 1, None)
    fresh = KeyRow("room", "", "board", "pending", None, 1000.0, remote, "t")
    assert claims.next_step(fresh, retry_unknown=False, live=False, now=1001.0) == "wait"
    late = 1000.0 + claims.PENDING_LEASE + 1
    assert claims.next_step(fresh, retry_unknown=False, live=False, now=late) == "abandoned"
    assert claims.effective_state(fresh) == "unknown"  # its lease ended long ago


# -- real processes on the inventory file -----------------------------------------------------

CLAIM_AND_DIE = """
import os, sys
from pathlib import Path
from vcctl.inventory import claims
from vcctl.inventory.records import account_for
from vcctl.inventory.store import Inventory
inv = Inventory.open(Path(sys.argv[1]))
claims.claim(inv, claims.KeyRef(account_for("http://127.0.0.1:8000", "key-of-me-0000000001"),
    "room", "", "board"))
os._exit(0)  # a crash between sending the create and recording its answer
"""

CLAIM_AND_HOLD = """
import sys
from pathlib import Path
from vcctl.inventory import claims
from vcctl.inventory.records import account_for
from vcctl.inventory.store import Inventory
inv = Inventory.open(Path(sys.argv[1]))
ref = claims.KeyRef(account_for("http://127.0.0.1:8000", "key-of-me-0000000001"),
    "room", "", "board")
held = claims.claim(inv, ref)
print("claimed", flush=True)
sys.stdin.readline()
held.created({"id": "r-held", "name": "Board"})
print("created", flush=True)
"""


def test_a_crash_between_send_and_record_leaves_the_key_unknown(tmp_path: Path) -> None:
    path = tmp_path / "inventory.sqlite3"
    run_python(CLAIM_AND_DIE, str(path))
    with Inventory.open(path) as inv:
        ref = KeyRef(ME, "room", "", "board")
        with pytest.raises(KeyBlockedError) as caught:
            claims.claim(inv, ref)
        assert caught.value.hint is not None
        assert "run 'vcctl inventory forget --key board'" in caught.value.hint
        [row] = inv.list_keys(ME)
        assert row.state == "unknown"
        assert isinstance(claims.claim(inv, ref, retry_unknown=True), Claim)


def test_a_live_process_holding_the_key_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "inventory.sqlite3"
    holder = start_python(CLAIM_AND_HOLD, str(path))
    try:
        assert holder.stdout is not None
        assert holder.stdin is not None
        assert holder.stdout.readline() == "claimed\n"
        with Inventory.open(path) as inv:
            ref = KeyRef(ME, "room", "", "board")

            def resolve_while_waiting(row: KeyRow) -> None:
                assert row.owner is not None
                assert row.owner.pid == holder.pid
                assert holder.stdin is not None
                holder.stdin.write("go\n")
                holder.stdin.flush()

            found = claims.claim(inv, ref, patience=Patience(on_wait=resolve_while_waiting))
            assert isinstance(found, Record)
            assert found.id == "r-held"
        assert holder.wait(timeout=60) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait()


def test_a_killed_holder_turns_the_wait_into_a_blocked_key(tmp_path: Path) -> None:
    path = tmp_path / "inventory.sqlite3"
    holder = start_python(CLAIM_AND_HOLD, str(path))
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "claimed\n"
        with Inventory.open(path) as inv:

            def kill_it(row: KeyRow) -> None:
                holder.send_signal(signal.SIGKILL)
                holder.wait()

            with pytest.raises(KeyBlockedError):
                claims.claim(
                    inv, KeyRef(ME, "room", "", "board"), patience=Patience(on_wait=kill_it)
                )
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait()


def test_one_module_writes_the_keys_table() -> None:
    root = Path(__file__).resolve().parent.parent / "vcctl"
    writes = ("INTO keys", "UPDATE keys", "DELETE FROM keys")
    writers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if any(statement in path.read_text() for statement in writes)
    )
    assert writers == ["inventory/store/key_rows.py"]
