"""Batch reporting: each row's outcome in input order, the progress bar, the summary, the tally.

Results go to stdout (ids with -q, JSON Lines with --json, a line per row otherwise); failures
and the summary go to stderr. The progress bar is drawn only when stderr is a terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from vcctl.batch.rows import Row, RowSource
from vcctl.errors import VcctlError, multi_item_exit_code
from vcctl.output import streams, views
from vcctl.resources import RESOURCES, Noun
from vcctl.text import printable

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from vcctl.batch.planning import Planned


class Changed(dict[str, Any]):
    """An update row's outcome: the resource (as after the update) and its changes, each field's
    (old, new); no changes: nothing was sent. `planned`: --dry-run, nothing sent at all."""

    def __init__(
        self, resource: dict[str, Any], changes: dict[str, tuple[Any, Any]], *, planned: bool
    ) -> None:
        super().__init__(resource)
        self.changes = changes
        self.planned = planned


def change_text(changes: dict[str, tuple[Any, Any]]) -> str:
    """`name: "Old" → "New", color: ...`, values as JSON (so a space or "" shows)."""
    return ", ".join(
        f"{name}: {streams.json_line(old)} \u2192 {streams.json_line(new)}"
        for name, (old, new) in changes.items()
    )


@dataclass
class Tally:
    """How the rows went, failures' exit codes in input order (rows are reported in order)."""

    succeeded: int = 0  # created (updated, for updates; valid, in --dry-run)
    existing: int = 0  # keyed rows whose key already named a resource: nothing created
    unchanged: int = 0  # update rows whose resource already held the values
    failure_codes: list[int] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failure_codes)

    def fail(self, code: int) -> None:
        self.failure_codes.append(code)

    def exit_code(self) -> int:
        """The multi-item rule (`errors.multi_item_exit_code`) applied to the rows."""
        succeeded = self.succeeded + self.existing + self.unchanged
        return multi_item_exit_code(self.failure_codes, succeeded=succeeded)


@dataclass
class StopReport:
    """How a stopped batch ended: which signal, which lines were never sent, and the rows
    whose request was sent but whose answer vcctl stopped waiting for."""

    signum: int
    first_unsent_line: int
    last_line: int | None  # None when the input's end is unknown (standard input)
    outcome_unknown: list[Row] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def unsent_lines(self) -> str | None:
        """`lines 73-201`, `line 9`, `lines 12 onwards`; None when every line was sent."""
        first, last = self.first_unsent_line, self.last_line
        if last is None:
            return f"lines {first} onwards"
        if first > last:
            return None
        return f"line {first}" if first == last else f"lines {first}-{last}"


class RowReporter:
    """Prints each row's outcome in input order, the progress bar and the summary."""

    def __init__(
        self, noun: Noun, *, json_mode: bool, quiet: bool, dry_run: bool, source: RowSource
    ) -> None:
        self.noun = noun
        self.json_mode = json_mode
        self.quiet = quiet
        self.dry_run = dry_run
        self.source = source
        self.updating = source.updating
        self.planning = False  # an update --dry-run: GETs only
        self.tally = Tally()
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        # While the bar is drawn on a terminal, rich owns sys.stdout if it is that terminal too.
        self._stdout_through_rich = False
        self._hints_shown: set[str | None] = set()
        # --dry-run of keyed rows: what a run would do, counted (POST, GET, ?)
        self.foreseen = {"would_create": 0, "existing": 0, "unknown": 0}
        self.foreseen_blocked = 0  # of the unknown: those a run would refuse (exit 11)
        self.keyed = False
        # One line of what slows the batch down (the rate limiter's pause), shown in the bar.
        self.status: Callable[[], str | None] | None = None

    @property
    def drawing(self) -> bool:
        """Whether the progress bar is on screen (it shows `status`, not notice lines)."""
        return self._progress is not None

    # -- progress bar

    def __enter__(self) -> RowReporter:
        if streams.use_rich(sys.stderr):
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

        stdout_is_terminal = streams.use_rich(sys.stdout)
        status = self.status
        columns = [
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
        ]
        if status is not None:
            columns.append(_status_column(status))
        self._progress = Progress(
            *columns,
            console=streams.rich_console(stderr=True),
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
        if self.updating:
            return f"{self.noun}: {tally.succeeded} updated, {tally.failed} failed"
        return (
            f"{self.noun}: {tally.succeeded} created, {tally.existing} existing, "
            f"{tally.failed} failed"
        )

    def _advance(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(
                self._task, completed=self.source.position() or 0, description=self._description()
            )

    # -- one row

    def created(self, row: Row, resource: Any) -> None:
        from vcctl.inventory.keyed_create import Existing, Unrecorded

        if isinstance(resource, Changed):
            self._changed(row, resource)
            return
        if isinstance(resource, Existing):
            self.tally.existing += 1
            self._differs(row, resource)
        else:
            self.tally.succeeded += 1
        if isinstance(resource, Unrecorded):
            self.warning(row, resource.problem)
        if self.quiet:
            resource_id = resource.get("id", "") if isinstance(resource, dict) else ""
            self._out(f"{printable(str(resource_id))}\n")
        elif self.json_mode:
            self._out(streams.json_result_line(resource))
        else:
            done = "exists:" if isinstance(resource, Existing) else "created"
            self._out(f"line {row.line}: {done} {self._describe(resource)}\n")
        self._advance()

    def _differs(self, row: Row, resource: dict[str, Any]) -> None:
        """The warning a single `--key` create gives when the resource its key names holds
        other values than the row asks for (nothing is changed)."""
        from vcctl.inventory.keyed_create import differences

        changed = differences(row.body or {}, resource)
        if changed:
            kind = RESOURCES[self.noun].singular
            self.warning(
                row,
                f"key {row.key!r}: the existing {kind} {resource.get('id', '?')} differs from "
                f"what was asked in {', '.join(changed)} (not changed)",
            )

    def where(self, row: Row) -> str:
        """How messages on stderr name a row: `rooms.csv: line 3`."""
        return f"{self.source.label}: line {row.line}"

    def warning(self, row: Row, message: str) -> None:
        """A row's warning on stderr: a `vcctl: warning:` line, or a JSON line with --json."""
        if self.json_mode:
            payload = {"warning": {"file": self.source.name, "line": row.line, "message": message}}
            streams.stderr_line(streams.json_error_line(payload))
        else:
            streams.warn(f"{self.where(row)}: {message}")

    def _changed(self, row: Row, outcome: Changed) -> None:
        if outcome.changes:
            self.tally.succeeded += 1
        else:
            self.tally.unchanged += 1
        if self.quiet:
            self._out(f"{outcome.get('id', '')}\n")
        elif self.json_mode:
            changes = {name: list(pair) for name, pair in outcome.changes.items()}
            record = {"line": row.line, "id": outcome.get("id"), "changes": changes}
            self._out(streams.json_line({**record, "resource": dict(outcome)}) + "\n")
        elif not outcome.changes:
            self._out(f"line {row.line}: unchanged {self._describe(outcome)}\n")
        else:
            done = "would update" if outcome.planned else "updated"
            text = printable(change_text(outcome.changes))
            self._out(f"line {row.line}: {done} {self._describe(outcome)}: {text}\n")
        self._advance()

    def planned(self, row: Row, planned: Planned) -> None:
        """--dry-run: the request a run would send for a valid row (a keyed row: the GET of
        what its key names, or `?` when a run cannot tell)."""
        self.tally.succeeded += 1
        self.keyed = self.keyed or planned.key is not None
        counted = {"POST": "would_create", "GET": "existing"}.get(planned.method, "unknown")
        self.foreseen[counted] += 1
        if self.quiet:
            pass  # validation only: the exit code tells
        elif self.json_mode:
            shown: dict[str, Any] = {"line": row.line, "method": planned.method}
            shown.update(path=planned.path, body=planned.body)
            if planned.key is not None:
                shown["key"] = planned.key
            if planned.id is not None:
                shown["id"] = planned.id
            if planned.problem is not None:
                shown["message"] = planned.problem.message
            self._out(streams.json_result_line(shown))
        elif planned.problem is not None:
            self._out(
                printable(f"line {row.line}: {planned.method} {planned.problem.message}") + "\n"
            )
        elif planned.method == "GET":
            kind = RESOURCES[self.noun].singular
            line = (
                f"line {row.line}: GET {planned.path} (key {planned.key!r}: {kind} {planned.id} "
                "exists, nothing created)"
            )
            self._out(printable(line) + "\n")
        else:
            body = streams.json_line(planned.body)
            self._out(f"line {row.line}: {planned.method} {planned.path} {body}\n")
        if planned.blocked and planned.problem is not None:
            self.foreseen_blocked += 1
            self._error(row, planned.problem)  # with the command that frees the key
        self._advance()

    def failed(self, row: Row, error: VcctlError) -> None:
        self.tally.fail(error.exit_code)
        self._error(row, error)
        self._advance()

    def _error(self, row: Row, error: VcctlError) -> None:
        if self.json_mode:
            payload = error.to_json()
            payload["error"]["file"] = self.source.name
            payload["error"]["line"] = row.line
            streams.stderr_line(streams.json_error_line(payload))
        else:
            if error.hint in self._hints_shown:
                error = VcctlError(error.message)  # the same hint on every row is noise
            else:
                self._hints_shown.add(error.hint)
            streams.print_error(error, json_mode=False, subject=self.where(row))

    def stopping(self, signum: int | None, under_way: int) -> None:
        """A stop signal came: say what vcctl waits for, and how to stop waiting."""
        views.stopping(signum, under_way, json_mode=self.json_mode)

    def outcome_unknown(self, row: Row) -> None:
        """A row whose request was sent, but whose answer vcctl stopped waiting for."""
        error = VcctlError(
            "outcome unknown: sent, but vcctl stopped waiting for the answer",
            hint="check whether it was created before sending this line again",
        )
        if self.json_mode:
            payload = error.to_json()
            payload["error"]["file"] = self.source.name
            payload["error"]["line"] = row.line
            payload["error"]["outcome_unknown"] = True
            streams.stderr_line(streams.json_error_line(payload))
        else:
            streams.print_error(error, json_mode=False, subject=self.where(row))

    def summary(self, stop: StopReport | None = None) -> None:
        """The counts on stderr; after a stop, which lines were not sent and which rows'
        outcome is unknown."""
        tally = self.tally
        counts: dict[str, Any]
        if self.dry_run:
            counts = {"valid": tally.succeeded, "invalid": tally.failed}
            if self.keyed:
                counts.update(self.foreseen)
        elif self.updating:
            updated = "would update" if self.planning else "updated"
            counts = {updated: tally.succeeded, "unchanged": tally.unchanged}
            counts["failed"] = tally.failed
        else:
            counts = {
                "created": tally.succeeded,
                "existing": tally.existing,
                "failed": tally.failed,
            }
        unsent = stop.unsent_lines if stop is not None else None
        unknown = [row.line for row in stop.outcome_unknown] if stop is not None else []
        if self.json_mode:
            # With --json everything on stderr is a JSON line, so that a script can parse it.
            if stop is not None:
                counts["not_sent"] = None
                if unsent is not None:
                    counts["not_sent"] = {
                        "first_line": stop.first_unsent_line,
                        "last_line": stop.last_line,
                    }
                counts["outcome_unknown_lines"] = unknown
            streams.stderr_line(streams.json_line({"summary": counts}))
            return
        parts = [f"{key.replace('_', ' ')} {value}" for key, value in counts.items()]
        if stop is not None:
            parts.append(f"not sent {unsent or 'none'}")
        if unknown:
            parts.append(f"outcome unknown {_line_list(unknown)}")
        streams.stderr_line(", ".join(parts))

    def _describe(self, resource: Any) -> str:
        kind = RESOURCES[self.noun]
        if not isinstance(resource, dict):
            return f"{kind.singular} {printable(streams.json_line(resource))}"
        label = resource.get(kind.label_field)
        text = f"{resource.get('id', '?')}" + (f" ({label})" if label else "")
        return f"{kind.singular} {printable(text)}"

    def _out(self, text: str) -> None:
        if self._stdout_through_rich:
            sys.stdout.write(text)  # rich's proxy prints it above the bar
            sys.stdout.flush()
        else:
            streams.write_stdout(text)


def _line_list(lines: Sequence[int]) -> str:
    return ("line " if len(lines) == 1 else "lines ") + ", ".join(str(n) for n in lines)


def _status_column(status: Callable[[], str | None]) -> Any:
    """A progress column showing `status()`, read at every refresh (so a pause shows while no
    row completes)."""
    from rich.progress import ProgressColumn, Task
    from rich.text import Text

    class StatusColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(printable(status() or ""), style="yellow")

    return StatusColumn()
