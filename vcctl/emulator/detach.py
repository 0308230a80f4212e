"""A detached emulator: started in its own session, found again by pid file, stopped by signal.

`vcctl emulator start --detach` runs `vcctl emulator start ...` (vcctl_emulator_ready_fd set) in a
new session (no terminal, so closing the shell does not end it), with stdin and stdout on
/dev/null once it is ready and stderr in a log file or nowhere. The child reports readiness, or
why it could not listen, as one JSON line on a pipe, then writes its pid file and removes it
when it stops. The pid file lives in vcctl's state folder (`$XDG_STATE_HOME/vcctl` on Linux).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from vcctl.config.files import make_private_dir

PID_FILE_NAME = "emulator.pid"
PID_VARIABLE = "VCCTL_EMULATOR_PID"
# Set only for the child: where it reports readiness (an internal detail, not an option).
READY_FD_VARIABLE = "vcctl_emulator_ready_fd"
READY_TIMEOUT = 30.0  # seconds for a child to bind; Python starts in well under one
STOP_TIMEOUT = 10.0  # seconds for a stopped emulator to exit (it closes sockets and returns)


class DetachError(Exception):
    """Starting or stopping a detached emulator failed; the message says why."""


@dataclass
class Detached:
    """A running detached emulator."""

    pid: int
    base_url: str


def state_dir(env: Mapping[str, str]) -> Path:
    """Where the pid file of a detached emulator goes."""
    explicit = env.get("XDG_STATE_HOME")
    if explicit:
        return Path(explicit) / "vcctl"
    import platformdirs

    return Path(platformdirs.user_state_dir("vcctl", appauthor=False))


def pid_file(env: Mapping[str, str]) -> Path:
    return state_dir(env) / PID_FILE_NAME


def spawn(child_args: Sequence[str], log_file: Path | None) -> Detached:
    """Start `vcctl <child_args>` detached and return once it listens."""
    ready_read, ready_write = os.pipe()
    log = open(log_file, "ab") if log_file is not None else subprocess.DEVNULL  # noqa: SIM115
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "vcctl", *child_args],
            env={**os.environ, READY_FD_VARIABLE: str(ready_write)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            pass_fds=(ready_write,),
            start_new_session=True,
        )
    finally:
        os.close(ready_write)
        if not isinstance(log, int):
            log.close()
    try:
        line = _read_line(ready_read, READY_TIMEOUT)
    finally:
        os.close(ready_read)
    if not line:
        code = child.poll()
        if code is None:
            child.kill()
            raise DetachError("the emulator did not start in time")
        raise DetachError(f"the emulator exited with code {code} before listening")
    report = json.loads(line)
    if "error" in report:
        child.wait()
        raise DetachError(str(report["error"]))
    return Detached(pid=child.pid, base_url=str(report["base_url"]))


def _read_line(fd: int, timeout: float) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(remaining, 0))
        if not ready:
            return b""
        chunk = os.read(fd, 4096)
        if not chunk:
            return b""
        data += chunk
    return data


def report_ready(ready_fd: int, payload: dict[str, object]) -> None:
    """In the child: tell the parent it listens (or why not) and close the pipe."""
    with open(ready_fd, "w", encoding="utf-8", closefd=True) as pipe:
        pipe.write(json.dumps(payload) + "\n")


def write_pid_file(path: Path, pid: int, base_url: str) -> None:
    make_private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{pid}.tmp")
    temporary.write_text(f"{pid}\n{base_url}\n", encoding="utf-8")
    os.replace(temporary, path)


def remove_pid_file(path: Path, pid: int) -> None:
    """Remove the pid file if it still names `pid` (a newer emulator may have replaced it)."""
    if read_pid_file(path) == pid:
        path.unlink(missing_ok=True)


def read_pid_file(path: Path) -> int | None:
    try:
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        return int(first)
    except (OSError, ValueError):
        return None


def find(env: Mapping[str, str]) -> tuple[int, str]:
    """(pid, where it came from) of the emulator `stop` should end; DetachError if none."""
    text = env.get(PID_VARIABLE, "").strip()
    if text:
        if not text.isdigit() or int(text) <= 1:
            raise DetachError(f"{PID_VARIABLE}={text!r} is not a process id")
        return int(text), PID_VARIABLE
    path = pid_file(env)
    pid = read_pid_file(path)
    if pid is None:
        raise DetachError("no detached emulator is running (no pid file at " + str(path) + ")")
    return pid, str(path)


def stop(pid: int) -> None:
    """End the emulator `pid` with SIGTERM and wait until it is gone; DetachError if it is not
    a running emulator."""
    if not is_running(pid) or not _is_emulator(pid):
        raise DetachError(f"no emulator is running with pid {pid}")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while is_running(pid):
        if time.monotonic() > deadline:
            raise DetachError(f"the emulator (pid {pid}) did not stop within {STOP_TIMEOUT:g} s")
        time.sleep(0.01)  # another process's exit cannot be waited on portably


def is_running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting for its parent counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, and not ours to stop
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _is_emulator(pid: int) -> bool:
    """Whether `pid` runs a detached vcctl emulator (where /proc tells; elsewhere assumed)."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True
    return b"emulator" in words and b"start" in words
