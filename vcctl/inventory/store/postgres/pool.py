"""Connections for the threads of one run: a batch's workers each talk to the database on a
connection of their own, so that their round trips overlap instead of queueing on one.

Over a network every statement waits for an answer; with one connection shared under a lock, a
keyed batch's eight workers took turns for each of them, and the database, not the API, set
the pace. Writes still queue where they must, on the write lock in the server, which a
transaction sent in one message holds only while the server runs it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from vcctl.inventory.store.postgres.connection import Session

POOL_SIZE = 8  # connections a run opens at most (the opening thread's included)


class Pool:
    """The session of each thread: its own, up to `size`; past that, threads share them in turn
    (each session has its lock: every statement runs under it)."""

    def __init__(self, main: Session, connect: Callable[[], Session], size: int = POOL_SIZE):
        self.main = main
        self._connect = connect
        self._size = size
        self._local = threading.local()
        self._local.session = main
        self._sessions = [main]
        self._guard = threading.Lock()
        self._turn = 0

    def current(self) -> Session:
        session: Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._assign()
        return session

    def _assign(self) -> Session:
        with self._guard:
            if len(self._sessions) >= self._size:
                self._turn = (self._turn + 1) % len(self._sessions)
                return self._sessions[self._turn]
        made = self._connect()  # outside the guard: connecting takes a few round trips
        with self._guard:
            self._sessions.append(made)
        return made

    def close(self) -> None:
        with self._guard:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            with session.lock:
                session.close()
