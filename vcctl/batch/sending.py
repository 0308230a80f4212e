"""Batch sending: rows sent on the worker engine (`vcctl.workers`), reported in input order.

The workers share one client (one keep-alive pool sized to them). Rows are read ahead only a
few per worker beyond the oldest unreported one, so memory stays flat whatever the file's size.
`--dry-run` sends nothing: see `vcctl.batch.planning`.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from typing import Any

from vcctl.batch.reporting import RowReporter, StopReport
from vcctl.batch.rows import Row, RowSource
from vcctl.errors import InvalidResponseError, VcctlError
from vcctl.halt import process_halt
from vcctl.output.streams import warn
from vcctl.workers import Finished, run_in_order

# Rows read ahead of the oldest unreported one, per worker: enough to keep every worker busy
# while the head of the line waits, small enough that memory does not grow with the file.
WINDOW_PER_WORKER = 4


def send_rows(
    rows: RowSource,
    create: Callable[[Row], Any],
    reporter: RowReporter,
    concurrency: int,
) -> StopReport | None:
    """Send every valid row on `concurrency` workers of the engine (`vcctl.workers`), reporting
    in input order.

    Returns how it stopped when a signal stopped it before the end of the input (every request
    sent is then reported, or named as of unknown outcome after a second signal), None when it
    reached the end. The rate limiter watches the run's halt: a worker waiting for its turn
    sends nothing, and its row is reported as not sent.
    """
    halt = process_halt()
    count = 0

    def read() -> Iterator[Row]:
        nonlocal count
        for row in rows.rows():
            count += 1
            yield row

    def report(done: Finished[Row, Any]) -> None:
        if done.error is None:
            reporter.created(done.item, done.value)
        else:
            reporter.failed(done.item, row_failure(done.error))

    def stopping(under_way: int) -> None:
        if under_way and not halt.repeated:
            reporter.stopping(halt.signum, under_way)

    stop = run_in_order(
        read(),
        create,
        report,
        workers=concurrency,
        window=concurrency * WINDOW_PER_WORKER,
        ready=_invalid,
        stopping=stopping,
        name="vcctl-batch",
    )
    if stop is None:
        if not count:
            warn(f"no rows in {rows.label}")
        return None
    for row in stop.outcome_unknown:
        reporter.outcome_unknown(row)
    never_sent = [row.line for row in stop.unstarted]
    first_unsent = min(never_sent) if never_sent else rows.lines_read + 1
    return StopReport(
        stop.signum or signal.SIGINT,
        first_unsent,
        rows.last_line(),
        list(stop.outcome_unknown),
    )


def _invalid(row: Row) -> BaseException | None:
    """A row that failed validation is reported in its turn, never sent."""
    return row.error if row.body is None else None


def row_failure(problem: BaseException) -> VcctlError:
    """Whatever went wrong with one row's request is that row's failure, never the batch's."""
    if isinstance(problem, VcctlError):
        return problem
    if isinstance(problem, RecursionError):
        return InvalidResponseError("the answer is nested too deeply to be read")
    return VcctlError(f"unexpected failure: {type(problem).__name__}: {problem}")
