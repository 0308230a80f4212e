"""Shared fixtures: a real emulator on 127.0.0.1 and the real `vcctl` run as a user runs it."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from vcctl.emulator.server import Emulator, EmulatorConfig

API_KEY = "test-api-key-0123456789"
API_TOKEN = "test-api-token-9876543210"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def __repr__(self) -> str:  # shown by pytest when an assertion fails
        return f"Result(code={self.code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


def clean_environment(tmp_path: Path) -> dict[str, str]:
    """The caller's environment without any VCCTL_* setting, with a private config folder."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("VCCTL_") and key not in ("NO_COLOR", "REQUESTS_CA_BUNDLE")
    }
    env["VCCTL_CONFIG_DIR"] = str(tmp_path / "config")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    env["HOME"] = str(tmp_path / "home")
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run_vcctl(
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    input: str | None = None,
    timeout: float = 60,
) -> Result:
    """Run the real CLI in a child process, stdin not a terminal (empty unless `input`)."""
    completed = subprocess.run(
        [sys.executable, "-m", "vcctl", *args],
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=dict(env),
        timeout=timeout,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def run_in_process(args: Sequence[str], env: Mapping[str, str], *, input: str = "") -> Result:
    """The CLI's real entry point (vcctl.cli.main) in this process, with exactly `env`: the same
    code path as `python -m vcctl` minus the interpreter start-up, for tests that run many
    commands. Standard input is not a terminal; the streams are captured as bytes, as vcctl
    writes JSON to the buffer under sys.stdout."""
    from vcctl import cli

    out, err = io.BytesIO(), io.BytesIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    stderr = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
    code: int | str | None = None
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        patch.setattr(sys, "stdin", io.StringIO(input))
        patch.setattr(sys, "stdout", stdout)
        patch.setattr(sys, "stderr", stderr)
        try:
            cli.main(list(args))
        except SystemExit as exit_:
            code = exit_.code
    assert isinstance(code, int)
    return Result(code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8"))


def run_in_pty(
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    answers: Sequence[tuple[str, str]] = (),
    timeout: float = 30,
    columns: int = 100,
) -> Result:
    """Run the CLI with stdin/stdout/stderr on a pseudo-terminal, like a person at a terminal.

    `answers` pairs a text to wait for with the line to type once it appears. Output of both
    streams is merged, as a terminal shows it.
    """
    env = dict(env)
    env.setdefault("TERM", "xterm-256color")
    env["COLUMNS"] = str(columns)
    env["LINES"] = "40"
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execvpe(sys.executable, [sys.executable, "-m", "vcctl", *args], env)
    output = b""
    pending = list(answers)
    import time

    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            os.kill(pid, 9)
            break
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
        while pending and pending[0][0].encode() in output:
            os.write(fd, (pending.pop(0)[1] + "\n").encode())
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    code = os.waitstatus_to_exitcode(status)
    return Result(code, output.decode("utf-8", errors="replace"), "")


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(api_key=API_KEY, api_token=API_TOKEN)) as server:
        yield server


@pytest.fixture
def env(tmp_path: Path, emulator: Emulator) -> dict[str, str]:
    """Environment for a CI-style user: credentials and base URL in VCCTL_* variables."""
    environment = clean_environment(tmp_path)
    environment.update(
        VCCTL_BASE_URL=emulator.base_url, VCCTL_API_KEY=API_KEY, VCCTL_API_TOKEN=API_TOKEN
    )
    return environment


Runner = Callable[..., Result]


@pytest.fixture
def vcctl(env: dict[str, str]) -> Runner:
    """`vcctl(*args, input=None, env=None)` -> Result, against the `emulator` fixture."""

    def run(*args: str, input: str | None = None, env: Mapping[str, str] | None = None) -> Result:
        return run_vcctl(args, env if env is not None else _env, input=input)

    _env = env
    return run
