"""A real PostgreSQL server for the tests, started by the suite itself.

`initdb` in a temporary folder, `postgres` on a free 127.0.0.1 port with fsync off (what a commit
wrote reaches the kernel, so it survives a killed server, not a crashed machine), one server per
test process (pytest-xdist worker), a fresh database per test. PostgreSQL refuses to run as root:
when the suite runs as root, the server runs as the `postgres` user (Debian's package creates it)
or else `nobody`, in a folder that user owns. The binaries come from `VCCTL_TEST_PG_BIN`, the
`initdb` on PATH, or Debian's `/usr/lib/postgresql/*/bin`; without them the tests that need a
server skip, saying so (`.ci/run` installs Debian's `postgresql`, so CI never skips them).
"""

from __future__ import annotations

import os
import pwd
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

READY_LINE = "database system is ready to accept connections"
START_TIMEOUT = 60.0  # seconds; initdb and start take ~1 s on a quiet machine
USER = "vcctl"  # the server's superuser, trusted on loopback


def find_bin_dir() -> Path | None:
    """The folder holding `initdb` and `postgres`, or None when PostgreSQL is not installed."""
    candidates: list[Path] = []
    if os.environ.get("VCCTL_TEST_PG_BIN"):
        candidates.append(Path(os.environ["VCCTL_TEST_PG_BIN"]))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "postgres").exists():
            return folder
    return None


def _run_as() -> tuple[int, int] | None:
    """(uid, gid) to run the server as when we are root; None to run it as ourselves."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    raise RuntimeError("running as root, and neither a 'postgres' nor a 'nobody' user exists")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresServer:
    """`with PostgresServer() as server:` a running server; `server.url(db)` is a libpq URL."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        found = bin_dir or find_bin_dir()
        if found is None:
            raise FileNotFoundError("PostgreSQL's initdb and postgres were not found")
        self.bin_dir = found
        self.owner = _run_as()
        self.uid: int | None = None if self.owner is None else self.owner[0]
        self.gid: int | None = None if self.owner is None else self.owner[1]
        self.root = Path(tempfile.mkdtemp(prefix="vcctl-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.log = self.root / "server.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._databases = 0
        self._lock = threading.Lock()

    # -- life cycle ---------------------------------------------------------------------------

    def __enter__(self) -> PostgresServer:
        try:
            self.initdb()
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def initdb(self) -> None:
        self.sockets.mkdir()
        if self.owner is not None:
            for path in (self.root, self.sockets):
                os.chown(path, *self.owner)
        subprocess.run(
            [
                str(self.bin_dir / "initdb"),
                "--pgdata",
                str(self.data),
                "--username",
                USER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=START_TIMEOUT,
            cwd=self.root,
            user=self.uid,
            group=self.gid,
        )

    def start(self) -> None:
        """Start (or restart) the server on a free port; returns once it accepts connections."""
        for _ in range(5):  # another process may take the free port before the server binds it
            self.port = self.port or _free_port()
            if self._start_once():
                return
            self.port = 0
        raise RuntimeError(f"PostgreSQL did not start; its log:\n{self.log.read_text()}")

    def _start_once(self) -> bool:
        command = [
            str(self.bin_dir / "postgres"),
            "-D",
            str(self.data),
            "-p",
            str(self.port),
            "-k",
            str(self.sockets),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
        ]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.root,
            start_new_session=True,  # a Ctrl-C sent to the test's group does not reach it
            user=self.uid,
            group=self.gid,
        )
        ready = self._wait_for_ready_line()
        if not ready:
            self.process.wait(timeout=START_TIMEOUT)
            self.process = None
        return ready

    def _wait_for_ready_line(self) -> bool:
        """Read the server's log until it says it is ready (True) or it exits (False); from then
        on a thread copies the log to `self.log`, so the pipe never fills."""
        assert self.process is not None
        assert self.process.stderr is not None
        stream = self.process.stderr
        deadline = time.monotonic() + START_TIMEOUT
        seen = b""
        with self.log.open("ab") as log:
            while READY_LINE.encode() not in seen:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"PostgreSQL not ready after {START_TIMEOUT} s")
                readable, _, _ = select.select([stream], [], [], left)
                if not readable:
                    continue
                chunk = os.read(stream.fileno(), 65536)
                if not chunk:
                    return False  # it exited (a port taken, say)
                log.write(chunk)
                seen = seen[-4096:] + chunk
        threading.Thread(target=self._copy_log, args=(stream,), daemon=True).start()
        return True

    def _copy_log(self, stream: object) -> None:
        with self.log.open("ab") as log:
            while chunk := os.read(stream.fileno(), 65536):  # type: ignore[attr-defined]
                log.write(chunk)

    def kill(self) -> None:
        """SIGKILL the server, as a crash or a pulled cable would end it."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=START_TIMEOUT)
            self.process = None

    def stop(self) -> None:
        """A fast shutdown (SIGINT: roll back open transactions, then exit)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=START_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- databases ----------------------------------------------------------------------------

    def url(self, database: str = "postgres", *, user: str = USER) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL with the server's own psql; returns its output (unaligned, tuples only)."""
        completed = subprocess.run(
            [
                *(str(self.bin_dir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"),
                *("-d", self.url(database), "-c", sql),
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
        )
        return completed.stdout

    def new_database(self, prefix: str = "t") -> str:
        """A fresh, empty database; returns its name."""
        with self._lock:
            self._databases += 1
            name = f"{prefix}_{os.getpid()}_{self._databases}"
        self.psql(f'CREATE DATABASE "{name}"')
        return name
