"""Fetch what an apply or an export needs from the API before anything changes.

`fetch_live` GETs each recorded room that matters (on the worker engine, `vcctl.workers`; the
client applies the retry rules), spreads the answers over their participants and GETs one by
one only participants whose room's answer did not list them. A 404 is `GONE`; any other failure
stops the apply before anything changes (`FetchError`); a stop signal ends it (`Interrupted`:
only GETs were sent). `fetch_rooms` GETs the rooms an export names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from vcctl.apply.desired import DesiredStack, StackEntry
from vcctl.apply.plan import GONE, Live, live_from_rooms, rooms_to_fetch
from vcctl.errors import (
    Interrupted,
    InvalidResponseError,
    NotFoundError,
    NotSent,
    VcctlError,
)
from vcctl.workers import Finished, run_in_order

if TYPE_CHECKING:
    from vcctl.http.api import Api


class FetchError(VcctlError):
    """A recorded resource could not be fetched (other than 404): no plan, nothing changed.

    `failures` pairs what was asked for ("room board (id aVZOke)") with its error; the exit code
    is the first one's.
    """

    def __init__(self, failures: Sequence[tuple[str, VcctlError]], *, what: str) -> None:
        self.failures = tuple(failures)
        first = failures[0][1]
        named = "; ".join(f"{subject}: {error.message}" for subject, error in failures)
        super().__init__(
            f"{what}: {named}",
            hint=first.hint,
            status=first.status,
        )
        self.exit_code = first.exit_code


def fetch_live(
    api: Api,
    desired: DesiredStack,
    records: Sequence[StackEntry],
    *,
    prune: bool,
    concurrency: int,
) -> dict[str, Live]:
    """Recorded id -> the API's answer (or GONE) for every record the plan will look at."""
    rooms = rooms_to_fetch(desired, records, prune=prune)
    answers = _get_each(api.get_room, _ids(rooms), concurrency)
    live, participants = live_from_rooms(answers, records)
    live.update(_get_each(api.get_participant, _ids(participants), concurrency))
    return live


def fetch_rooms(api: Api, room_ids: Sequence[str], *, concurrency: int) -> list[dict[str, Any]]:
    """GET each room (404 included, any failure raises FetchError), in the order given."""
    answers = _get_each(
        api.get_room,
        {room_id: f"room {room_id}" for room_id in room_ids},
        concurrency,
        gone_ok=False,
    )
    return [answer for answer in answers.values() if isinstance(answer, dict)]


def _ids(records: Sequence[StackEntry]) -> dict[str, str]:
    return {
        record.id: f"{record.kind} {record.qualified_key} (id {record.id})"
        for record in records
        if record.id
    }


def _get_each(
    get: Callable[[str], Any], subjects: dict[str, str], concurrency: int, *, gone_ok: bool = True
) -> dict[str, Live]:
    """id -> answer for each id of `subjects` (id -> how messages name it); 404 is GONE."""
    if not subjects:
        return {}
    failures: list[tuple[str, VcctlError]] = []
    answers: dict[str, Live] = {}

    def fetch(id: str) -> Live:
        try:
            answer = get(id)
        except NotFoundError:
            if not gone_ok:
                raise
            return GONE
        if not isinstance(answer, dict):
            raise InvalidResponseError("the API's answer is not a JSON object")
        return answer

    def take(done: Finished[str, Live]) -> None:
        if done.error is None:
            assert done.value is not None
            answers[done.item] = done.value
        elif isinstance(done.error, NotSent):
            pass  # the run is stopping: run_in_order says so
        elif isinstance(done.error, VcctlError):
            failures.append((subjects[done.item], done.error))
        else:
            raise done.error

    stop = run_in_order(list(subjects), fetch, take, workers=concurrency, name="vcctl-fetch")
    if stop is not None:
        # Only GETs were sent: nothing changed, nothing to report but the stop.
        raise Interrupted("interrupted while fetching: nothing was changed")
    if failures:
        what = "cannot make the plan, nothing was changed" if gone_ok else "cannot export"
        raise FetchError(failures, what=what)
    return answers
