"""A batch stopped or upset short of its end still reports every resource the API created.

Real processes, real signals: a batch runs against the emulator with slow answers, is stopped
once some rooms exist, and the rooms on the emulator are compared with the ones reported.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Runner
from vcctl.emulator.server import Emulator, Fault

ROWS = 200


def rooms_csv(tmp_path: Path, count: int = ROWS) -> str:
    """Room R<i> on line i + 2 (the header is line 1)."""
    path = tmp_path / "rooms.csv"
    path.write_text("name\n" + "".join(f"R{i}\n" for i in range(count)), encoding="utf-8")
    return str(path)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.01)  # polling a condition, with a deadline


def start_batch(source: str, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "vcctl", "rooms", "create", "--from-file", source,
         "--concurrency", "4", "--json", *extra],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def room_names(emulator: Emulator) -> dict[str, str]:
    return {room["id"]: room["name"] for room in emulator.state()["rooms"]}


def posts(emulator: Emulator) -> int:
    return sum(1 for request in emulator.recorded() if request.method == "POST")


def stderr_json(stderr: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.splitlines()]


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]
)
def test_a_stopped_batch_reports_every_room_created_and_the_lines_not_sent(
    emulator: Emulator, env: dict[str, str], tmp_path: Path, signum: int, code: int
) -> None:
    emulator.add_fault(Fault("delay", delay_ms=200, method="POST", times=ROWS))
    child = start_batch(rooms_csv(tmp_path), env)
    try:
        wait_until(lambda: len(emulator.state()["rooms"]) >= 8, "8 rooms exist")
        child.send_signal(signum)
        stdout, stderr = child.communicate(timeout=30)
    finally:
        child.kill()

    assert child.returncode == code, (stdout, stderr)
    names = room_names(emulator)
    reported = [json.loads(line) for line in stdout.splitlines()]
    # Every room the API created is reported, once; nothing more was sent.
    assert {room["id"] for room in reported} == set(names)
    assert len(reported) == len(names) == posts(emulator)
    created = len(names)
    assert 8 <= created < ROWS
    # Sent in input order: the rooms are the first rows, and every line after them is named.
    assert sorted(names.values(), key=lambda name: int(name[1:])) == [
        f"R{i}" for i in range(created)
    ]
    *_, summary, error = stderr_json(stderr)
    assert summary == {
        "summary": {
            "created": created,
            "existing": 0,
            "failed": 0,
            "not_sent": {"first_line": created + 2, "last_line": ROWS + 1},
            "outcome_unknown_lines": [],
        }
    }
    assert error["error"]["exit_code"] == code
    assert "interrupted before the end of" in error["error"]["message"]


def test_a_second_ctrl_c_stops_waiting_and_names_the_rows_of_unknown_outcome(
    emulator: Emulator, env: dict[str, str], tmp_path: Path
) -> None:
    emulator.add_fault(Fault("delay", delay_ms=1500, method="POST", times=ROWS))
    child = start_batch(rooms_csv(tmp_path), env)
    try:
        # Some rooms created, and the next requests on their way (waiting in the emulator).
        wait_until(lambda: len(emulator.state()["rooms"]) >= 4, "4 rooms exist")
        wait_until(lambda: posts(emulator) >= 8, "8 requests were received")
        child.send_signal(signal.SIGINT)
        assert child.stderr is not None
        first = child.stderr.readline()  # vcctl says it waits for the requests under way
        assert json.loads(first)["stopping"]["signal"] == "SIGINT"
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=30)
        stderr = first + stderr
    finally:
        child.kill()
    sent = posts(emulator)
    # The requests vcctl stopped waiting for still complete on the server.
    wait_until(lambda: len(emulator.state()["rooms"]) == sent, "every request was answered")

    assert child.returncode == 130, (stdout, stderr)
    names = room_names(emulator)
    reported = {room["id"]: room["name"] for room in map(json.loads, stdout.splitlines())}
    messages = stderr_json(stderr)
    unknown = [m["error"]["line"] for m in messages if m.get("error", {}).get("outcome_unknown")]
    assert unknown, stderr
    *_, summary, error = messages
    assert summary["summary"]["outcome_unknown_lines"] == unknown
    assert summary["summary"]["created"] == len(reported)
    first_unsent = summary["summary"]["not_sent"]["first_line"]
    assert summary["summary"]["not_sent"]["last_line"] == ROWS + 1
    # Every room on the server was reported, or its line named as of unknown outcome; no line
    # both reported and named; every line not named as unsent was sent.
    unknown_names = {f"R{line - 2}" for line in unknown}
    assert set(reported.items()) <= set(names.items())
    assert set(names.values()) == set(reported.values()) | unknown_names
    assert not set(reported.values()) & unknown_names
    assert len(names) == first_unsent - 2
    assert error["error"]["exit_code"] == 130


def test_one_row_failing_oddly_is_that_rows_failure_and_the_others_go_on(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    # A redirect to an impossible port: the HTTP library raises a plain ValueError.
    emulator.add_fault(
        Fault("redirect", location="http://127.0.0.1:99999/x", method="POST", times=1)
    )
    result = vcctl("rooms", "create", "--from-file", rooms_csv(tmp_path, 10), "-q")

    assert result.code == 10, result
    names = room_names(emulator)
    assert set(result.stdout.split()) == set(names)
    assert len(names) == 9
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result
    assert lines[0].startswith(f"vcctl: error: {tmp_path / 'rooms.csv'}: line ")
    assert lines[1] == "created 9, existing 0, failed 1"
    assert "internal error" not in result.stderr


def test_a_deeply_nested_json_row_is_an_invalid_row_reported_by_line(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    source = tmp_path / "rooms.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    source.write_text(f'{{"name": "A"}}\n{deep}\n{{"name": "B"}}\n', encoding="utf-8")
    result = vcctl("rooms", "create", "--from-file", str(source), "-q", "--skip-invalid")

    assert result.code == 10, result
    assert len(result.stdout.split()) == 2
    assert sorted(room_names(emulator).values()) == ["A", "B"]
    assert result.stderr == (
        f"vcctl: error: {source}: line 2: not valid JSON: nested too deeply\n"
        "created 2, existing 0, failed 1\n"
    )
