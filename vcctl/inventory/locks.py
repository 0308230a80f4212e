"""Locks held across processes for a long while (a whole apply of a stack), that say who holds
them: the holder's host, pid and since when, for the message of a process that waits.

A `Lock` is taken with `try_take` (never blocking: the waiting is the caller's, on the run's stop
token), and `holder()` names who has it. The inventory gives one per stack
(`InventoryStore.stack_lock`): an fcntl lock on a file beside the SQLite file, or a PostgreSQL
advisory lock for a shared inventory (`store/postgres/stack_locks.py`); apply's `--state` file
has a `FileLock` of its own.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple, Protocol, Self

from vcctl.inventory.records import Account


class Holder(NamedTuple):
    """Who holds a lock: a process on a host, since (unix seconds) it took it."""

    host: str
    pid: int
    since: float

    @classmethod
    def this_process(cls) -> Self:
        return cls(socket.gethostname(), os.getpid(), time.time())

    def describe(self) -> str:
        since = datetime.fromtimestamp(self.since, UTC).isoformat(timespec="seconds")
        return f"pid {self.pid} on {self.host}, since {since.replace('+00:00', 'Z')}"


class Lock(Protocol):
    """A lock between processes; `release()` it (or close the process) when done."""

    # How often a waiter tries again: a lock freed is taken within this.
    poll_seconds: float

    def try_take(self) -> bool:
        """Take it if free (True), else False at once. Records this process as its holder."""
        ...

    def holder(self) -> Holder | None:
        """Who holds it now, if it is held and its holder has said so yet."""
        ...

    def release(self) -> None: ...


def lock_digest(account: Account, scope: str) -> bytes:
    """The same bytes for one account's stack in every vcctl (a file name, a database key)."""
    name = "\0".join((account.base_url, account.key_fingerprint, scope))
    return hashlib.sha256(name.encode("utf-8")).digest()


class FileLock:
    """An fcntl lock on a file that holds its holder's description while it is held (the file
    is emptied when released; one left by a crash is overwritten by the next holder, and read
    only while its lock is held by someone). The file itself stays: removing it would race with
    a process waiting on it."""

    poll_seconds = 0.05

    def __init__(self, path: Path, mode: int = 0o600) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, mode)  # OSError: the caller's to word
        self._held = False

    def try_take(self) -> bool:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self._held = True
        holder = Holder.this_process()
        text = json.dumps({"host": holder.host, "pid": holder.pid, "since": holder.since})
        with contextlib.suppress(OSError):  # a full disk: the lock holds, unnamed
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, text.encode("utf-8") + b"\n", 0)
        return True

    def holder(self) -> Holder | None:
        try:
            data = json.loads(os.pread(self._fd, 4096, 0) or b"null")
            return Holder(str(data["host"]), int(data["pid"]), float(data["since"]))
        except (OSError, ValueError, TypeError, KeyError):
            return None  # empty (being taken, or free), or not ours to read

    def release(self) -> None:
        if self._fd < 0:
            return
        if self._held:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing the descriptor releases the lock
        self._fd = -1
        self._held = False
