"""Batches from a file: `rooms create --from-file`, `participants create --from-file` and the
`update --from-file` of both.

Rows are read by `rows`, sent by `sending` and reported by `reporting`. Every row is checked
before the first request: an invalid row is reported with its line number and nothing is sent
(exit 2), unless `skip_invalid`, which sends the valid rows and reports the invalid ones where
they are. The exit code follows the multi-item rule (`vcctl.errors.multi_item_exit_code`),
except that --dry-run exits 2 when any row is invalid.

An update row GETs its resource first and sends only the fields that differ (none: nothing is
sent, the row is reported unchanged), so a file of changes applied twice changes nothing the
second time; `--dry-run` does the GETs and shows each change as `field: old → new`.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vcctl.batch.planning import PlanningTransport, RowPlanner, plan_rows
from vcctl.batch.reporting import Changed, RowReporter
from vcctl.batch.rows import Row, RowSource
from vcctl.batch.sending import send_rows
from vcctl.errors import (
    EXIT_BLOCKED,
    EXIT_USAGE,
    Interrupted,
    MultiItemFailure,
    raise_for_items,
)
from vcctl.halt import held
from vcctl.inventory.keyed_create import create_with_key
from vcctl.inventory.recorder import RecordingApi
from vcctl.output.streams import json_line, stderr_line, warn
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
    # `@KEY` in a row's room_id -> the room's id (exit 2 for the row when it names none)
    room_reference: Callable[[str], str] | None = None


@dataclass(frozen=True)
class Reading:
    """How to read the file: a forced CSV delimiter, CSV columns not to read, and whether the
    valid rows are sent despite invalid ones."""

    delimiter: str | None = None
    ignore_columns: tuple[str, ...] = ()
    skip_invalid: bool = False


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
    reading: Reading = Reading(),
) -> None:
    """Create one resource per row of `source` (see the module docstring). Rows with a key are
    created at most once (see `vcctl.inventory.keyed_create`): running the same file again creates
    only the rows still missing.

    Raises MultiItemFailure when rows failed (its code from the multi-item rule; 2 in --dry-run
    when any row is invalid), and Interrupted (128 + the signal: 130, 143,
    129) when Ctrl-C, SIGTERM or SIGHUP stopped it.
    """
    rows = _open(services, noun, source, defaults, reading, dry_run=dry_run)
    try:
        reporter = RowReporter(noun, json_mode=json_mode, quiet=quiet, dry_run=dry_run, source=rows)
        if dry_run:
            _dry_run(services, noun, rows, reporter, retry_unknown)
        else:
            _check_all(rows, reporter, reading)
            _create(services, noun, rows, reporter, concurrency, retry_unknown)
    finally:
        rows.close()


def update_from_file(
    services: BatchServices,
    noun: Noun,
    source: str,
    *,
    target_reference: Callable[[str], str],
    concurrency: int,
    dry_run: bool,
    json_mode: bool,
    quiet: bool,
    reading: Reading = Reading(),
) -> None:
    """Change the resource each row names (`id`: an id, or an @KEY that `target_reference`
    turns into one) to the row's fields (see the module docstring). Raises like
    `create_from_file`."""
    rows = _open(services, noun, source, {}, reading, dry_run=False, target=target_reference)
    try:
        reporter = RowReporter(noun, json_mode=json_mode, quiet=quiet, dry_run=False, source=rows)
        reporter.planning = dry_run
        _check_all(rows, reporter, reading)
        api = services.api(concurrency)
        limiter = services.limiter()
        reporter.status = limiter.status

        def update(row: Row) -> Any:
            assert row.body is not None
            assert row.target is not None
            return _update_one(api, noun, row.target, row.body, dry_run=dry_run)

        _send(rows, update, reporter, concurrency, limiter)
    finally:
        rows.close()


def _update_one(
    api: Api, noun: Noun, target: str, wanted: dict[str, Any], *, dry_run: bool
) -> Changed:
    current = api.get_room(target) if noun == "rooms" else api.get_participant(target)
    before = current if isinstance(current, dict) else {}
    changes = {
        name: (before.get(name), value)
        for name, value in wanted.items()
        if before.get(name) != value
    }
    if not changes or dry_run:
        return Changed(before, changes, planned=dry_run)
    fields = {name: new for name, (_, new) in changes.items()}
    if noun == "rooms":
        after = api.update_room(target, fields)
    else:
        after = api.update_participant(target, fields)
    return Changed(after if isinstance(after, dict) else before, changes, planned=False)


def _open(
    services: BatchServices,
    noun: Noun,
    source: str,
    defaults: dict[str, Any],
    reading: Reading,
    *,
    dry_run: bool,
    target: Callable[[str], str] | None = None,
) -> RowSource:
    """The input, its header checked (a bad file or header: exit 2, nothing sent)."""
    if source == "-" and sys.stdin.isatty():
        warn("reading JSON Lines from the terminal; end with Ctrl-D")
    return RowSource(
        noun,
        source,
        defaults,
        room_reference=services.room_reference,
        target_reference=target,
        delimiter=reading.delimiter,
        ignore_columns=reading.ignore_columns,
        # Checked whole before sending: standard input is kept to be read a second time.
        spool=not dry_run and not reading.skip_invalid,
    )


def _check_all(rows: RowSource, reporter: RowReporter, reading: Reading) -> None:
    """Every row checked before the first request: any invalid one is reported (by line) and
    nothing is sent, exit 2. With `skip_invalid` the rows are checked as they are sent."""
    if reading.skip_invalid:
        return
    invalid = 0
    for row in rows.rows():
        if row.error is not None:
            invalid += 1
            reporter.failed(row, row.error)
    if invalid:
        message = f"{invalid} invalid row{'s' if invalid > 1 else ''} in {rows.label}"
        if reporter.json_mode:
            stderr_line(json_line({"summary": {"invalid": invalid, "sent": 0}}))
        else:
            stderr_line(
                f"{message}: nothing was sent (fix them, or --skip-invalid to send the others)"
            )
        raise MultiItemFailure(message, exit_code=EXIT_USAGE)
    reporter.tally.failure_codes.clear()
    rows.rewind()


def _dry_run(
    services: BatchServices,
    noun: Noun,
    rows: RowSource,
    reporter: RowReporter,
    retry_unknown: bool,
) -> None:
    if rows.keyed:
        # As a run does: keys need the inventory (exit 2) and the account (no credentials:
        # exit 4), checked before any row is shown.
        recorder = services.recorder()
        recorder.require()
        recorder.account  # noqa: B018 - read for its error
    planner = RowPlanner(
        services.planner(PlanningTransport()),
        noun,
        services.recorder,
        retry_unknown=retry_unknown,
    )
    with reporter:
        plan_rows(rows, planner.plan, reporter)
    reporter.summary()
    tally = reporter.tally
    if tally.failed:
        # Nothing would be sent for the invalid rows: a usage error, whatever the others
        # (else the code a run would give them, as for a key that names no resource).
        code = EXIT_USAGE if EXIT_USAGE in tally.failure_codes else tally.failure_codes[0]
        raise MultiItemFailure(f"{tally.failed} invalid rows", exit_code=code)
    if reporter.foreseen_blocked:
        raise MultiItemFailure(
            f"{reporter.foreseen_blocked} rows blocked by an unknown outcome",
            exit_code=EXIT_BLOCKED,
        )


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

    _send(rows, create, reporter, concurrency, limiter)


def _send(
    rows: RowSource,
    send: Callable[[Row], Any],
    reporter: RowReporter,
    concurrency: int,
    limiter: RateLimiter,
) -> None:
    # A stop signal acts only where the engine waits, until the summary is written: a second
    # one must not cut it off (see vcctl.halt).
    with held():
        with reporter:
            if reporter.drawing:
                limiter.set_notice(None)
            stop = send_rows(rows, send, reporter, concurrency)
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
    succeeded = tally.succeeded + tally.existing + tally.unchanged
    raise_for_items(tally.failure_codes, succeeded=succeeded, what="rows")
