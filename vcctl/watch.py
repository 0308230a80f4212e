"""`vcctl rooms watch`: follow a meeting by polling its room, as a live view or JSON Lines.

The API has no push channel, so the watch asks for the room (`GET rooms/{id}`, which lists the
participants) every `interval` seconds and compares each answer with the one before.

The loop, not the client, owns the pacing. The first refresh is an ordinary call (the client
retries as contract §6 says, and a failure ends the command with its exit code: the watch cannot
start). After that the client makes one attempt per refresh, and the loop waits `interval` after
a success, what `Retry-After` asks after a 429, and a growing backoff after the other transient
failures (network, 5xx, an answer that is not JSON), keeping the last good data on show, marked
stale. A 404 then means the room was deleted: that ends the watch normally. Any other API error
ends it with that error's exit code. Ctrl-C and SIGTERM end it normally (exit 0).
"""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal, Protocol

from vcctl.client import Client, client_for
from vcctl.errors import (
    InvalidResponseError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    VcctlError,
)

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

    from vcctl.api import Api
    from vcctl.settings import Settings

# Backoff after transient failures without Retry-After: interval * 2**failures, capped, jittered.
MAX_BACKOFF = 30.0

ChangeKind = Literal["joined", "left", "changed", "room_changed"]


# -- what changed ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One difference between two answers: a participant that joined, left or changed, or the
    room's own fields (name, colour) that changed."""

    kind: ChangeKind
    subject: dict[str, Any]  # the participant (the last seen, for "left"), or the room
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # name -> (old, new)

    @property
    def key(self) -> str:
        return participant_key(self.subject)


def participants_of(room: dict[str, Any]) -> list[dict[str, Any]]:
    value = room.get("participants")
    if not isinstance(value, list):
        return []
    return [p for p in value if isinstance(p, dict)]


def participant_key(participant: dict[str, Any]) -> str:
    participant_id = participant.get("id")
    return str(participant_id) if participant_id is not None else repr(sorted(participant.items()))


def room_fields(room: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in room.items() if key != "participants"}


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Fields whose value differs; a field missing on one side counts as None there."""
    names = list(new) + [name for name in old if name not in new]
    return {
        name: (old.get(name), new.get(name)) for name in names if old.get(name) != new.get(name)
    }


def diff_rooms(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """What changed between two answers for the same room, in the order the lines are printed:
    the room's own fields, then joined/changed in the room's order, then left in the old order."""
    changes: list[Change] = []
    room_changes = field_changes(room_fields(before), room_fields(after))
    if room_changes:
        changes.append(Change("room_changed", room_fields(after), room_changes))
    previous = {participant_key(p): p for p in participants_of(before)}
    current_keys = set()
    for participant in participants_of(after):
        key = participant_key(participant)
        current_keys.add(key)
        old = previous.get(key)
        if old is None:
            changes.append(Change("joined", participant))
        else:
            fields = field_changes(old, participant)
            if fields:
                changes.append(Change("changed", participant, fields))
    for key, participant in previous.items():
        if key not in current_keys:
            changes.append(Change("left", participant))
    return changes


# -- the state of a watch -------------------------------------------------------------------------


@dataclass
class Failure:
    """Consecutive failed refreshes: the data on show is stale."""

    since: datetime
    count: int
    message: str
    wait: float  # seconds until the next try
    next_try: datetime
    retry_after: bool  # the wait is what the API's Retry-After asked for


@dataclass
class WatchState:
    room_id: str
    room: dict[str, Any]  # the last good answer
    refreshed_at: datetime
    interval: float
    changes: list[Change] = field(default_factory=list)  # found by the last good refresh
    failure: Failure | None = None
    deleted_at: datetime | None = None


# -- JSON Lines ---------------------------------------------------------------------------------


def timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def snapshot_line(state: WatchState) -> dict[str, Any]:
    return {
        "event": "snapshot",
        "room_id": state.room_id,
        "room": state.room,
        "at": timestamp(state.refreshed_at),
    }


def change_line(room_id: str, change: Change, at: datetime) -> dict[str, Any]:
    line: dict[str, Any] = {"event": change.kind, "room_id": room_id}
    line["room" if change.kind == "room_changed" else "participant"] = change.subject
    if change.fields:
        line["changes"] = {name: [old, new] for name, (old, new) in change.fields.items()}
    line["at"] = timestamp(at)
    return line


def deleted_line(state: WatchState, at: datetime) -> dict[str, Any]:
    return {"event": "room_deleted", "room_id": state.room_id, "at": timestamp(at)}


# -- the live view --------------------------------------------------------------------------------

MARKS: dict[str, tuple[str, str]] = {  # change kind -> (mark in the first column, its style)
    "joined": ("+", "bold green"),
    "changed": ("~", "bold yellow"),
    "left": ("-", "dim"),
}


def render_view(state: WatchState) -> RenderableType:
    """The whole live view, from the state alone (no clock, no I/O): testable with a recording
    Console."""
    from rich.console import Group

    return Group(_header(state), _participants_table(state))


def _header(state: WatchState) -> RenderableType:
    from rich.panel import Panel
    from rich.text import Text

    from vcctl.output import cell_text, safe_style

    room = state.room
    color = room.get("color")
    count = len(participants_of(room))
    title = Text()
    if isinstance(color, str):
        title.append("■ ", style=safe_style(color) or None)
    name_style = "bold yellow" if "name" in _room_changes(state) else "bold"
    # cell_text escapes control characters: a name chosen by others cannot drive the terminal.
    title.append(cell_text(room.get("name", "")), style=name_style)
    title.append(f"  {cell_text(state.room_id)}", style="dim")
    title.append(f"  {count} participant{'' if count == 1 else 's'}")
    return Panel(
        Text("\n").join([title, _status_line(state)]),
        title="vcctl rooms watch",
        title_align="left",
        subtitle="Ctrl-C to leave",
        subtitle_align="right",
    )


def _status_line(state: WatchState) -> Text:
    from rich.text import Text

    from vcctl.output import cell_text

    clock = "%H:%M:%S"
    if state.deleted_at is not None:
        return Text(f"room deleted (seen at {state.deleted_at:{clock}})", style="bold red")
    failure = state.failure
    if failure is None:
        return Text(
            f"refreshed {state.refreshed_at:{clock}} · every {state.interval:g} s", style="green"
        )
    how = "backing off as the API asks" if failure.retry_after else "backing off"
    return Text(
        f"stale since {failure.since:{clock}} ({failure.count} failed refresh"
        f"{'' if failure.count == 1 else 'es'}): {cell_text(failure.message)}\n"
        f"{how}: next try at {failure.next_try:{clock}}",
        style="yellow",
    )


def _room_changes(state: WatchState) -> dict[str, tuple[Any, Any]]:
    for change in state.changes:
        if change.kind == "room_changed":
            return change.fields
    return {}


def _participants_table(state: WatchState) -> RenderableType:
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold", expand=False)
    table.add_column("", width=1, no_wrap=True)  # the change mark
    for label in ("ID", "USERNAME", "LANGUAGE", "VIDEO/AUDIO", "JOINED"):
        table.add_column(label, no_wrap=label != "USERNAME")
    by_key = {change.key: change for change in state.changes if change.kind != "room_changed"}
    for participant in participants_of(state.room):
        change = by_key.get(participant_key(participant))
        cells = _participant_cells(participant, state)
        if change is None:
            table.add_row(Text(""), *cells)
            continue
        mark, style = MARKS[change.kind]
        for index, name in enumerate(_CELL_FIELDS):
            if name in change.fields:
                cells[index].stylize("reverse")
        table.add_row(
            Text(mark, style=style), *cells, style="bold" if change.kind == "joined" else None
        )
    for change in state.changes:
        if change.kind == "left":
            mark, style = MARKS["left"]
            table.add_row(
                Text(mark, style=style),
                *_participant_cells(change.subject, state),
                style="dim strike",
            )
    if not participants_of(state.room) and not any(c.kind == "left" for c in state.changes):
        table.caption = "no participants"
    return table


_CELL_FIELDS = ("id", "username", "language", "video_and_audio_on", "created_at")


def _participant_cells(participant: dict[str, Any], state: WatchState) -> list[Text]:
    from rich.text import Text

    from vcctl.output import cell_text

    cells: list[Text] = []
    for name in _CELL_FIELDS:
        value = participant.get(name)
        if name == "video_and_audio_on" and isinstance(value, bool):
            cells.append(Text("on", style="green") if value else Text("off", style="red"))
        elif name == "created_at":
            cells.append(Text(joined_time(value, state.refreshed_at)))
        else:
            cells.append(Text(cell_text(value)))
    return cells


def joined_time(value: Any, now: datetime) -> str:
    """The API's created_at in local time: the time alone when it is today's."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return "" if value is None else str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(now.tzinfo)
    if moment.date() == now.date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M")


# -- where the results go -------------------------------------------------------------------------


class Reporter(Protocol):
    def started(self, state: WatchState) -> None: ...
    def refreshed(self, state: WatchState, recovered_after: int) -> None: ...
    def failed(self, state: WatchState) -> None: ...
    def deleted(self, state: WatchState) -> None: ...


class JsonLinesReporter:
    """One compact JSON object per line on stdout, flushed at once; failures on stderr."""

    def started(self, state: WatchState) -> None:
        from vcctl.output import print_json_line

        print_json_line(snapshot_line(state))

    def refreshed(self, state: WatchState, recovered_after: int) -> None:
        from vcctl.output import print_json_line, warn

        if recovered_after:
            warn(f"room {state.room_id}: refreshed again after {recovered_after} failed attempt(s)")
        for change in state.changes:
            print_json_line(change_line(state.room_id, change, state.refreshed_at))

    def failed(self, state: WatchState) -> None:
        from vcctl.output import warn

        failure = state.failure
        assert failure is not None
        how = ", as the API asks (Retry-After)" if failure.retry_after else ""
        warn(
            f"room {state.room_id}: refresh failed: {failure.message}; data stale since "
            f"{timestamp(failure.since)}; next try in {failure.wait:.1f} s{how}"
        )

    def deleted(self, state: WatchState) -> None:
        from vcctl.output import print_json_line

        assert state.deleted_at is not None
        print_json_line(deleted_line(state, state.deleted_at))


class LiveReporter:
    """Redraws the rich live view after every refresh, good or failed."""

    def __init__(self, update: Callable[[RenderableType], None]) -> None:
        self._update = update

    def _draw(self, state: WatchState) -> None:
        self._update(render_view(state))

    def started(self, state: WatchState) -> None:
        self._draw(state)

    def refreshed(self, state: WatchState, recovered_after: int) -> None:
        self._draw(state)

    def failed(self, state: WatchState) -> None:
        self._draw(state)

    def deleted(self, state: WatchState) -> None:
        self._draw(state)


# -- the loop -------------------------------------------------------------------------------------


@dataclass
class Pace:
    """The watch's clock: injectable, so that tests drive the loop without waiting."""

    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = lambda: datetime.now().astimezone()
    rng: random.Random = field(default_factory=random.Random)


TRANSIENT_ERRORS: tuple[type[VcctlError], ...] = (RateLimitedError, ServerError, NetworkError)


def fetch_room(api: Api, room_id: str) -> dict[str, Any]:
    room = api.get_room(room_id)
    if not isinstance(room, dict):
        raise InvalidResponseError("the API's answer for the room is not a JSON object")
    return room


def backoff(interval: float, failures: int, retry_after: float | None, rng: random.Random) -> float:
    """Seconds to wait before the next refresh after `failures` consecutive failures."""
    if retry_after is not None:
        return max(interval, retry_after)
    ceiling = min(MAX_BACKOFF, interval * 2**failures)
    return max(interval, rng.uniform(ceiling / 2, ceiling))


def follow(
    api: Api,
    client: Client,
    state: WatchState,
    reporter: Reporter,
    pace: Pace,
) -> None:
    """Refresh until the room is deleted (returns) or an API error that is not transient
    (raises it). Ctrl-C surfaces as KeyboardInterrupt, for the caller to end on."""
    wait = state.interval
    failures = 0
    while True:
        pace.sleep(wait)
        try:
            room = fetch_room(api, state.room_id)
        except NotFoundError:
            state.deleted_at = pace.now()
            reporter.deleted(state)
            return
        except TRANSIENT_ERRORS as error:
            failures += 1
            now = pace.now()
            retry_after = error.retry_after if isinstance(error, RateLimitedError) else None
            wait = backoff(state.interval, failures, retry_after, pace.rng)
            since = state.failure.since if state.failure is not None else now
            state.failure = Failure(
                since=since,
                count=failures,
                message=error.message,
                wait=wait,
                next_try=now + timedelta(seconds=wait),
                retry_after=retry_after is not None,
            )
            reporter.failed(state)
            continue
        state.changes = diff_rooms(state.room, room)
        state.room = room
        state.refreshed_at = pace.now()
        state.failure = None
        reporter.refreshed(state, failures)
        failures = 0
        wait = state.interval


# -- the command ----------------------------------------------------------------------------------


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM ends the watch the way Ctrl-C does: cleanly, the terminal restored."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def watch_room(
    settings: Settings,
    room_id: str,
    *,
    interval: float,
    json_mode: bool,
    pace: Pace | None = None,
) -> None:
    """Run the watch until Ctrl-C, SIGTERM or the room's deletion (all normal ends)."""
    from vcctl import output
    from vcctl.api import Api

    pace = pace or Pace()
    client = client_for(settings, pool_size=1)
    api = Api(client, settings.locale.value)
    try:
        with _sigterm_as_interrupt():
            # The first refresh is an ordinary call, retried by the client: if it fails, the
            # watch cannot start and the command ends with that failure's exit code.
            state = WatchState(room_id, fetch_room(api, room_id), pace.now(), interval)
            client.max_attempts = 1
            live = not json_mode and output.use_rich()
            with _live_reporter() if live else nullcontext(JsonLinesReporter()) as reporter:
                reporter.started(state)
                follow(api, client, state, reporter, pace)
    except KeyboardInterrupt:
        return
    finally:
        client.close()


@contextmanager
def _live_reporter() -> Iterator[Reporter]:
    from rich.live import Live

    from vcctl.output import rich_console

    with Live(
        console=rich_console(),
        auto_refresh=False,  # redrawn after each refresh, not on a timer
        redirect_stderr=True,  # --debug lines go above the view instead of through it
        redirect_stdout=False,
    ) as live:

        def update(renderable: RenderableType) -> None:
            live.update(renderable, refresh=True)

        yield LiveReporter(update)
