"""`vcctl emulator start` and `vcctl emulator exec`, as real processes, with no credentials."""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

from tests.helpers import clean_environment, run_concurrently

START_LINE = re.compile(r"(?:export )?(VCCTL_[A-Z_]+)=(.*)")


def read_lines(stream: IO[bytes], count: int, timeout: float = 20.0) -> list[str]:
    """The first `count` lines a child writes, without blocking past the deadline."""
    data = b""
    deadline = time.monotonic() + timeout
    while data.count(b"\n") < count:
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([stream], [], [], max(remaining, 0))
        if not ready:
            raise AssertionError(f"no {count} lines in time; got {data!r}")
        chunk = os.read(stream.fileno(), 4096)
        if not chunk:
            raise AssertionError(f"the stream closed after {data!r}")
        data += chunk
    return data.decode().splitlines()


def vcctl_process(environment: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "vcctl", *args],
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def start_emulator(environment: dict[str, str], *options: str) -> subprocess.Popen[bytes]:
    return vcctl_process(environment, "emulator", "start", "--port", "0", *options)


def create_room(base_url: str, api_key: str, api_token: str) -> dict[str, str]:
    request = urllib.request.Request(
        f"{base_url}/api/v1/rooms",
        data=b'{"name": "served"}',
        method="POST",
        headers={"apiKey": api_key, "apiToken": api_token, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        room: dict[str, str] = json.loads(answer.read())
    return room


def test_start_prints_settings_serves_and_stops_cleanly_on_sigint_and_sigterm(
    tmp_path: Path,
) -> None:
    environment = clean_environment(tmp_path)  # no credentials, no config file
    plain = start_emulator(environment, "--api-key", "key-1", "--api-token", "token-1")
    export = start_emulator(environment, "--export", "--api-token", "it's secret")
    # exec passes a SIGTERM on to its command (a cancelled CI job), then exits with its code.
    execute = vcctl_process(
        environment, "emulator", "exec", "--", "sh", "-c", 'echo "$VCCTL_BASE_URL"; exec sleep 60'
    )
    try:
        assert plain.stdout is not None
        assert export.stdout is not None
        assert execute.stdout is not None
        plain_lines = read_lines(plain.stdout, 3)
        export_lines = read_lines(export.stdout, 3)
        [exec_url] = read_lines(execute.stdout, 1)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", exec_url)
        execute.send_signal(signal.SIGTERM)

        settings = dict(_parse(line) for line in plain_lines)
        assert [line.split("=")[0] for line in plain_lines] == [
            "VCCTL_BASE_URL", "VCCTL_API_KEY", "VCCTL_API_TOKEN"
        ]  # fmt: skip
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", settings["VCCTL_BASE_URL"])
        assert (settings["VCCTL_API_KEY"], settings["VCCTL_API_TOKEN"]) == ("key-1", "token-1")
        room = create_room(settings["VCCTL_BASE_URL"], "key-1", "token-1")
        assert room["name"] == "served"

        # --export lines are for `eval "$(vcctl emulator start --export)"`: check with a shell.
        assert all(line.startswith("export VCCTL_") for line in export_lines)
        shell = subprocess.run(
            ["sh", "-c", "\n".join(export_lines) + '\nprintf "%s|%s" "$VCCTL_API_KEY" '
             '"$VCCTL_API_TOKEN"'],
            capture_output=True, text=True, timeout=20, check=True,
        )  # fmt: skip
        assert shell.stdout == "emulator-api-key|it's secret"

        plain.send_signal(signal.SIGINT)
        export.send_signal(signal.SIGTERM)
        plain_err = plain.communicate(timeout=20)[1].decode()
        export_err = export.communicate(timeout=20)[1].decode()
        exec_err = execute.communicate(timeout=20)[1].decode()
    finally:
        for child in (plain, export, execute):
            if child.poll() is None:
                child.kill()
                child.wait()

    assert (plain.returncode, export.returncode) == (0, 0)
    assert (execute.returncode, exec_err) == (128 + signal.SIGTERM, "")
    for stderr in (plain_err, export_err):
        assert "vcctl: Video Connect API emulator listening on http://127.0.0.1:" in stderr
        assert stderr.endswith("vcctl: emulator stopped\n")
        assert "Traceback" not in stderr
    assert not (tmp_path / "config").exists()


def _parse(line: str) -> tuple[str, str]:
    match = START_LINE.fullmatch(line)
    assert match is not None, line
    return match.group(1), match.group(2)


def test_start_on_a_port_in_use_and_exec(tmp_path: Path) -> None:
    environment = clean_environment(tmp_path)
    # The emulator needs no config: even an unreadable one is never read.
    broken_config = {**environment, "VCCTL_CONFIG_DIR": str(tmp_path / "broken")}
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.toml").write_text("this is [not toml\n")
    vcctl = [sys.executable, "-m", "vcctl"]
    report = 'printf "%s|%s|%s" "$VCCTL_BASE_URL" "$VCCTL_API_KEY" "$VCCTL_API_TOKEN"; exit 7'

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy, code_7, nested, missing, no_command = run_concurrently(
            [
                (["emulator", "start", "--port", str(port)], broken_config),
                (["emulator", "exec", "--", "sh", "-c", report], broken_config),
                (["emulator", "exec", "--", *vcctl, "rooms", "create", "--name", "x", "-q"],
                 environment),
                (["emulator", "exec", "--", "no-such-command-for-vcctl"], environment),
                (["emulator", "exec"], environment),
            ]
        )  # fmt: skip

    assert (busy.code, busy.stdout) == (2, ""), busy
    assert busy.stderr == (
        f"vcctl: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
        "hint: choose another --port (0 picks a free one)\n"
    )
    # exec: CMD's exit code, with VCCTL_* pointing at a fresh emulator.
    assert code_7.code == 7, code_7
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+\|emulator-api-key\|emulator-api-token",
                        code_7.stdout), code_7  # fmt: skip
    assert code_7.stderr == ""
    assert (nested.code, nested.stderr) == (0, ""), nested
    assert re.fullmatch(r"[A-Za-z0-9]{6}\n", nested.stdout), nested
    # A command that cannot run: the shell's 127, and a clear message.
    assert (missing.code, missing.stdout) == (127, ""), missing
    assert missing.stderr.startswith("vcctl: error: command not found: no-such-command-for-vcctl\n")
    assert no_command.code == 2, no_command
    assert "Missing argument" in no_command.stderr
    for result in (busy, code_7, nested, missing, no_command):
        assert "Traceback" not in result.stderr


def test_start_detach_evals_in_a_shell_outlives_it_and_stop_ends_it(tmp_path: Path) -> None:
    environment = {**clean_environment(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}
    vcctl = f"{sys.executable} -m vcctl"
    # $(...) returns only when every writer of its pipe is gone: a detached emulator holding
    # the pipe would hang this shell (the timeout fails the test).
    script = (
        f'eval "$({vcctl} emulator start --detach --port 0)" || exit 90\n'
        f"{vcctl} rooms create --name detached -q || exit 91\n"
        'printf "%s\\n%s\\n" "$VCCTL_EMULATOR_PID" "$VCCTL_BASE_URL"\n'
    )
    shell = subprocess.run(
        ["sh", "-c", script], env=environment, capture_output=True, text=True, timeout=60
    )
    assert shell.returncode == 0, shell
    room_id, pid_text, base_url = shell.stdout.splitlines()
    pid = int(pid_text)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base_url)
    assert "stop it with 'vcctl emulator stop'" in shell.stderr
    pid_file = tmp_path / "state" / "vcctl" / "emulator.pid"
    assert pid_file.read_text().splitlines() == [pid_text, base_url]
    exited = os.pidfd_open(pid)  # readable once the process has exited
    try:
        # The shell is gone; the emulator still serves, with the room created from the shell.
        state = json.loads(urllib.request.urlopen(f"{base_url}/_emulator/state").read())
        assert [room["id"] for room in state["rooms"]] == [room_id]
        assert select.select([exited], [], [], 0)[0] == []

        # No VCCTL_EMULATOR_PID: `stop` finds it through the pid file, and waits for its end.
        stop = subprocess.run(
            [sys.executable, "-m", "vcctl", "emulator", "stop"],
            env=environment, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert (stop.returncode, stop.stdout) == (0, ""), stop
        assert stop.stderr == f"vcctl: emulator {pid} stopped (pid from {pid_file})\n"
        assert select.select([exited], [], [], 0)[0] == [exited]
    finally:
        os.close(exited)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not pid_file.exists()

    again = subprocess.run(
        [sys.executable, "-m", "vcctl", "emulator", "stop"],
        env={**environment, "VCCTL_EMULATOR_PID": pid_text},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert again.returncode == 2
    assert again.stderr.startswith(f"vcctl: error: no emulator is running with pid {pid}\n")
    none = subprocess.run(
        [sys.executable, "-m", "vcctl", "emulator", "stop"],
        env=environment, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert none.returncode == 2
    assert none.stderr.startswith("vcctl: error: no detached emulator is running")
