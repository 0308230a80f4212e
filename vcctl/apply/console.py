"""What `vcctl apply` shows: the plan on stdout, progress and failures on stderr, the summary.

Text: the plan as a diff (coloured by rich on a terminal, plain otherwise), a progress bar on
stderr while it runs (a terminal only), each failure named on stderr, then the summary line on
stdout. `--json`: JSON Lines on stdout, one object per action (unchanged ones first, then each
change as it finishes; with --dry-run every planned action), failures and the summary as JSON
lines on stderr.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING

from vcctl.apply.execute import Outcome, Result
from vcctl.apply.plan import Action, Plan
from vcctl.apply.render import plain_plan, rich_plan, summary_line
from vcctl.errors import BlockedError, VcctlError
from vcctl.output import streams, views
from vcctl.text import printable

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from vcctl.apply.state import StackState


class ApplyConsole:
    def __init__(self, *, json_mode: bool) -> None:
        self.json_mode = json_mode
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._done = 0

    # -- the plan

    def plan(self, plan: Plan, *, dry_run: bool) -> None:
        """The plan before anything changes (with --json: only in a dry run, and the unchanged
        resources before a real run, whose changes are reported as they finish)."""
        if self.json_mode:
            for action in plan.actions:
                if dry_run or action.action == "unchanged":
                    streams.print_json_line(action.to_json())
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

    def summary(self, result: Result | None, plan: Plan) -> None:
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
