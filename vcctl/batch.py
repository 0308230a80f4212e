"""Batch creation from a file: `rooms create --from-file` and `participants create --from-file`.

Rows are streamed from the file (memory stays flat whatever its length), checked with the same
rules as the single-row command (vcctl.validate), sent by a bounded pool of workers that share
one keep-alive connection pool, and reported in input order. A bad row is reported with its line
number and does not stop the others; the exit code says whether all, some or none succeeded.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import stat
import sys
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from types import FrameType, TracebackType
from typing import IO, TYPE_CHECKING, Any, Literal

import typer

from vcctl import output, validate
from vcctl.client import Client
from vcctl.errors import EXIT_PARTIAL, EXIT_USAGE, Interrupted, UsageError, VcctlError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from vcctl.api import Api
    from vcctl.app import AppState

Noun = Literal["rooms", "participants"]
Format = Literal["csv", "jsonl"]

# The API's field names, in the order they are sent; they are also the CSV columns and JSON keys.
FIELDS: dict[Noun, tuple[str, ...]] = {
    "rooms": ("name", "color"),
    "participants": ("room_id", "username", "language", "video_and_audio_on"),
}
REQUIRED: dict[Noun, tuple[str, ...]] = {
    "rooms": ("name",),
    "participants": ("room_id", "username"),
}
BOOLEAN_FIELDS = frozenset({"video_and_audio_on"})
CSV_TRUE = frozenset({"true", "1", "yes"})
CSV_FALSE = frozenset({"false", "0", "no"})
EXTENSIONS: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
SINGULAR: dict[Noun, str] = {"rooms": "room", "participants": "participant"}
# Rows read ahead of the oldest unreported one, per worker: enough to keep every worker busy
# while the head of the line waits, small enough that memory does not grow with the file.
WINDOW_PER_WORKER = 4
# Bytes that were not UTF-8, kept by errors="surrogateescape" so that the row can be named.


# -- reading rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One input row: the body to send, or why it cannot be sent."""

    line: int
    body: dict[str, Any] | None = None
    error: UsageError | None = None


class RowSource:
    """The input file, opened and (for CSV) its header checked; rows are read on demand."""

    def __init__(self, noun: Noun, source: str, defaults: dict[str, Any]) -> None:
        self.noun = noun
        self.defaults = defaults
        self.label = "standard input" if source == "-" else source
        self.format, self._binary, self.size = _open_binary(source)
        self._owned = source != "-"
        # JSON Lines end at "\n" only (so line numbers match editors); csv wants newline="".
        self._text = io.TextIOWrapper(
            self._binary,
            encoding="utf-8-sig",
            errors="surrogateescape",
            newline="" if self.format == "csv" else "\n",
        )
        self._consumed = 0
        self._columns: list[str] = []
        self._csv: Any = None
        try:
            if self.format == "csv":
                self._read_header()
        except BaseException:
            self.close()
            raise

    def position(self) -> int | None:
        """Bytes of the file read so far, for the progress bar (None when the size is unknown)."""
        return None if self.size is None else self._consumed

    def rows(self) -> Iterator[Row]:
        records = self._csv_records() if self.format == "csv" else self._jsonl_records()
        for line, record in records:
            if isinstance(record, UsageError):
                yield Row(line, error=record)
                continue
            try:
                yield Row(line, body=row_body(self.noun, record, self.defaults))
            except UsageError as exc:
                yield Row(line, error=exc)

    def close(self) -> None:
        if self._owned:
            self._text.close()
        else:
            # Standard input belongs to the process: let go of it without closing it.
            with contextlib.suppress(ValueError):
                self._text.detach()

    def _lines(self) -> Iterator[str]:
        for text in self._text:
            self._consumed += len(text.encode("utf-8", "surrogateescape"))
            yield text

    # -- CSV

    def _read_header(self) -> None:
        self._csv = csv.reader(self._lines())
        try:
            header = next(self._csv)
        except StopIteration:
            raise UsageError(
                f"{self.label} is empty: expected a header row of {_columns(self.noun)}"
            ) from None
        except csv.Error as exc:
            raise UsageError(f"{self.label}: line 1: not valid CSV: {exc}") from None
        self._columns = [name.strip() for name in header]
        problem = _header_problem(self.noun, self._columns, self.defaults)
        if problem:
            raise UsageError(
                f"{self.label}: line 1: {problem}",
                hint=f"the header row names the API's fields: {_columns(self.noun)}",
            )

    def _csv_records(self) -> Iterator[tuple[int, dict[str, Any] | UsageError]]:
        reader = self._csv
        previous = reader.line_num
        while True:
            try:
                cells: list[str] = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield previous + 1, UsageError(f"not valid CSV: {exc}")
                if reader.line_num == previous:
                    return  # the reader cannot get past it
                previous = reader.line_num
                continue
            line, previous = previous + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, or a spreadsheet's empty row
            if len(cells) != len(self._columns):
                yield (
                    line,
                    UsageError(
                        f"{len(cells)} cells, but the header has {len(self._columns)} columns"
                    ),
                )
                continue
            try:
                yield line, _csv_record(self._columns, cells)
            except UsageError as exc:
                yield line, exc

    # -- JSON Lines

    def _jsonl_records(self) -> Iterator[tuple[int, dict[str, Any] | UsageError]]:
        for line, text in enumerate(self._lines(), start=1):
            if not text.strip():
                continue
            try:
                yield line, _jsonl_record(self.noun, text)
            except UsageError as exc:
                yield line, exc


def _open_binary(source: str) -> tuple[Format, IO[bytes], int | None]:
    """(format, binary stream, size in bytes if known); UsageError when it cannot be used."""
    if source == "-":
        return "jsonl", sys.stdin.buffer, None
    extension = os.path.splitext(source)[1].lower()
    file_format = EXTENSIONS.get(extension)
    if file_format is None:
        raise UsageError(
            f"cannot tell the format of {source!r} from its name",
            hint="use a .csv, .jsonl or .ndjson file, or - for JSON Lines on standard input",
        )
    try:
        handle = open(source, "rb")  # noqa: SIM115 - closed by RowSource.close
    except OSError as exc:
        raise UsageError(f"cannot open {source}: {exc.strerror or exc}") from None
    status = os.fstat(handle.fileno())
    size = status.st_size if stat.S_ISREG(status.st_mode) else None
    return file_format, handle, size


def _columns(noun: Noun) -> str:
    return ",".join(FIELDS[noun])


def _header_problem(noun: Noun, columns: list[str], defaults: dict[str, Any]) -> str | None:
    known = FIELDS[noun]
    unknown = [name for name in columns if name not in known]
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        return f"unknown column{'s' if len(unknown) > 1 else ''} {names} for {noun}"
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        return f"column {', '.join(repr(name) for name in repeated)} appears more than once"
    missing = [name for name in REQUIRED[noun] if name not in columns and name not in defaults]
    if missing:
        extra = " (or give --room)" if "room_id" in missing else ""
        return f"no {' or '.join(repr(name) for name in missing)} column{extra}"
    return None


def _csv_record(columns: list[str], cells: list[str]) -> dict[str, Any]:
    """A CSV row as API fields: an empty cell is a field not given; booleans are words."""
    record: dict[str, Any] = {}
    for name, cell in zip(columns, cells, strict=True):
        validate.text(cell, name)
        if cell == "":
            continue
        record[name] = _csv_boolean(name, cell) if name in BOOLEAN_FIELDS else cell
    return record


def _csv_boolean(name: str, cell: str) -> bool:
    word = cell.strip().lower()
    if word in CSV_TRUE:
        return True
    if word in CSV_FALSE:
        return False
    raise UsageError(f"invalid {name} {cell!r}: expected true/false, 1/0 or yes/no")


def _jsonl_record(noun: Noun, text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        reason = getattr(exc, "msg", str(exc))
        column = getattr(exc, "colno", None)
        raise UsageError(
            f"not valid JSON: {reason}" + (f" (column {column})" if column else "")
        ) from None
    if not isinstance(data, dict):
        raise UsageError(f"expected a JSON object, not {_json_type(data)}")
    known = FIELDS[noun]
    unknown = [str(key) for key in data if key not in known]
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        raise UsageError(
            f"unknown field{'s' if len(unknown) > 1 else ''} {names} for {noun} "
            f"(known: {', '.join(known)})"
        )
    record: dict[str, Any] = {}
    for name, value in data.items():
        if value is None:
            continue  # like an empty CSV cell: not given
        expected = bool if name in BOOLEAN_FIELDS else str
        if not isinstance(value, expected):
            wanted = "true or false" if expected is bool else "a string"
            raise UsageError(f"{name} must be {wanted}, not {_json_type(value)}")
        if isinstance(value, str):
            validate.text(value, name)
        record[name] = value
    return record


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        int: "a number",
        float: "a number",
    }.get(type(value), "null")


def row_body(noun: Noun, record: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """The create body for one row, checked by the single-row command's rules.

    For participants, the command-line defaults (--room, --language, --[no-]video-and-audio)
    fill the fields a row leaves out; a row's own value wins.
    """
    if noun == "rooms":
        given = validate.room_fields(
            name_value=record.get("name"),
            color_value=record.get("color"),
            labels=validate.FIELD_LABELS,
        )
    else:
        given = validate.participant_fields(
            room_id=record.get("room_id"),
            username=record.get("username"),
            language_value=record.get("language"),
            video_and_audio_on=record.get("video_and_audio_on"),
            labels=validate.FIELD_LABELS,
        )
    merged = {**defaults, **given}
    missing = [name for name in REQUIRED[noun] if name not in merged]
    if missing:
        raise UsageError(f"missing {' and '.join(missing)}")
    return {name: merged[name] for name in FIELDS[noun] if name in merged}


# -- reporting ----------------------------------------------------------------------------------


@dataclass
class Tally:
    succeeded: int = 0
    failed: int = 0
    not_sent: int = 0
    failure_codes: Counter[int] = field(default_factory=Counter)

    def fail(self, code: int) -> None:
        self.failed += 1
        self.failure_codes[code] += 1

    def exit_code(self) -> int:
        """0 all succeeded; 10 some failed; the failures' own code when none succeeded."""
        if not self.failed:
            return 0
        if self.succeeded:
            return EXIT_PARTIAL
        # Several kinds of failure: the most frequent one says most about the batch.
        return self.failure_codes.most_common(1)[0][0]


class Reporter:
    """Prints each row's outcome in input order, the progress bar and the summary."""

    def __init__(
        self, noun: Noun, *, json_mode: bool, quiet: bool, dry_run: bool, source: RowSource
    ) -> None:
        self.noun = noun
        self.json_mode = json_mode
        self.quiet = quiet
        self.dry_run = dry_run
        self.source = source
        self.tally = Tally()
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        # While the bar is drawn on a terminal, rich owns sys.stdout if it is that terminal too.
        self._stdout_through_rich = False
        self._hints_shown: set[str | None] = set()

    # -- progress bar

    def __enter__(self) -> Reporter:
        if output.use_rich(sys.stderr):
            self._start_progress()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._stdout_through_rich = False

    def _start_progress(self) -> None:
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        stdout_is_terminal = output.use_rich(sys.stdout)
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=output.rich_console(stderr=True),
            transient=True,
            redirect_stdout=stdout_is_terminal,
            redirect_stderr=True,
        )
        self._task = self._progress.add_task(self._description(), total=self.source.size)
        self._progress.start()
        self._stdout_through_rich = stdout_is_terminal

    def _description(self) -> str:
        tally = self.tally
        if self.dry_run:
            return f"{self.noun}: {tally.succeeded} valid, {tally.failed} invalid"
        return f"{self.noun}: {tally.succeeded} created, {tally.failed} failed"

    def _advance(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(
                self._task, completed=self.source.position() or 0, description=self._description()
            )

    # -- one row

    def created(self, row: Row, resource: Any) -> None:
        self.tally.succeeded += 1
        if self.quiet:
            resource_id = resource.get("id", "") if isinstance(resource, dict) else ""
            self._out(f"{resource_id}\n")
        elif self.json_mode:
            self._out(output.json_line(resource) + "\n")
        else:
            self._out(f"line {row.line}: created {self._describe(resource)}\n")
        self._advance()

    def planned(self, row: Row, request: dict[str, Any]) -> None:
        self.tally.succeeded += 1
        if self.quiet:
            pass  # validation only: the exit code tells
        elif self.json_mode:
            self._out(output.json_line({"line": row.line, **request}) + "\n")
        else:
            body = output.json_line(request["body"])
            self._out(f"line {row.line}: {request['method']} {request['path']} {body}\n")
        self._advance()

    def failed(self, row: Row, error: VcctlError) -> None:
        self.tally.fail(error.exit_code)
        if self.json_mode:
            payload = error.to_json()
            payload["error"]["line"] = row.line
            output.stderr_line(output.json_line(payload))
        else:
            if error.hint in self._hints_shown:
                error = VcctlError(error.message)  # the same hint on every row is noise
            else:
                self._hints_shown.add(error.hint)
            output.print_error(error, json_mode=False, subject=f"line {row.line}")
        self._advance()

    def summary(self, *, interrupted: bool = False) -> None:
        tally = self.tally
        if self.dry_run:
            counts = {"valid": tally.succeeded, "invalid": tally.failed}
        else:
            counts = {"created": tally.succeeded, "failed": tally.failed}
        if interrupted:
            counts["not sent"] = tally.not_sent
        if self.json_mode:
            # With --json everything on stderr is a JSON line, so that a script can parse it.
            output.stderr_line(
                output.json_line({"summary": {k.replace(" ", "_"): v for k, v in counts.items()}})
            )
        else:
            output.stderr_line(", ".join(f"{key} {value}" for key, value in counts.items()))

    def _describe(self, resource: Any) -> str:
        noun = SINGULAR[self.noun]
        if not isinstance(resource, dict):
            return f"{noun} {output.json_line(resource)}"
        label = resource.get("name" if self.noun == "rooms" else "username")
        return f"{noun} {resource.get('id', '?')}" + (f" ({label})" if label else "")

    def _out(self, text: str) -> None:
        if self._stdout_through_rich:
            sys.stdout.write(text)  # rich's proxy prints it above the bar
            sys.stdout.flush()
        else:
            output.write_stdout(text)


# -- running ------------------------------------------------------------------------------------


class _PlanningClient(Client):
    """Stands in for the HTTP client in --dry-run: answers with the request the Api would send,
    so that what is shown is exactly what vcctl.api builds, and nothing leaves the machine."""

    def __init__(self) -> None:  # no session, no credentials
        pass

    def request(
        self, method: str, path: str, *, body: Any = None, kind: Any = None, empty_ok: bool = False
    ) -> Any:
        return {"method": method, "path": path, "body": body}


def _creator(api: Api, noun: Noun) -> Callable[[dict[str, Any]], Any]:
    return api.create_room if noun == "rooms" else api.create_participant


def create_from_file(
    app_state: AppState,
    noun: Literal["rooms", "participants"],
    source: str,
    *,
    defaults: dict[str, Any],
    concurrency: int,
    dry_run: bool,
    json_mode: bool,
    quiet: bool,
) -> None:
    """Create one resource per row of `source` (see the module docstring).

    Raises typer.Exit(10) when some rows failed, typer.Exit(code) with the failures' own code when
    all did (2 in --dry-run when any row is invalid), and Interrupted (130) on Ctrl-C.
    """
    rows = RowSource(noun, source, defaults)  # a bad file or header: exit 2, nothing sent
    try:
        if source == "-" and sys.stdin.isatty():
            output.warn("reading JSON Lines from the terminal; end with Ctrl-D")
        reporter = Reporter(noun, json_mode=json_mode, quiet=quiet, dry_run=dry_run, source=rows)
        if dry_run:
            _dry_run(app_state, noun, rows, reporter)
        else:
            _create(app_state, noun, rows, reporter, concurrency)
    finally:
        rows.close()


def _dry_run(app_state: AppState, noun: Noun, rows: RowSource, reporter: Reporter) -> None:
    from vcctl.api import Api

    planner = Api(_PlanningClient(), app_state.settings().locale.value)
    with reporter:
        _plan(rows, _creator(planner, noun), reporter)
    reporter.summary()
    if reporter.tally.failed:
        raise typer.Exit(EXIT_USAGE)  # nothing would be sent for the invalid rows


def _create(
    app_state: AppState, noun: Noun, rows: RowSource, reporter: Reporter, concurrency: int
) -> None:
    # One Client, so one requests.Session whose connection pool (sized to the workers) they
    # share; workers only send through it and never change its state. No credentials: exit 4.
    api = app_state.api(pool_size=concurrency)
    with reporter:
        interrupted = _send(rows, _creator(api, noun), reporter, concurrency)
    reporter.summary(interrupted=interrupted)
    if interrupted:
        raise Interrupted(
            f"interrupted before the end of {rows.label}: the rows not reported were not sent"
        )
    code = reporter.tally.exit_code()
    if code:
        raise typer.Exit(code)


def _plan(rows: RowSource, plan: Callable[[dict[str, Any]], Any], reporter: Reporter) -> None:
    count = 0
    for row in rows.rows():
        count += 1
        if row.body is None:
            assert row.error is not None
            reporter.failed(row, row.error)
        else:
            reporter.planned(row, plan(row.body))
    if not count:
        output.warn(f"no rows in {rows.label}")


Pending = tuple[Row, "Future[Any] | None"]


class _CtrlC:
    """Holds a Ctrl-C that arrives while a row is being reported until that report is whole,
    so that every row sent is reported exactly once; anywhere else Ctrl-C acts at once."""

    def __init__(self) -> None:
        self._reporting = False
        self._held = False
        self._previous: Any = None

    def __enter__(self) -> _CtrlC:
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


def _send(
    rows: RowSource,
    create: Callable[[dict[str, Any]], Any],
    reporter: Reporter,
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
        with _CtrlC() as ctrl_c:
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
        output.warn(f"no rows in {rows.label}")
    return False


def _is_done(future: Future[Any] | None) -> bool:
    return future is None or future.done()


def _report_head(pending: deque[Pending], reporter: Reporter, ctrl_c: _CtrlC) -> None:
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


def _drain_after_interrupt(pending: deque[Pending], reporter: Reporter, ctrl_c: _CtrlC) -> None:
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
