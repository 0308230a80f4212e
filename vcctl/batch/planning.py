"""A create batch's `--dry-run`: every row checked, and shown as what a run would do with it.

Nothing is sent. The Api runs over a `PlanningTransport`, which answers with the request it was
given, so that what is shown is exactly what `vcctl.http.api` builds (paths with the locale
actually configured). A row with a key is looked up in the inventory the way a run's claim would
see it, without claiming anything: a key that names a recorded resource shows the GET a run
sends instead of a create, a new key the POST, and a key whose earlier create's outcome is
unknown `?` (a run refuses it, exit 11, unless --retry-unknown).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vcctl.batch.reporting import RowReporter
from vcctl.batch.rows import Row, RowSource
from vcctl.errors import VcctlError
from vcctl.inventory.keyed_create import foresee
from vcctl.output.streams import warn

if TYPE_CHECKING:
    from vcctl.http.api import Api
    from vcctl.http.retry import CallKind
    from vcctl.inventory.recorder import Recorder
    from vcctl.resources import Kind, Noun

UNKNOWN = "?"  # the "method" of a row whose outcome a run cannot tell in advance


class PlanningTransport:
    """The Api's transport in --dry-run: answers with the request the Api would send, and
    nothing leaves the machine."""

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


@dataclass(frozen=True)
class Planned:
    """What a run would do with one valid row: the request it would send (`method`, `path`,
    `body`), or `?` with the reason (`problem`); `blocked`: a run refuses the row (exit 11).
    `key` is the row's key, `id` the resource a GET would fetch."""

    method: str
    path: str | None
    body: dict[str, Any] | None
    key: str | None = None
    id: str | None = None
    problem: VcctlError | None = None
    blocked: bool = False

    @classmethod
    def request(cls, request: dict[str, Any], key: str | None, id: str | None = None) -> Planned:
        return cls(request["method"], request["path"], request["body"], key, id)


class RowPlanner:
    """What a run would do with each row: the create for a row without a key; for a keyed row,
    what the inventory says its claim would find."""

    def __init__(
        self,
        planner: Api,
        noun: Noun,
        recorder: Callable[[], Recorder],
        *,
        retry_unknown: bool,
    ) -> None:
        self.planner = planner
        self.noun = noun
        self.kind: Kind = "room" if noun == "rooms" else "participant"
        self.recorder = recorder
        self.retry_unknown = retry_unknown

    def plan(self, row: Row) -> Planned:
        assert row.body is not None
        if row.key is None:
            return Planned.request(self.planner.create(self.noun, row.body), None)
        foreseen = foresee(
            self.recorder(), self.kind, row.body, row.key, retry_unknown=self.retry_unknown
        )
        if foreseen.step == "get":
            assert foreseen.id is not None
            if self.kind == "room":
                fetch = self.planner.get_room(foreseen.id)
            else:
                fetch = self.planner.get_participant(foreseen.id)
            return Planned.request(fetch, row.key, foreseen.id)
        if foreseen.step == "create":
            return Planned.request(self.planner.create(self.noun, row.body), row.key)
        return Planned(
            UNKNOWN,
            None,
            row.body,
            row.key,
            problem=foreseen.problem,
            blocked=foreseen.step == "blocked",
        )


def plan_rows(rows: RowSource, plan: Callable[[Row], Planned], reporter: RowReporter) -> None:
    """--dry-run: report every row as what a run would do with it, or as invalid. A row that
    cannot be planned (its key needs the inventory, which is off) fails as a run's would."""
    count = 0
    for row in rows.rows():
        count += 1
        if row.body is None:
            assert row.error is not None
            reporter.failed(row, row.error)
            continue
        try:
            planned = plan(row)
        except VcctlError as exc:
            reporter.failed(row, exc)
            continue
        reporter.planned(row, planned)
    if not count:
        warn(f"no rows in {rows.label}")
