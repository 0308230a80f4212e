"""A stalled apply (stopped in a rate-limit pause, or at its prompt) holds its stack's lock: a
`--dry-run` of the same stack does not wait for it (it plans from the records as they are, with
a warning), and a real apply waits with a message on stderr, terminal or not, until a stop
signal ends the wait.

Real processes and real signals against the emulator.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from tests.helpers import run_vcctl
from tests.test_stop_signals import (
    STOP_DEADLINE,
    rate_limited,
    sent_after,
    start,
    stop_timed,
    wait_until,
)
from vcctl.emulator.server import Emulator, Fault


def write_stack(tmp_path: Path) -> Path:
    stack = tmp_path / "stack.toml"
    stack.write_text(
        'stack = "locked"\n' + "".join(f'[rooms.r{n}]\nname = "Room {n}"\n' for n in range(3)),
        encoding="utf-8",
    )
    return stack


def stalled_apply(
    emulator: Emulator, env: dict[str, str], args: list[str], *, phase: str = "POST"
) -> subprocess.Popen[str]:
    """An apply that holds the stack's lock, waiting out a 429 that asks for 20 s: on a create
    (POST), or on the GET that fetches a room it made before."""
    emulator.add_fault(Fault("status", status=429, retry_after="20", method=phase))
    child = start(["apply", *args, "--concurrency", "1"], env)
    wait_until(lambda: rate_limited(emulator), "the stalled apply is answered 429")
    return child


def renamed(stack: Path) -> Path:
    """The same stack with room r0 renamed: its plan is one update."""
    changed = stack.with_name("changed.toml")
    changed.write_text(stack.read_text().replace('"Room 0"', '"Room zero"'), encoding="utf-8")
    return changed


@pytest.mark.parametrize("with_state_file", [False, True])
def test_a_dry_run_does_not_wait_for_a_stalled_apply_of_its_stack(
    emulator: Emulator, env: dict[str, str], tmp_path: Path, with_state_file: bool
) -> None:
    stack = write_stack(tmp_path)
    state = ["--state", str(tmp_path / "state.json")] if with_state_file else []
    first = run_vcctl(["apply", "-f", str(stack), *state], env)
    assert first.code == 0, first
    holder = stalled_apply(emulator, env, ["-f", str(stack), *state], phase="GET")
    try:
        planned = run_vcctl(
            ["apply", "-f", str(renamed(stack)), *state, "--dry-run"], env, timeout=30
        )
    finally:
        stop_timed(holder, signal.SIGTERM)

    assert planned.code == 0, planned
    assert planned.stdout.startswith('~ room r0  name: "Room 0" → "Room zero"'), planned.stdout
    what = "state file" if with_state_file else "stack locked"
    assert f"another vcctl apply of {what}" in planned.stderr, planned.stderr
    assert "is under way" in planned.stderr


def test_an_apply_waiting_for_the_lock_says_so_and_stops_on_a_signal(
    emulator: Emulator, env: dict[str, str], tmp_path: Path
) -> None:
    stack = write_stack(tmp_path)
    holder = stalled_apply(emulator, env, ["-f", str(stack)])
    try:
        waiting = start(["apply", "-f", str(stack)], env)
        assert waiting.stderr is not None
        line = waiting.stderr.readline()  # off a terminal too: a CI log shows why it hangs
        assert "waiting for another vcctl apply of stack locked to finish" in line, line
        stdout, stderr, sent, latency = stop_timed(waiting, signal.SIGHUP)
    finally:
        stop_timed(holder, signal.SIGTERM)

    assert waiting.returncode == 129, (stdout, stderr)
    assert latency < STOP_DEADLINE, f"ended {latency:.1f} s after the signal"
    assert stdout == ""
    assert sent_after(emulator, sent) == []
    assert "Traceback" not in stderr
