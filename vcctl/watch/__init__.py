"""`vcctl rooms watch`: follow a meeting by polling its room, as a live view or JSON Lines.

The API has no push channel, so the watch asks for the room (`GET rooms/{id}`, which lists the
participants) every `interval` seconds and compares each answer with the one before.

The loop, not the client, owns the pacing. The first refresh is an ordinary call (the client
retries as for any command, and a failure ends the command with its exit code: the watch cannot
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
from typing import TYPE_CHECKING, Any, Protocol

from vcctl.errors import (
    InvalidResponseError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    Stopped,
    VcctlError,
)
from vcctl.watch.changes import (
    Failure,
    WatchState,
    change_line,
    deleted_line,
    diff_rooms,
    snapshot_line,
    timestamp,
)
from vcctl.watch.view import render_view

if TYPE_CHECKING:
    from rich.console import RenderableType

    from vcctl.http.api import Api

# Backoff after transient failures without Retry-After: interval * 2**failures, capped, jittered.
MAX_BACKOFF = 30.0


class WatchOutput(Protocol):
    """Where a watch's news goes: JSON Lines or the live view."""

    def started(self, state: WatchState) -> None: ...
    def refreshed(self, state: WatchState, recovered_after: int) -> None: ...
    def failed(self, state: WatchState) -> None: ...
    def deleted(self, state: WatchState) -> None: ...


class JsonLinesOutput:
    """One compact JSON object per line on stdout, flushed at once; failures on stderr."""

    def started(self, state: WatchState) -> None:
        from vcctl.output.streams import print_json_line

        print_json_line(snapshot_line(state))

    def refreshed(self, state: WatchState, recovered_after: int) -> None:
        from vcctl.output.streams import print_json_line, warn

        if recovered_after:
            warn(f"room {state.room_id}: refreshed again after {recovered_after} failed attempt(s)")
        for change in state.changes:
            print_json_line(change_line(state.room_id, change, state.refreshed_at))

    def failed(self, state: WatchState) -> None:
        from vcctl.output.streams import warn

        failure = state.failure
        assert failure is not None
        how = ", as the API asks (Retry-After)" if failure.retry_after else ""
        warn(
            f"room {state.room_id}: refresh failed: {failure.message}; data stale since "
            f"{timestamp(failure.since)}; next try in {failure.wait:.1f} s{how}"
        )

    def deleted(self, state: WatchState) -> None:
        from vcctl.output.streams import print_json_line

        assert state.deleted_at is not None
        print_json_line(deleted_line(state, state.deleted_at))


class LiveOutput:
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


def refresh_delay(
    interval: float, failures: int, retry_after: float | None, rng: random.Random
) -> float:
    """Seconds to wait before the next refresh after `failures` consecutive failures."""
    if retry_after is not None:
        return max(interval, retry_after)
    ceiling = min(MAX_BACKOFF, interval * 2**failures)
    return max(interval, rng.uniform(ceiling / 2, ceiling))


def follow(
    api: Api,
    state: WatchState,
    output: WatchOutput,
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
            output.deleted(state)
            return
        except TRANSIENT_ERRORS as error:
            failures += 1
            now = pace.now()
            retry_after = error.retry_after if isinstance(error, RateLimitedError) else None
            wait = refresh_delay(state.interval, failures, retry_after, pace.rng)
            since = state.failure.since if state.failure is not None else now
            state.failure = Failure(
                since=since,
                count=failures,
                message=error.message,
                wait=wait,
                next_try=now + timedelta(seconds=wait),
                retry_after=retry_after is not None,
            )
            output.failed(state)
            continue
        state.changes = diff_rooms(state.room, room)
        state.room = room
        state.refreshed_at = pace.now()
        state.failure = None
        output.refreshed(state, failures)
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
    first_api: Api,
    refresh_api: Api,
    room_id: str,
    *,
    interval: float,
    json_mode: bool,
    pace: Pace | None = None,
) -> None:
    """Run the watch until Ctrl-C, SIGTERM or the room's deletion (all normal ends).

    The first refresh goes through `first_api`, an ordinary Api with the client's retries: if it
    fails, the watch cannot start and the command ends with that failure's exit code. After it
    the loop owns the pacing, so `refresh_api` should make one attempt per call, 429s included.
    """
    from vcctl.output import streams

    pace = pace or Pace()
    try:
        with _sigterm_as_interrupt():
            first = fetch_room(first_api, room_id)
            state = WatchState(room_id, first, pace.now(), interval)
            # NO_COLOR keeps the live view, without colour: it asks for no colour, not JSON.
            live = not json_mode and streams.is_terminal()
            with _live_output() if live else nullcontext(JsonLinesOutput()) as output:
                output.started(state)
                follow(refresh_api, state, output, pace)
    except KeyboardInterrupt as stop:
        if isinstance(stop, Stopped) and stop.signum != signal.SIGTERM:
            raise  # a hang-up is not the user ending the watch: exit 129
        return


@contextmanager
def _live_output() -> Iterator[WatchOutput]:
    from rich.live import Live

    from vcctl.output.streams import rich_console

    with Live(
        console=rich_console(),
        auto_refresh=False,  # redrawn after each refresh, not on a timer
        redirect_stderr=True,  # --debug lines go above the view instead of through it
        redirect_stdout=False,
    ) as live:

        def update(renderable: RenderableType) -> None:
            live.update(renderable, refresh=True)

        yield LiveOutput(update)
