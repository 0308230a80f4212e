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


# -- a stop signal during a wait: a rate-limit pause or a retry backoff ---------------------------
#
# A 429 with `Retry-After: 20` (or a 503 with it, which the client waits out as a backoff) makes
# vcctl wait 20 s; the signal must end the run within a second or so (the deadline here is
# generous, for a loaded machine), send nothing more, and report what was done.

STOP_DEADLINE = 5.0  # seconds from the signal to the exit, under load; the pause is 20 s


def stop_timed(child: subprocess.Popen[str], signum: int) -> tuple[str, str, float, float]:
    """Signal the child; (stdout, stderr, when the signal was sent, seconds until it ended)."""
    try:
        sent = time.monotonic()
        child.send_signal(signum)
        stdout, stderr = child.communicate(timeout=60)
        return stdout, stderr, sent, time.monotonic() - sent
    finally:
        child.kill()


def rate_limited(emulator: Emulator) -> bool:
    return any(request.answered == 429 for request in emulator.recorded())


def sent_after(emulator: Emulator, moment: float) -> list[str]:
    return [f"{r.method} {r.path}" for r in emulator.recorded() if r.received_at >= moment]


@pytest.mark.parametrize(("signum", "code"), [*SIGNALS, (signal.SIGINT, 130)])
def test_apply_stops_during_a_rate_limit_pause_and_sends_nothing_more(
    emulator: Emulator, env: dict[str, str], tmp_path: Path, signum: int, code: int
) -> None:
    stack = tmp_path / "stack.toml"
    stack.write_text(
        'stack = "pause"\n' + "".join(f'[rooms.r{n}]\nname = "Room {n}"\n' for n in range(6)),
        encoding="utf-8",
    )
    state = tmp_path / "state.json"
    # Two creates go through, the third is told to come back in 20 s. One worker, so that no
    # other request is on its way when the signal comes.
    emulator.add_fault(Fault("delay", delay_ms=0, method="POST", times=2))
    emulator.add_fault(Fault("status", status=429, retry_after="20", method="POST"))
    args = ["apply", "-f", str(stack), "--state", str(state), "--concurrency", "1", "--json"]
    child = start(args, env)

    wait_until(lambda: rate_limited(emulator), "a create is answered 429")
    stdout, stderr, sent, latency = stop_timed(child, signum)

    assert child.returncode == code, (stdout, stderr)
    assert latency < STOP_DEADLINE, f"ended {latency:.1f} s after the signal"
    assert sent_after(emulator, sent) == []
    created = {room["id"] for room in emulator.state()["rooms"]}
    actions = [json.loads(line) for line in stdout.splitlines()]
    assert {a["id"] for a in actions if a["action"] == "create"} == created
    assert len(created) == 2
    recorded = json.loads(state.read_text(encoding="utf-8"))
    assert created <= set(json.dumps(recorded).split('"')), recorded  # each id is in the state
    assert "Traceback" not in stderr


@pytest.mark.parametrize(("signum", "code"), [*SIGNALS, (signal.SIGINT, 130)])
def test_a_refresh_stops_during_a_rate_limit_pause(
    emulator: Emulator, env: dict[str, str], signum: int, code: int
) -> None:
    ids = [seed_room(emulator, f"Seen {n}")["id"] for n in range(3)]
    seen = subprocess.run(
        [sys.executable, "-m", "vcctl", "rooms", "get", *ids, "--json"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert seen.returncode == 0, seen.stderr  # the inventory now holds the three rooms
    # The first refresh is answered, the second told to come back in 20 s.
    emulator.add_fault(Fault("delay", delay_ms=0, method="GET"))
    emulator.add_fault(Fault("status", status=429, retry_after="20", method="GET"))
    child = start(["rooms", "list", "--refresh", "--concurrency", "1"], env)

    wait_until(lambda: rate_limited(emulator), "a refresh is answered 429")
    stdout, stderr, sent, latency = stop_timed(child, signum)

    assert child.returncode == code, (stdout, stderr)
    assert latency < STOP_DEADLINE, f"ended {latency:.1f} s after the signal"
    assert sent_after(emulator, sent) == []
    assert stdout == ""
    # What was done is told: one refresh answered, the others never sent.
    assert "1 of 3 records refreshed" in stderr, stderr
    assert "Traceback" not in stderr


def test_a_multi_id_get_stops_during_a_retry_backoff(
    emulator: Emulator, env: dict[str, str]
) -> None:
    ids = [seed_room(emulator, f"Busy {n}")["id"] for n in range(2)]
    # 503 "come back in 20 s" is not a rate limit: the client itself waits before retrying.
    emulator.add_fault(Fault("status", status=503, retry_after="20", method="GET", times=2))
    child = start(["rooms", "get", *ids, "--json"], env)

    wait_until(
        lambda: sum(r.answered == 503 for r in emulator.recorded()) == 2, "both GETs got a 503"
    )
    stdout, stderr, sent, latency = stop_timed(child, signal.SIGHUP)

    assert child.returncode == 129, (stdout, stderr)
    assert latency < STOP_DEADLINE, f"ended {latency:.1f} s after the signal"
    assert sent_after(emulator, sent) == []
    assert stdout == ""  # neither GET was answered
    assert "Traceback" not in stderr


def test_apply_stops_during_the_fetch_s_rate_limit_pause(
    emulator: Emulator, env: dict[str, str], tmp_path: Path
) -> None:
    stack = tmp_path / "stack.toml"
    stack.write_text('stack = "fetch"\n[rooms.a]\nname = "A"\n', encoding="utf-8")
    state = tmp_path / "state.json"
    first = subprocess.run(
        [sys.executable, "-m", "vcctl", "apply", "-f", str(stack), "--state", str(state)],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    emulator.add_fault(Fault("status", status=429, retry_after="20", method="GET"))
    child = start(["apply", "-f", str(stack), "--state", str(state)], env)

    wait_until(lambda: rate_limited(emulator), "the fetch is answered 429")
    stdout, stderr, sent, latency = stop_timed(child, signal.SIGTERM)

    assert child.returncode == 143, (stdout, stderr)
    assert latency < STOP_DEADLINE, f"ended {latency:.1f} s after the signal"
    assert sent_after(emulator, sent) == []
    assert "Traceback" not in stderr


def test_a_second_signal_during_apply_still_reports_what_the_api_created(
    emulator: Emulator, env: dict[str, str], tmp_path: Path
) -> None:
    stack = tmp_path / "stack.toml"
    stack.write_text(
        'stack = "twice"\n' + "".join(f'[rooms.r{n}]\nname = "Room {n}"\n' for n in range(8)),
        encoding="utf-8",
    )
    state = tmp_path / "state.json"
    # Two quick creates, then two that take 20 s: the second signal comes while they hang.
    emulator.add_fault(Fault("delay", delay_ms=0, method="POST", times=2))
    emulator.add_fault(Fault("delay", delay_ms=20_000, method="POST", times=8))
    args = ["apply", "-f", str(stack), "--state", str(state), "--concurrency", "2", "--json"]
    child = start(args, env)

    def posts() -> int:
        return sum(1 for r in emulator.recorded() if r.method == "POST")

    wait_until(lambda: posts() >= 4, "two creates hang")
    assert child.stderr is not None
    try:
        child.send_signal(signal.SIGINT)
        first_line = child.stderr.readline()  # the notice: vcctl waits for the two under way
        assert "stopping" in first_line
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=60)
        latency = time.monotonic() - sent
    finally:
        child.kill()

    assert child.returncode == 130, (stdout, stderr)
    assert latency < STOP_DEADLINE, f"ended {latency:.1f} s after the second signal"
    created = [json.loads(line) for line in stdout.splitlines()]
    assert len([a for a in created if a["action"] == "create"]) == 2  # the two quick ones
    unknown = [json.loads(line) for line in stderr.splitlines() if "unknown" in line]
    assert len(unknown) == 2, stderr  # the two under way are named: outcome unknown
    assert sent_after(emulator, sent) == []
    assert "Traceback" not in stderr


@pytest.mark.parametrize(("signum", "code"), [*SIGNALS, (signal.SIGINT, 130)])
def test_a_batch_stops_during_a_retry_backoff_and_reports_what_it_created(
    emulator: Emulator, env: dict[str, str], tmp_path: Path, signum: int, code: int
) -> None:
    source = tmp_path / "rooms.csv"
    source.write_text("name\n" + "".join(f"Row {n}\n" for n in range(6)), encoding="utf-8")
    # Two creates go through; the third is answered 503 "come back in 20 s", which the client
    # waits out itself (a backoff, not the limiter's pause). One worker: nothing else under way.
    emulator.add_fault(Fault("delay", delay_ms=0, method="POST", times=2))
    emulator.add_fault(Fault("status", status=503, retry_after="20", method="POST"))
    child = start(["rooms", "create", "--from-file", str(source), "--concurrency", "1", "-q"], env)

    wait_until(
        lambda: any(r.answered == 503 for r in emulator.recorded()), "a create is answered 503"
    )
    stdout, stderr, sent, latency = stop_timed(child, signum)

    assert child.returncode == code, (stdout, stderr)
    assert latency < STOP_DEADLINE, f"ended {latency:.1f} s after the signal"
    assert sent_after(emulator, sent) == []
    created = [room["id"] for room in emulator.state()["rooms"]]
    assert stdout.split() == created  # the two created rooms, reported
    assert len(created) == 2
    assert "created 2" in stderr, stderr
    assert "Traceback" not in stderr


def test_a_second_signal_during_a_multi_id_delete_names_what_is_under_way(
    emulator: Emulator, env: dict[str, str]
) -> None:
    rooms = [seed_room(emulator, f"Slow {n}") for n in range(8)]
    ids = [room["id"] for room in rooms]
    # Two quick deletes, then two that take 20 s: the second signal comes while they hang.
    emulator.add_fault(Fault("delay", delay_ms=0, method="DELETE", times=2))
    emulator.add_fault(Fault("delay", delay_ms=20_000, method="DELETE", times=8))
    args = ["rooms", "delete", *ids, "--yes", "--concurrency", "2", "--json"]
    child = start(args, env)

    def deletes() -> int:
        return sum(1 for r in emulator.recorded() if r.method == "DELETE")

    wait_until(lambda: deletes() >= 4, "two deletes hang")
    assert child.stderr is not None
    try:
        child.send_signal(signal.SIGHUP)
        first_line = child.stderr.readline()  # the notice: vcctl waits for the two under way
        assert json.loads(first_line)["stopping"]["requests_under_way"] == 2
        sent = time.monotonic()
        child.send_signal(signal.SIGHUP)
        stdout, stderr = child.communicate(timeout=60)
        latency = time.monotonic() - sent
    finally:
        child.kill()

    assert child.returncode == 129, (stdout, stderr)
    assert latency < STOP_DEADLINE, f"ended {latency:.1f} s after the second signal"
    assert [json.loads(line)["id"] for line in stdout.splitlines()] == ids[:2]  # the quick two
    errors = [json.loads(line)["error"] for line in stderr.splitlines()]
    assert [e["item"] for e in errors if "outcome unknown" in e["message"]] == ids[2:4]
    assert errors[-1]["exit_code"] == 129
    assert sent_after(emulator, sent) == []
    assert "Traceback" not in stderr


def test_an_inherited_sig_ign_for_ctrl_c_is_kept(emulator: Emulator, env: dict[str, str]) -> None:
    """Started with Ctrl-C ignored (`nohup`, or `&` in a script), vcctl does not undo that: a
    SIGINT sent to the whole job does not stop it."""
    rooms = [seed_room(emulator, f"Kept {n}") for n in range(3)]
    emulator.add_fault(Fault("delay", delay_ms=300, method="DELETE", times=len(rooms)))
    ids = [room["id"] for room in rooms]
    child = subprocess.Popen(
        [sys.executable, "-m", "vcctl", "rooms", "delete", *ids, "--yes", "--concurrency", "1"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip
    wait_until(lambda: len(emulator.recorded()) >= 1, "a delete is under way")
    stdout, stderr = stop(child, signal.SIGINT)

    assert child.returncode == 0, (stdout, stderr)
    assert emulator.state()["rooms"] == []


@pytest.mark.parametrize(
    ("handlers", "name"), [("run", "SIGINT"), ("run", "SIGTERM"), ("watch", "SIGTERM")]
)
def test_a_stop_signal_inside_generated_code_leaves_the_exit_code_alone(
    handlers: str, name: str
) -> None:
    """A signal that lands while an import makes a dataclass (code compiled from a string) and
    is then handled as usual: `python -m vcctl` exits with the code vcctl chose. With a bare
    KeyboardInterrupt, CPython ended the process by SIGINT instead (a watch ended by SIGTERM
    died by SIGINT, about once in a hundred runs under load)."""
    child = subprocess.run(
        [sys.executable, "-m", "tests.stop_in_generated_code", handlers, name],
        cwd=Path(__file__).parent.parent, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert (child.returncode, child.stderr) == (0, "")
