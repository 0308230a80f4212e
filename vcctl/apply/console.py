"""What `vcctl apply` shows: the plan on stdout, progress and failures on stderr, the summary.

Text: a dry run prints the plan as a diff (coloured by rich on a terminal, plain otherwise) and
its summary. A real run prints the same lines as the actions finish, in the plan's order (a line
as soon as it and every line before it are done), each create's line ending with the new id, so
that a CI log names everything the run created; a progress bar on stderr while it runs (a
terminal only), each failure named on stderr, then the summary line on stdout. A run that asks
before deleting prints the plan first, for the question. `--json`: JSON Lines on stdout, one
object per action (unchanged ones first, then each change as it finishes; with --dry-run every
planned action), failures and the summary as JSON lines on stderr.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING

from vcctl.apply.execute import Outcome, Result
from vcctl.apply.plan import Action, Plan
from vcctl.apply.render import STYLES, outcome_line, plain_plan, rich_plan, summary_line
from vcctl.errors import BlockedError, VcctlError
from vcctl.output import streams, views
from vcctl.text import printable

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from vcctl.apply.state import StackState


class ApplyConsole:
    def __init__(self, *, json_mode: bool) -> None:
        self.json_mode = json_mode
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._done = 0
        # A real run's report in text: the plan's lines, each printed once it and those before
        # it are over (`_flush`), with what became of it.
        self._listed: tuple[Action, ...] = ()
        self._reported = 0
        self._outcomes: dict[tuple[str, str | None, str], Outcome] = {}
        self._stdout: Console | None = None

    # -- the plan

    def plan(self, plan: Plan, *, dry_run: bool, asks: bool = False) -> None:
        """The plan before anything changes (with --json: only in a dry run, and the unchanged
        resources before a real run, whose changes are reported as they finish). In text, a
        real run shows it only when it `asks` (before deletes); its lines come as they finish."""
        if self.json_mode:
            for action in plan.actions:
                if dry_run or action.action == "unchanged":
                    streams.print_json_line(action.to_json())
            return
        if not dry_run:
            self._listed = plan.listed
            self._flush()  # the blocked keys, which never run
            if not asks:
                return
        if streams.use_rich(sys.stdout):
            streams.rich_console().print(rich_plan(plan, summary=False), end="")
        else:
            streams.write_stdout(plain_plan(plan, summary=False))
        if dry_run:
            line = summary_line(plan.counts())
            self._summary_line(f"{line} (dry run: nothing was changed)" if plan.changes else line)

    # -- progress while it runs

    def __enter__(self) -> ApplyConsole:
        return self

    def start(self, total: int) -> None:
        if total and streams.use_rich(sys.stderr):
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

            self._progress = Progress(
                TextColumn("applying"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.description}"),
                console=streams.rich_console(stderr=True),
                transient=True,
                redirect_stdout=streams.use_rich(sys.stdout),
                redirect_stderr=True,
            )
            self._task = self._progress.add_task("", total=total)
            self._progress.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def finished(self, outcome: Outcome) -> None:
        """One action is over: its JSON line, or its failure on stderr; the bar moves on."""
        action = outcome.action
        self._outcomes[_ident(action)] = outcome
        if outcome.error is not None:
            self.failure(action, outcome.error, unknown=outcome.unknown)
        else:
            if self.json_mode:
                streams.print_json_line(action.to_json())
            if outcome.warning is not None:
                streams.warn(outcome.warning)
            if outcome.existing:
                streams.notice_on_terminal(
                    f"{action.kind} {action.qualified_key}: created meanwhile by another vcctl "
                    f"as {action.id}; nothing sent"
                )
        self._flush()
        self._done += 1
        if self._progress is not None and self._task is not None:
            self._progress.update(
                self._task, completed=self._done, description=printable(action.key)
            )

    def stopping(self, signum: int | None, under_way: int) -> None:
        """A stop signal came: what vcctl still waits for, and how to stop waiting."""
        views.stopping(signum, under_way, json_mode=self.json_mode)

    def failure(self, action: Action, error: VcctlError, *, unknown: bool) -> None:
        subject = f"{action.action} {action.kind} {action.qualified_key}"
        if unknown:
            code = error.exit_code
            error = VcctlError(
                f"{error.message}; its outcome is unknown, so the key is blocked",
                hint="check whether it was created, then run apply again with --retry-unknown",
                status=error.status,
            )
            error.exit_code = code
        if self.json_mode:
            payload = error.to_json()
            payload["error"]["item"] = action.qualified_key
            payload["error"]["action"] = action.action
            payload["error"]["kind"] = action.kind
            streams.stderr_line(streams.json_error_line(payload))
        else:
            streams.print_error(error, json_mode=False, subject=subject)

    def blocked(self, plan: Plan, state: StackState, *, dry_run: bool) -> None:
        """Each key the plan refuses, with the command that frees exactly it."""
        for action in plan.blocked:
            if action.since is None:
                continue  # a blocked room's participant: its room's line says it
            what = "would not be sent" if dry_run else "not sent"
            error = BlockedError(
                f"{what}: an earlier create's outcome is unknown (since {action.since})",
                hint="check whether it was created, then "
                f"{state.how_to_free(action.kind, action.key, action.room_key)}; or apply with "
                "--retry-unknown to create it anyway",
            )
            self.failure(action, error, unknown=False)

    # -- the end

    def _flush(self, *, end: bool = False) -> None:
        """Print the run's lines that are over, in the plan's order (`end`: every line left,
        those a stop left unsent marked so)."""
        if self.json_mode:
            return
        while self._reported < len(self._listed):
            planned = self._listed[self._reported]
            outcome = self._outcomes.get(_ident(planned))
            if outcome is None and planned.action != "blocked" and not end:
                return
            self._reported += 1
            line = _outcome_line(planned, outcome)
            if streams.use_rich(sys.stdout):
                from rich.text import Text

                if self._stdout is None:  # it finds sys.stdout when it prints (a bar's proxy)
                    self._stdout = streams.rich_console()
                self._stdout.print(Text(line, style=STYLES[planned.action]))
            else:
                streams.write_stdout(line + "\n")

    def summary(self, result: Result | None, plan: Plan) -> None:
        self._flush(end=True)
        if result is not None and result.warning is not None:
            streams.warn(result.warning)
        counts = result.counts() if result is not None else plan.counts()
        not_sent = result.not_sent if result is not None else 0
        if self.json_mode:
            figures = {
                "created": counts.created,
                "updated": counts.updated,
                "deleted": counts.deleted,
                "unchanged": counts.unchanged,
                "failed": counts.failed,
            }
            if not_sent:
                figures["not_sent"] = not_sent
            if counts.blocked:
                figures["blocked"] = counts.blocked
            streams.stderr_line(streams.json_line({"summary": figures}))
            return
        self._summary_line(summary_line(counts) + (f", {not_sent} not sent" if not_sent else ""))

    def _summary_line(self, line: str) -> None:
        if streams.use_rich(sys.stdout):
            streams.rich_console().print(line, style="bold", markup=False)
        else:
            streams.write_stdout(line + "\n")


def _ident(action: Action) -> tuple[str, str | None, str]:
    """What names an action's resource in its plan (a create keeps it once it has an id)."""
    return (action.kind, action.room_key, action.key)


def _outcome_line(planned: Action, outcome: Outcome | None) -> str:
    """A planned action's line with what became of it."""
    if planned.action == "blocked":
        return outcome_line(planned)
    if outcome is None:
        return outcome_line(planned, note="not sent")
    if outcome.error is not None:
        if outcome.unknown:
            return outcome_line(planned, note="outcome unknown")
        return outcome_line(planned, note="not sent" if outcome.skipped else "failed")
    id = outcome.action.id if planned.action == "create" else None
    note = "created meanwhile by another vcctl" if outcome.existing else None
    return outcome_line(planned, id=id, note=note)
