"""Helpers shared by the test modules: running the real `vcctl`, seeding and inspecting the
emulator, and the assertions many modules make. Test modules import from here, never from each
other."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from vcctl import __version__
from vcctl.emulator.server import Emulator, RecordedRequest

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
    env["VCCTL_DATA_DIR"] = str(tmp_path / "data")  # each test its own inventory
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
    """The CLI's real entry point (vcctl.cli.main.main) in this process, with exactly `env`: the
    same code path as `python -m vcctl` minus the interpreter start-up, for tests that run many
    commands. Standard input is not a terminal; the streams are captured as bytes, as vcctl
    writes JSON to the buffer under sys.stdout."""
    from vcctl.cli import main

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
            main.main(list(args))
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


Runner = Callable[..., Result]


def unused_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (just now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def seed(emulator: Emulator, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create a resource through the emulator's API, then forget that request was recorded."""
    request = urllib.request.Request(
        emulator.base_url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"apiKey": API_KEY, "apiToken": API_TOKEN, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        created: dict[str, Any] = json.loads(answer.read())
    emulator.clear_recorded()
    return created


def seed_room(emulator: Emulator, name: str = "Room", **fields: Any) -> dict[str, Any]:
    return seed(emulator, "/api/v1/rooms", {"name": name, **fields})


def seed_participant(
    emulator: Emulator, room_id: str, username: str = "Ada", **fields: Any
) -> dict[str, Any]:
    return seed(
        emulator, "/api/v1/participants", {"room_id": room_id, "username": username, **fields}
    )


def run_concurrently(commands: Sequence[tuple[Sequence[str], Mapping[str, str]]]) -> list[Result]:
    """Run independent vcctl commands (args, environment) at once; results in the order given."""
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(lambda command: run_vcctl(*command), commands))


def pretty(data: Any) -> str:
    """What `--json` must print for one resource: the API's JSON, indented by 2 spaces."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def json_lines(*items: Any) -> str:
    """What `--json` must print for several resources: one compact object per line."""
    return "".join(json.dumps(i, ensure_ascii=False, separators=(",", ":")) + "\n" for i in items)


def assert_sent(
    request: RecordedRequest, method: str, path: str, body: dict[str, Any] | None = None
) -> None:
    """The request reached the emulator exactly so: method, raw path, headers and JSON body."""
    assert (request.method, request.path) == (method, path)
    assert request.headers["apiKey"] == API_KEY
    assert request.headers["apiToken"] == API_TOKEN
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"] == f"vcctl/{__version__}"
    if body is None:
        assert request.body == ""
        assert "Content-Type" not in request.headers
    else:
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(request.body) == body


def sent_to(emulator: Emulator, path: str) -> list[RecordedRequest]:
    """The recorded requests for one path: concurrent commands interleave theirs."""
    return [r for r in emulator.recorded() if r.path == path]


def assert_refused(result: Result, message: str) -> None:
    """A local refusal: exit 2, one error line naming the problem, nothing on stdout."""
    assert result.code == 2, result
    assert result.stdout == ""
    assert result.stderr.startswith("vcctl: error: "), result
    assert message in result.stderr, result
    assert "Traceback" not in result.stderr


def run_python(script: str, *args: str, timeout: float = 60) -> str:
    """Run `script` in a fresh interpreter (a real, separate process) and return its stdout;
    a failure fails the test with its stderr."""
    completed = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def start_python(script: str, *args: str) -> subprocess.Popen[str]:
    """Start `script` in a fresh interpreter with pipes for its stdin, stdout and stderr."""
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def delete_directly(emulator: Emulator, path: str) -> None:
    """Delete a resource through the emulator's API, as someone else would, unrecorded."""
    request = urllib.request.Request(
        emulator.base_url + path,
        method="DELETE",
        headers={"apiKey": API_KEY, "apiToken": API_TOKEN},
    )
    with urllib.request.urlopen(request, timeout=5):
        pass
    emulator.clear_recorded()


@dataclass
class Measured:
    result: Result
    peak_rss: int  # bytes: the child's maximum resident set size
    seconds: float  # wall time


def run_vcctl_measured(
    args: Sequence[str], env: Mapping[str, str], *, timeout: float = 60, memory_limit: int = 1 << 30
) -> Measured:
    """`run_vcctl`, also measuring the child's peak memory and wall time. The child's address
    space is capped at `memory_limit`, so that a regression fails with MemoryError instead of
    taking the machine's memory; `timeout` kills a child that hangs."""
    import resource
    import threading
    import time

    def limit_memory() -> None:  # pragma: no cover - runs in the child
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "vcctl", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env),
        preexec_fn=limit_memory,
    )
    streams: dict[str, bytes] = {}

    def drain(name: str, stream: Any) -> None:
        streams[name] = stream.read()

    readers = [
        threading.Thread(target=drain, args=(name, stream))
        for name, stream in (("out", process.stdout), ("err", process.stderr))
    ]
    for reader in readers:
        reader.start()
    killer = threading.Timer(timeout, process.kill)
    killer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)  # wait4: this child's own resource usage
    finally:
        killer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    seconds = time.monotonic() - started
    assert process.returncode != -9 or seconds < timeout, f"vcctl {args} hung (killed)"
    result = Result(
        process.returncode,
        streams["out"].decode("utf-8", errors="replace"),
        streams["err"].decode("utf-8", errors="replace"),
    )
    return Measured(result, usage.ru_maxrss * 1024, seconds)


def inventory_keys(env: Mapping[str, str], stack: str | None) -> dict[str, str | None]:
    """The key -> id records an apply without --state keeps in the inventory of `env`
    (participants as room/participant; None: a create with an unknown outcome)."""
    from vcctl.apply.inventory_state import InventoryState
    from vcctl.inventory.records import account_for, inventory_path
    from vcctl.inventory.store import Inventory

    account = account_for(env["VCCTL_BASE_URL"], env["VCCTL_API_KEY"])
    with Inventory.open(inventory_path(env)) as inventory:
        state = InventoryState(inventory, account, stack)
        return {record.qualified_key: record.id for record in state.entries()}


Answer = tuple[int, Any]  # (status, JSON-able body)


class ScriptedServer:
    """A hostile API written for a test: `answer(method, path)` gives each answer's status and
    JSON body, whatever it holds (escape sequences, odd values). Use it as a context manager."""

    def __init__(self, answer: Callable[[str, str], Answer]) -> None:
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                status, data = answer(self.command, self.path)
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
