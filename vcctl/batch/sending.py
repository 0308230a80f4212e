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
from concurrent.futures import wait as futures_wait
from types import FrameType
from typing import Any

from vcctl.batch.reporting import RowReporter, StopReport
from vcctl.batch.rows import Row, RowSource
from vcctl.errors import InvalidResponseError, VcctlError
from vcctl.http.retry import CallKind
from vcctl.output.streams import warn

# Rows read ahead of the oldest unreported one, per worker: enough to keep every worker busy
# while the head of the line waits, small enough that memory does not grow with the file.
WINDOW_PER_WORKER = 4


class PlanningTransport:
    """The Api's transport in --dry-run: answers with the request the Api would send, so that
    what is shown is exactly what vcctl.http.api builds, and nothing leaves the machine."""

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

# The signals that stop a batch short of its end, as a shell reports them (128 + number).
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class SendingStopped(BaseException):
    """A stop signal arrived while the batch was waiting (for a row to read or an answer)."""


class StopSignals:
    """SIGINT, SIGTERM and SIGHUP during a batch. The first one stops the sending: it acts where
    the batch waits (`waiting`) and is held everywhere else, so that a row is never sent without
    being remembered, nor reported twice. A second one stops the wait for the answers under way.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self.repeated = False
        self._interruptible = False
        self._held = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
        else:
            self.repeated = True
        if self._interruptible:
            self._interruptible = False
            raise SendingStopped
        self._held = True

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """A wait a stop signal may cut short (one that came while held acts here)."""
        if self._held:
            self._held = False
            raise SendingStopped
        self._interruptible = True
        try:
            yield
        finally:
            self._interruptible = False


def send_rows(
    rows: RowSource,
    create: Callable[[Row], Any],
    reporter: RowReporter,
    concurrency: int,
    signals: StopSignals,
    *,
    wake: Callable[[], None] | None = None,
) -> StopReport | None:
    """Send every valid row on `concurrency` workers, reporting in input order.

    Returns how it stopped when a signal stopped it before the end of the input (every request
    sent is then reported, or named as of unknown outcome), None when it reached the end.
    On a stop, `wake` is called first: workers waiting for their turn to send (the rate
    limiter) then send nothing, and their rows are reported as failed.
    """
    window = concurrency * WINDOW_PER_WORKER
    pending: deque[Pending] = deque()
    executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="vcctl-batch")
    count = 0
    source = rows.rows()
    next_unread = 1
    stop: StopReport | None = None
    try:
        try:
            while True:
                next_unread = rows.lines_read + 1
                with signals.waiting():
                    row = next(source, None)
                if row is None:
                    break
                count += 1
                future = executor.submit(create, row) if row.body is not None else None
                pending.append((row, future))
                next_unread = rows.lines_read + 1
                # Report the head once it is done; wait for it when the window is full.
                while pending and (len(pending) >= window or _is_done(pending[0][1])):
                    _report_head(pending, reporter, signals)
            while pending:
                _report_head(pending, reporter, signals)
        except SendingStopped:
            assert signals.signum is not None
            if wake is not None:
                wake()
            stop = StopReport(signals.signum, next_unread, None)
            _drain_after_stop(pending, reporter, signals, stop)
            stop.last_line = rows.last_line()
            return stop
    finally:
        # After a second signal the requests still under way are left behind, not waited for.
        abandon = stop is not None and bool(stop.outcome_unknown)
        executor.shutdown(wait=not abandon, cancel_futures=True)
    if not count:
        warn(f"no rows in {rows.label}")
    return None


def _is_done(future: Future[Any] | None) -> bool:
    return future is None or future.done()


def _report_head(pending: deque[Pending], reporter: RowReporter, signals: StopSignals) -> None:
    """Wait for the oldest row (a stop signal cuts the wait short), then report it."""
    future = pending[0][1]
    if future is not None:
        with signals.waiting():
            futures_wait([future])
    _report_done_head(pending, reporter)


def _report_done_head(pending: deque[Pending], reporter: RowReporter) -> None:
    row, future = pending.popleft()
    if row.error is not None:
        reporter.failed(row, row.error)
        return
    assert future is not None
    problem = future.exception()
    if problem is None:
        reporter.created(row, future.result())
    else:
        reporter.failed(row, row_failure(problem))


def row_failure(problem: BaseException) -> VcctlError:
    """Whatever went wrong with one row's request is that row's failure, never the batch's."""
    if isinstance(problem, VcctlError):
        return problem
    if isinstance(problem, RecursionError):
        return InvalidResponseError("the answer is nested too deeply to be read")
    return VcctlError(f"unexpected failure: {type(problem).__name__}: {problem}")


def _drain_after_stop(
    pending: deque[Pending], reporter: RowReporter, signals: StopSignals, stop: StopReport
) -> None:
    """Send nothing more, but report every request already sent, since it may have created
    something the user needs to know about; after a second signal, stop waiting for them and
    name the rows whose outcome is unknown."""
    for _, future in pending:
        if future is not None:
            future.cancel()  # only those not started yet: always the newest rows
    under_way = sum(1 for _, future in pending if future is not None and not future.done())
    if under_way and not signals.repeated:
        reporter.stopping(stop.signum, under_way)
    while pending:
        row, future = pending[0]
        if future is not None and future.cancelled():
            # This row and every one after it were never sent.
            stop.first_unsent_line = row.line
            pending.clear()
            return
        if signals.repeated and not _is_done(future):
            pending.popleft()
            stop.outcome_unknown.append(row)
            reporter.outcome_unknown(row)
            continue
        try:
            _report_head(pending, reporter, signals)
        except SendingStopped:
            continue  # the second signal: what is not done yet is of unknown outcome
