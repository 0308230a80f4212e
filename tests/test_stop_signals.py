"""SIGTERM and SIGHUP stop multi-id commands and `apply` the way Ctrl-C does: what the API did
is reported, nothing more is sent, and the exit code is 128 + the signal's number.

Real processes, real signals, against the emulator with slow answers; each test waits (on the
emulator's state, with a deadline) until some work is done before it sends the signal.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import seed_room
from vcctl.emulator.server import Emulator, Fault

SIGNALS = [(signal.SIGTERM, 143), (signal.SIGHUP, 129)]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.01)  # polling a condition, with a deadline


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "vcctl", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(child: subprocess.Popen[str], signum: int) -> tuple[str, str]:
    try:
        child.send_signal(signum)
        return child.communicate(timeout=30)
    finally:
        child.kill()


@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_a_stopped_multi_id_delete_reports_each_room_it_deleted(
    emulator: Emulator, env: dict[str, str], signum: int, code: int
) -> None:
    rooms = [seed_room(emulator, f"Old {n}") for n in range(12)]
    emulator.add_fault(Fault("delay", delay_ms=300, method="DELETE", times=len(rooms)))
    ids = [room["id"] for room in rooms]
    child = start(["rooms", "delete", *ids, "--yes", "--concurrency", "2", "--json"], env)

    def deleted() -> int:
        return len(rooms) - len(emulator.state()["rooms"])

    wait_until(lambda: deleted() >= 2, "two rooms are deleted")
    stdout, stderr = stop(child, signum)

    assert child.returncode == code, (stdout, stderr)
    gone = {room["id"] for room in rooms} - {room["id"] for room in emulator.state()["rooms"]}
    reported = [json.loads(line)["id"] for line in stdout.splitlines()]
    assert set(reported) == gone  # every delete the API carried out is reported, once
    assert len(reported) == len(gone)
    assert reported == [room_id for room_id in ids if room_id in gone]  # in input order
    assert len(gone) < len(rooms)  # it stopped sending
    assert "Traceback" not in stderr
    assert json.loads(stderr.splitlines()[-1])["error"]["exit_code"] == code


@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_a_stopped_apply_reports_each_room_it_created_and_records_it(
    emulator: Emulator, env: dict[str, str], tmp_path: Path, signum: int, code: int
) -> None:
    stack = tmp_path / "stack.toml"
    stack.write_text(
        'stack = "signals"\n' + "".join(f'[rooms.r{n}]\nname = "Room {n}"\n' for n in range(12)),
        encoding="utf-8",
    )
    state = tmp_path / "state.json"
    emulator.add_fault(Fault("delay", delay_ms=300, method="POST", times=12))
    args = ["apply", "-f", str(stack), "--state", str(state), "--concurrency", "2", "--json"]
    child = start(args, env)

    wait_until(lambda: len(emulator.state()["rooms"]) >= 2, "two rooms exist")
    stdout, stderr = stop(child, signum)

    assert child.returncode == code, (stdout, stderr)
    created = {room["id"] for room in emulator.state()["rooms"]}
    actions = [json.loads(line) for line in stdout.splitlines()]
    assert {a["id"] for a in actions if a["action"] == "create"} == created
    assert 0 < len(created) < 12
    recorded = json.loads(state.read_text(encoding="utf-8"))
    assert created <= set(json.dumps(recorded).split('"')), recorded  # each id is in the state
    assert "Traceback" not in stderr
