"""The deadline of one attempt: --timeout bounds connecting, the headers and the body together.

A socket timeout bounds each read only, so a server sending one byte a second would hold a call
forever. Each attempt runs under a `Deadline`; the connections requests opens for it report their
socket to the deadline of their thread (`WatchedAdapter`), and when the time is up the deadline
shuts that socket down, which ends any read in progress. The body reader also checks it between
chunks.

One thread watches every deadline of the process (`_Watchdog`), sleeping until the earliest: a
thread per attempt (a `threading.Timer`) cost a thread's start and stop for every request, a
tenth of the CPU of a batch's row.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from requests.adapters import HTTPAdapter

_current = threading.local()  # the Deadline of the attempt this thread is making, if any


class Deadline:
    """Shuts down the attempt's socket once `seconds` have passed; a context manager."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._done = False
        self.expired = False

    def __enter__(self) -> Deadline:
        _current.deadline = self
        _WATCHDOG.watch(self)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        _current.deadline = None
        with self._lock:
            # After this, a late timer must not touch a socket now back in the keep-alive pool.
            self._done = True
            self._socket = None

    def passed(self) -> bool:
        return self.expired or time.monotonic() >= self._ends

    def watch(self, sock: socket.socket | None) -> None:
        with self._lock:
            if self._done or sock is None:
                return
            self._socket = sock
            if self.expired:
                _shut_down(sock)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            if self._socket is not None:
                _shut_down(self._socket)


class _Watchdog:
    """Expires each deadline when its time comes, from one thread started on first use. A
    finished attempt's deadline is dropped when it comes up (nothing to expire then), so an
    attempt ends without waking the thread."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: list[tuple[float, int, Deadline]] = []  # a heap, by end time
        self._order = itertools.count()  # ties: first come, first expired
        self._thread: threading.Thread | None = None

    def watch(self, deadline: Deadline) -> None:
        with self._cond:
            heapq.heappush(self._pending, (deadline._ends, next(self._order), deadline))
            if self._thread is None or not self._thread.is_alive():  # first use, or a fork
                self._thread = threading.Thread(
                    target=self._run, name="vcctl-deadlines", daemon=True
                )
                self._thread.start()
            elif self._pending[0][2] is deadline:
                self._cond.notify()  # sooner than what the thread sleeps until

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._pending and self._pending[0][2]._done:
                    heapq.heappop(self._pending)
                if not self._pending:
                    self._cond.wait()
                    continue
                ends, _, deadline = self._pending[0]
                remaining = ends - time.monotonic()
                if remaining > 0:
                    self._cond.wait(remaining)
                    continue
                heapq.heappop(self._pending)
                deadline._expire()


_WATCHDOG = _Watchdog()


def _shut_down(sock: socket.socket) -> None:
    # The plain socket's shutdown, even for a TLS socket: it ends a read blocked in another
    # thread without touching the TLS state that thread is using. Closed already: nothing to do.
    with contextlib.suppress(OSError, ValueError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _watch(sock: Any) -> None:
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None and isinstance(sock, socket.socket):
        deadline.watch(sock)


def watched_adapter(pool_size: int) -> HTTPAdapter:
    """An HTTPAdapter whose connections report their socket to the thread's Deadline."""
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class Watching:
        def _new_conn(self) -> socket.socket:
            sock: socket.socket = super()._new_conn()  # type: ignore[misc]
            _watch(sock)
            return sock

        def request(self, *args: Any, **kwargs: Any) -> None:
            _watch(getattr(self, "sock", None))  # a kept-alive connection: its socket exists
            super().request(*args, **kwargs)  # type: ignore[misc]

        def getresponse(self) -> Any:
            _watch(getattr(self, "sock", None))  # the TLS socket, once the handshake is done
            return super().getresponse()  # type: ignore[misc]

    class WatchedHTTPConnection(Watching, HTTPConnection):
        pass

    class WatchedHTTPSConnection(Watching, HTTPSConnection):
        pass

    class WatchedHTTPPool(HTTPConnectionPool):
        ConnectionCls = WatchedHTTPConnection

    class WatchedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = WatchedHTTPSConnection

    pools = {"http": WatchedHTTPPool, "https": WatchedHTTPSPool}

    class WatchedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **kwargs)
            if hasattr(manager, "pool_classes_by_scheme"):
                manager.pool_classes_by_scheme = pools
            return manager

    return WatchedAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=0)
