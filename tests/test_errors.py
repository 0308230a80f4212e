"""Failures as the user sees them: exit codes (README "Exit codes"), error lines, JSON error lines,
Ctrl-C, a closed pipe and the internal-error path. Never a traceback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.helpers import API_KEY, run_concurrently, run_in_process, seed_participant, seed_room
from vcctl.emulator.server import Emulator, Fault
from vcctl.http.api import Api


@dataclass
class Case:
    """One failing command: what to run, and what the user must get."""

    args: list[str]
    code: int
    stderr: str | Callable[[str], bool]  # the exact text, or a check of it
    env: dict[str, str | None] = field(default_factory=dict)  # None removes the variable
    attempts: int | None = None  # requests the emulator must have received for `path`
    path: str | None = None
    # Each exit code is produced once by a child process; variants run in this process (fast).
    subprocess: bool = True


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _json_error(exit_code: int, status: int | None, message: str) -> Callable[[str], bool]:
    def check(stderr: str) -> bool:
        assert stderr.endswith("\n")
        assert stderr.count("\n") == 1  # one JSON line, nothing else
        error = json.loads(stderr)["error"]
        assert (error["exit_code"], error["status"], error["message"]) == (
            exit_code,
            status,
            message,
        )
        return True

    return check


def test_every_exit_code_end_to_end(env: dict[str, str], emulator: Emulator) -> None:
    room = seed_room(emulator)
    ada = seed_participant(emulator, room["id"])
    other_room = seed_room(emulator)
    faulty = {name: seed_room(emulator, name)["id"] for name in ("e400", "e500", "e503", "html")}
    emulator.add_fault(
        Fault("status", status=400, path_regex=faulty["e400"], message="name is too long")
    )
    emulator.add_fault(
        Fault("status", status=500, path_regex=faulty["e500"], message="database on fire", times=2)
    )
    emulator.add_fault(
        Fault("status", status=503, path_regex=faulty["e503"], retry_after="0", times=5)
    )
    emulator.add_fault(Fault("html", status=200, path_regex=faulty["html"]))
    port = _closed_port()

    cases = [
        Case(
            ["rooms", "update", faulty["e400"], "--name", "x"],
            3,
            "vcctl: error: HTTP 400 Bad Request: name is too long\n",
            path=f"/fr/api/v1/rooms/{faulty['e400']}",
            attempts=1,
        ),
        Case(
            ["rooms", "get", room["id"]],
            4,
            "vcctl: error: HTTP 401 Unauthorized: Invalid API key or token\n"
            "hint: the API rejected the key or token: 'vcctl auth status' shows which are in "
            "use, 'vcctl auth login' or VCCTL_API_KEY/VCCTL_API_TOKEN set them\n",
            env={"VCCTL_API_KEY": "not-" + API_KEY},
            path=f"/fr/api/v1/rooms/{room['id']}",
            attempts=1,
            subprocess=False,
        ),
        Case(
            ["rooms", "get", other_room["id"]],
            4,
            "vcctl: error: no API key and no API token configured\n"
            "hint: run 'vcctl auth login', or set VCCTL_API_KEY and VCCTL_API_TOKEN "
            "(try 'vcctl emulator exec -- ...' to rehearse without an account)\n",
            env={"VCCTL_API_KEY": None, "VCCTL_API_TOKEN": None},
            path=f"/fr/api/v1/rooms/{other_room['id']}",
            attempts=0,
        ),
        Case(
            [
                "events",
                "activate-video-and-audio",
                "--room",
                other_room["id"],
                "--participant",
                ada["id"],
            ],
            5,
            "vcctl: error: HTTP 402 Request Failed: Participant is not in this room\n",
            path="/fr/api/v1/events",
            attempts=1,
        ),
        Case(
            ["rooms", "get", "nope", "--json"],
            6,
            _json_error(6, 404, "HTTP 404 Not Found: Room not found"),
            path="/fr/api/v1/rooms/nope",
            attempts=1,
        ),
        Case(
            # A GET answered 500 is retried (it cannot change anything), until attempts run out.
            ["rooms", "get", faulty["e500"], "--max-attempts", "2"],
            8,
            "vcctl: error: HTTP 500 Internal Server Error: database on fire\n"
            "hint: the API is having trouble; try again later\n",
            path=f"/fr/api/v1/rooms/{faulty['e500']}",
            attempts=2,
        ),
        Case(
            ["rooms", "get", faulty["e503"], "--max-attempts", "2"],
            8,
            "vcctl: error: HTTP 503 Service Unavailable\n"
            "hint: the API is having trouble; try again later\n",
            path=f"/fr/api/v1/rooms/{faulty['e503']}",
            attempts=2,
            subprocess=False,
        ),
        Case(
            [
                "rooms",
                "get",
                room["id"],
                "--base-url",
                f"http://127.0.0.1:{port}",
                "--max-attempts",
                "1",
            ],
            9,
            lambda stderr: (
                stderr.startswith(f"vcctl: error: cannot connect to http://127.0.0.1:{port}: ")
                and stderr.count("\n") == 1
            ),
        ),
        Case(
            ["rooms", "get", faulty["html"]],
            9,
            "vcctl: error: HTTP 200: the API's answer is not valid JSON: <html> <head><title>"
            "200 OK</title></head> <body> <center><h1>200 OK</h1></center> <hr><center>nginx"
            "</center> </body> </html>\n",
            path=f"/fr/api/v1/rooms/{faulty['html']}",
            attempts=1,
            subprocess=False,
        ),
        Case(
            ["rooms", "create", "--name", "x", "--color", "red", "--json"],
            2,
            _json_error(
                2, None, "invalid --color 'red': expected a colour such as '#1e90ff' (or '#fff')"
            ),
            path="/api/v1/rooms",
            attempts=0,
            subprocess=False,
        ),
    ]

    def environment(case: Case) -> dict[str, str]:
        merged: dict[str, str | None] = {**env, **case.env}
        return {key: value for key, value in merged.items() if value is not None}

    children = [case for case in cases if case.subprocess]
    results = dict(
        zip(
            map(id, children),
            run_concurrently([(case.args, environment(case)) for case in children]),
            strict=True,
        )
    )
    for case in cases:
        if not case.subprocess:
            results[id(case)] = run_in_process(case.args, environment(case))

    for case in cases:
        result = results[id(case)]
        assert result.code == case.code, (case.args, result)
        assert result.stdout == "", (case.args, result)
        if isinstance(case.stderr, str):
            assert result.stderr == case.stderr, (case.args, result)
        else:
            assert case.stderr(result.stderr), (case.args, result)
        if case.path is not None:
            sent = [r for r in emulator.recorded() if r.path == case.path]
            assert len(sent) == case.attempts, (case.args, sent)
    wrong_key = [r for r in emulator.recorded() if r.path == f"/fr/api/v1/rooms/{room['id']}"]
    assert wrong_key[0].headers["apiKey"] == "not-" + API_KEY


@pytest.mark.parametrize(
    ("fault", "args", "code", "stderr"),
    [
        (
            Fault("empty", status=404),
            ["rooms", "get", "x"],
            6,
            "vcctl: error: HTTP 404 Not Found: not found (resource or endpoint)\n"
            "hint: check the id, and --base-url/--locale if every call answers 404\n",
        ),
        (
            Fault("status", status=500, method="POST"),
            ["rooms", "create", "--name", "x"],
            8,
            "vcctl: error: HTTP 500 Internal Server Error\n"
            "hint: not retried: the request may have been carried out; check before creating "
            "again\n",
        ),
        (
            # With no time left to wait on 429s (the budget is 0 s in these runs).
            Fault("status", status=429, retry_after="1", times=2),
            ["rooms", "get", "x", "--max-attempts", "2"],
            7,
            "vcctl: error: HTTP 429 Too Many Requests\n"
            "hint: the API's request quota is exhausted; try again later, or lower --rate\n",
        ),
        (
            Fault("html", status=502),
            ["rooms", "delete", "x", "--yes", "--max-attempts", "1"],
            8,
            "vcctl: error: HTTP 502 Bad Gateway: <html> <head><title>502 Bad Gateway</title>"
            "</head> <body> <center><h1>502 Bad Gateway</h1></center> <hr><center>nginx"
            "</center> </body> </html>\n",
        ),
    ],
    ids=["404-without-message", "create-500", "429", "html-502"],
)
def test_error_messages(
    emulator: Emulator,
    env: dict[str, str],
    fault: Fault,
    args: list[str],
    code: int,
    stderr: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator.add_fault(fault)
    monkeypatch.setattr("vcctl.http.limiter.RATE_LIMIT_BUDGET", 0.0)

    result = run_in_process(args, env)

    assert (result.code, result.stdout, result.stderr) == (code, "", stderr)


def test_ctrl_c_exits_130_with_one_line_and_no_traceback(
    env: dict[str, str], emulator: Emulator
) -> None:
    room = seed_room(emulator)
    # Long enough never to end by itself; the emulator cuts it short when it shuts down.
    emulator.add_fault(Fault("delay", delay_ms=60_000, times=2))
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "vcctl", "rooms", "get", room["id"], *extra],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for extra in ([], ["--json"])
    ]
    try:
        # Both are blocked on the answer once the emulator has their requests.
        wait_until(lambda: len(emulator.recorded()) == 2)
        for child in children:
            os.kill(child.pid, signal.SIGINT)
        (plain_out, plain_err), (json_out, json_err) = (c.communicate(timeout=20) for c in children)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()

    assert [child.returncode for child in children] == [130, 130]
    assert (plain_out, plain_err) == ("", "vcctl: error: interrupted\n")
    assert json_out == ""
    assert json.loads(json_err) == {
        "error": {"exit_code": 130, "status": None, "message": "interrupted"}
    }


def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_a_closed_pipe_ends_quietly(env: dict[str, str], emulator: Emulator) -> None:
    room = seed_room(emulator)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before vcctl writes anything
    try:
        closed = subprocess.run(
            [sys.executable, "-m", "vcctl", "rooms", "get", room["id"], "--json"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    pipeline = subprocess.run(
        ["sh", "-c", f'"{sys.executable}" -m vcctl rooms get "{room["id"]}" --json | head -c1'],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )

    # 141 = 128 + SIGPIPE, what a shell reports for a process ended by a closed pipe.
    assert (closed.returncode, closed.stderr) == (141, b"")
    assert (pipeline.returncode, pipeline.stdout, pipeline.stderr) == (0, b"{", b"")


def test_an_internal_error_says_it_is_a_bug_and_shows_no_traceback(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Api, room_id: str) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(Api, "get_room", broken)

    plain = run_in_process(["rooms", "get", "x"], env)
    as_json = run_in_process(["rooms", "get", "x", "--json"], env)
    debug = run_in_process(["rooms", "get", "x", "--debug"], env)

    assert (plain.code, plain.stdout) == (1, "")
    assert plain.stderr == (
        "vcctl: error: internal error (a bug in vcctl): RuntimeError: boom\n"
        "hint: please report it; run with --debug to see the traceback\n"
    )
    assert as_json.code == 1
    assert json.loads(as_json.stderr)["error"]["exit_code"] == 1
    assert debug.code == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.endswith(plain.stderr)


def test_closed_or_full_standard_output_is_an_error_without_traceback(
    env: dict[str, str], emulator: Emulator
) -> None:
    room = seed_room(emulator)
    command = [sys.executable, "-m", "vcctl", "rooms", "get", room["id"], "--json"]
    stdout_closed = subprocess.run(
        command,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        preexec_fn=lambda: os.close(1),  # `vcctl ... >&-`
    )
    assert stdout_closed.returncode == 1
    assert json.loads(stdout_closed.stderr) == {
        "error": {
            "exit_code": 1,
            "status": None,
            "message": "standard output is closed: nowhere to print the result",
        }
    }
    with open("/dev/full", "w") as full:
        no_space = subprocess.run(
            command, env=env, stdout=full, stderr=subprocess.PIPE, text=True, check=False
        )
    assert no_space.returncode == 1
    assert json.loads(no_space.stderr)["error"]["message"] == "I/O error: No space left on device"


def test_quiet_create_without_an_id_in_the_answer_fails(
    env: dict[str, str], emulator: Emulator
) -> None:
    emulator.add_fault(Fault("status", status=200, message="created"))
    result = run_in_process(["rooms", "create", "--name", "x", "-q"], env)
    assert result.code == 9
    assert result.stdout == ""
    assert result.stderr == "vcctl: error: the API's answer has no id to print (-q)\n"


def test_delete_off_a_terminal_refuses_before_looking_for_credentials(
    env: dict[str, str], emulator: Emulator
) -> None:
    bare = {k: v for k, v in env.items() if k not in ("VCCTL_API_KEY", "VCCTL_API_TOKEN")}
    for noun in ("rooms", "participants"):
        result = run_in_process([noun, "delete", "abc123"], bare)
        assert result.code == 2, result
        assert "refusing to delete without confirmation" in result.stderr
    assert emulator.recorded() == []
