"""Batch creation from a file: `rooms create --from-file` and `participants create --from-file`.

Rows are read by `rows`, sent by `sending` and reported by `reporting`. A bad row is reported
with its line number and does not stop the others; the exit code follows the multi-item rule
(`vcctl.errors.multi_item_exit_code`), except that --dry-run exits 2 when any row is invalid.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vcctl.batch.reporting import RowReporter
from vcctl.batch.rows import Row, RowSource
from vcctl.batch.sending import PlanningTransport, plan_rows, send_rows
from vcctl.errors import EXIT_USAGE, Interrupted, MultiItemFailure, raise_for_items
from vcctl.halt import held
from vcctl.inventory.keyed_create import create_with_key
from vcctl.inventory.recorder import RecordingApi
from vcctl.output.streams import warn
from vcctl.resources import Noun

if TYPE_CHECKING:
    from vcctl.http.api import Api, Transport
    from vcctl.http.limiter import RateLimiter
    from vcctl.inventory.recorder import Recorder
    from vcctl.resources import Kind


@dataclass(frozen=True)
class BatchServices:
    """What a batch uses of the run, each built when first needed: a file that cannot be read
    is refused (exit 2) before the settings or the credentials are looked at."""

    api: Callable[[int], Api]  # the Api for N workers, recording what it returns when it may
    planner: Callable[[Transport], Api]  # the Api over --dry-run's planning transport
    recorder: Callable[[], Recorder]
    limiter: Callable[[], RateLimiter]


def create_from_file(
    services: BatchServices,
    noun: Noun,
    source: str,
    *,
    defaults: dict[str, Any],
    concurrency: int,
    dry_run: bool,
    json_mode: bool,
    quiet: bool,
    retry_unknown: bool = False,
) -> None:
    """Create one resource per row of `source` (see the module docstring). Rows with a key are
    created at most once (see `vcctl.inventory.keyed_create`): running the same file again creates
    only the rows still missing.

    Raises MultiItemFailure when rows failed (its code from the multi-item rule; 2 in --dry-run
    when any row is invalid), and Interrupted (128 + the signal: 130, 143,
    129) when Ctrl-C, SIGTERM or SIGHUP stopped it.
    """
    rows = RowSource(noun, source, defaults)  # a bad file or header: exit 2, nothing sent
    try:
        if source == "-" and sys.stdin.isatty():
            warn("reading JSON Lines from the terminal; end with Ctrl-D")
        reporter = RowReporter(noun, json_mode=json_mode, quiet=quiet, dry_run=dry_run, source=rows)
        if dry_run:
            _dry_run(services, noun, rows, reporter)
        else:
            _create(services, noun, rows, reporter, concurrency, retry_unknown)
    finally:
        rows.close()


def _dry_run(services: BatchServices, noun: Noun, rows: RowSource, reporter: RowReporter) -> None:
    planner = services.planner(PlanningTransport())
    with reporter:
        plan_rows(rows, lambda body: planner.create(noun, body), reporter)
    reporter.summary()
    if reporter.tally.failed:
        # Nothing would be sent for the invalid rows: a usage error, whatever the others.
        raise MultiItemFailure(f"{reporter.tally.failed} invalid rows", exit_code=EXIT_USAGE)


def _create(
    services: BatchServices,
    noun: Noun,
    rows: RowSource,
    reporter: RowReporter,
    concurrency: int,
    retry_unknown: bool,
) -> None:
    # One Client, so one requests.Session whose connection pool (sized to the workers) they
    # share; workers only send through it and never change its state. No credentials: exit 4.
    if rows.keyed:
        services.recorder().require()  # keys need the inventory: exit 2 before sending
    api = services.api(concurrency)
    limiter = services.limiter()
    reporter.status = limiter.status
    kind: Kind = "room" if noun == "rooms" else "participant"
    keyed_api: RecordingApi | None = None

    def create(row: Row) -> Any:
        assert row.body is not None
        if row.key is None:
            return api.create(noun, row.body)  # recorded (one commit per group) by the Api
        nonlocal keyed_api
        if keyed_api is None:
            # A keyed row needs the inventory; off or unusable, the row fails (exit 2) unsent.
            services.recorder().require()
            assert isinstance(api, RecordingApi)
            keyed_api = api
        return create_with_key(keyed_api, kind, row.body, row.key, retry_unknown=retry_unknown)

    # A stop signal acts only where the engine waits, until the summary is written: a second
    # one must not cut it off (see vcctl.halt).
    with held():
        with reporter:
            if reporter.drawing:
                limiter.set_notice(None)
            stop = send_rows(rows, create, reporter, concurrency)
        reporter.summary(stop)
    if stop is not None:
        name = signal.Signals(stop.signum).name
        raise Interrupted(
            f"interrupted before the end of {rows.label} ({name}): the lines not reported were "
            "not sent",
            exit_code=stop.exit_code,
            work_abandoned=bool(stop.outcome_unknown),
        )
    tally = reporter.tally
    raise_for_items(tally.failure_codes, succeeded=tally.succeeded, what="rows")
