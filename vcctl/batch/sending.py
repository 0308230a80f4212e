"""Batch sending: a bounded pool of workers sending rows, reported in input order; Ctrl-C.

The workers share one client (one keep-alive pool sized to them). Rows are read ahead only a
few per worker beyond the oldest unreported one, so memory stays flat whatever the file's size.
`--dry-run` sends nothing: the Api runs over a `PlanningTransport`, which answers with the
request it was given.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import FrameType
from typing import Any

from vcctl.batch.reporting import RowReporter
from vcctl.batch.rows import Row, RowSource
from vcctl.errors import VcctlError
from vcctl.retry import CallKind
from vcctl.streams import warn

# Rows read ahead of the oldest unreported one, per worker: enough to keep every worker busy
# while the head of the line waits, small enough that memory does not grow with the file.
WINDOW_PER_WORKER = 4


class PlanningTransport:
    """The Api's transport in --dry-run: answers with the request the Api would send, so that
    what is shown is exactly what vcctl.api builds, and nothing leaves the machine."""

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        kind: CallKind,
        empty_ok: bool = False,
    ) -> Any:
        return {"method": method, "path": path, "body": body}


def plan_rows(
    rows: RowSource, plan: Callable[[dict[str, Any]], Any], reporter: RowReporter
) -> None:
    """--dry-run: report every row as the request it would send, or as invalid."""
    count = 0
    for row in rows.rows():
        count += 1
        if row.body is None:
            assert row.error is not None
            reporter.failed(row, row.error)
        else:
            reporter.planned(row, plan(row.body))
    if not count:
        warn(f"no rows in {rows.label}")


Pending = tuple[Row, "Future[Any] | None"]


class CtrlCGuard:
    """Holds a Ctrl-C that arrives while a row is being reported until that report is whole,
    so that every row sent is reported exactly once; anywhere else Ctrl-C acts at once."""

    def __init__(self) -> None:
        self._reporting = False
        self._held = False
        self._previous: Any = None

    def __enter__(self) -> CtrlCGuard:
        installable = threading.current_thread() is threading.main_thread()
        if installable and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._reporting:
            self._held = True
            return
        raise KeyboardInterrupt

    @contextlib.contextmanager
    def reporting(self) -> Iterator[None]:
        self._reporting = True
        try:
            yield
        finally:
            self._reporting = False
        if self._held:
            self._held = False
            raise KeyboardInterrupt


def send_rows(
    rows: RowSource,
    create: Callable[[dict[str, Any]], Any],
    reporter: RowReporter,
    concurrency: int,
) -> bool:
    """Send every valid row on `concurrency` workers, reporting in input order.

    Returns True when Ctrl-C stopped it before the end of the file.
    """
    window = concurrency * WINDOW_PER_WORKER
    pending: deque[Pending] = deque()
    executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="vcctl-batch")
    count = 0
    try:
        with CtrlCGuard() as ctrl_c:
            try:
                for row in rows.rows():
                    count += 1
                    future = executor.submit(create, row.body) if row.body is not None else None
                    pending.append((row, future))
                    # Report the head once it is done; wait for it when the window is full.
                    while pending and (len(pending) >= window or _is_done(pending[0][1])):
                        _report_head(pending, reporter, ctrl_c)
                while pending:
                    _report_head(pending, reporter, ctrl_c)
            except KeyboardInterrupt:
                _drain_after_interrupt(pending, reporter, ctrl_c)
                return True
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    if not count:
        warn(f"no rows in {rows.label}")
    return False


def _is_done(future: Future[Any] | None) -> bool:
    return future is None or future.done()


def _report_head(pending: deque[Pending], reporter: RowReporter, ctrl_c: CtrlCGuard) -> None:
    """Wait for the oldest row (Ctrl-C stops the wait), then report it and forget it."""
    row, future = pending[0]
    resource: Any = None
    error: VcctlError | None = row.error
    if future is not None:
        try:
            resource = future.result()
        except VcctlError as exc:
            error = exc
    with ctrl_c.reporting():
        pending.popleft()
        if error is not None:
            reporter.failed(row, error)
        else:
            reporter.created(row, resource)


def _drain_after_interrupt(
    pending: deque[Pending], reporter: RowReporter, ctrl_c: CtrlCGuard
) -> None:
    """Ctrl-C: send nothing more, but report every request already under way, since it may
    have created something the user needs to know about."""
    for _, future in pending:
        if future is not None:
            future.cancel()  # only those not started yet
    while pending:
        future = pending[0][1]
        if future is not None and future.cancelled():
            pending.popleft()
            reporter.tally.not_sent += 1
        else:
            _report_head(pending, reporter, ctrl_c)
