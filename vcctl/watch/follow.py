"""The refresh loop of `rooms watch`: each room polled on its own clock, failures backed off.

The API has no push channel, so the watch asks for each room (`GET rooms/{id}`, which lists the
participants) every `interval` seconds and compares each answer with the one before.

The loop, not the client, owns the pacing. The first refresh of every room is an ordinary call
(the client's retries, as for any command; a failure ends the command with its exit code: the
watch cannot start). After that each refresh is one attempt, and a room waits `interval` after a
success, what `Retry-After` asks after a 429, and a growing backoff after the other transient
failures (network, 5xx, an answer that is not JSON), keeping its last good data on show, marked
stale. A 404 then means the room was deleted: that room is done, and the loop returns once every
room is. Any other API error ends the loop with that error (raised).

Time is the loop's own: a room is due `wait` seconds after its last refresh *ended*, counted by
the sleeps the loop makes, so that the waits are exact whatever the requests took (and a scripted
`Pace` drives the loop in tests without waiting).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from vcctl.errors import (
    InvalidResponseError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    VcctlError,
)
from vcctl.watch.changes import Failure, WatchState, diff_rooms, participants_of

if TYPE_CHECKING:
    from vcctl.http.api import Api
    from vcctl.resources import Kind

# Backoff after transient failures without Retry-After: interval * 2**failures, capped, jittered.
MAX_BACKOFF = 30.0
TRANSIENT_ERRORS: tuple[type[VcctlError], ...] = (RateLimitedError, ServerError, NetworkError)


@dataclass
class Pace:
    """The watch's clock: injectable, so that tests drive the loop without waiting.

    `sleep` may return the seconds it actually slept when it can be woken early (the live view
    wakes it to refresh a room at once after an action); None means all of them."""

    sleep: Callable[[float], float | None] = time.sleep
    now: Callable[[], datetime] = lambda: datetime.now().astimezone()
    rng: random.Random = field(default_factory=random.Random)


class WatchOutput(Protocol):
    """Where a watch's news goes: JSON Lines or the live view."""

    def started(self, state: WatchState) -> None: ...
    def refreshed(self, state: WatchState, recovered_after: int) -> None: ...
    def failed(self, state: WatchState) -> None: ...
    def deleted(self, state: WatchState) -> None: ...


class Sightings(Protocol):
    """What the watch tells the inventory (vcctl.inventory.recorder.Recorder fits)."""

    def seen(self, kind: Kind, resource: Any) -> None: ...
    def gone(self, kind: Kind, resource_id: str) -> None: ...


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


def first_look(api: Api, room_ids: Sequence[str], interval: float, pace: Pace) -> list[WatchState]:
    """Every room's first answer, in order, with the client's retries: a room that cannot be
    fetched ends the watch before it starts (its error is raised, naming the room when there
    are several)."""
    states = []
    for room_id in room_ids:
        started = time.perf_counter()
        try:
            room = fetch_room(api, room_id)
        except VcctlError as error:
            if len(room_ids) > 1:
                error.message = f"room {room_id}: {error.message}"
            raise
        state = WatchState(room_id, room, pace.now(), interval)
        state.latency = time.perf_counter() - started
        states.append(state)
    return states


@dataclass
class Follower:
    """One room's refreshes: its state, its failures in a row, and when it is due: `wait`
    seconds after `since` on the loop's clock (kept apart, so that a wait is slept exactly)."""

    state: WatchState
    since: float = 0.0
    wait: float = 0.0
    failures: int = 0

    @property
    def done(self) -> bool:
        return self.state.deleted_at is not None

    @property
    def due(self) -> float:
        return self.since + self.wait

    def remaining(self, clock: float) -> float:
        return self.wait - (clock - self.since)

    def schedule(self, clock: float, wait: float) -> None:
        self.since, self.wait = clock, wait


class Refresher:
    """Refreshes every room when it is due until all are deleted (returns) or an API error that
    is not transient (raised). Ctrl-C in the thread that runs it surfaces as KeyboardInterrupt."""

    def __init__(
        self,
        api: Api,
        states: Sequence[WatchState],
        output: WatchOutput,
        pace: Pace,
        sightings: Sightings | None = None,
    ) -> None:
        self.api = api
        self.output = output
        self.pace = pace
        self.sightings = sightings
        self.clock = 0.0
        self.followers = [Follower(state, wait=state.interval) for state in states]
        self._stopped = threading.Event()
        self._soon: set[str | None] = set()  # rooms asked for now (None: all), from any thread
        self._soon_lock = threading.Lock()

    def started(self) -> None:
        """Announce every room's first answer, then record it with its participants."""
        for follower in self.followers:
            self.output.started(follower.state)
        if self.sightings is None:
            return
        for follower in self.followers:
            self.sightings.seen("room", follower.state.room)
            for participant in participants_of(follower.state.room):
                self.sightings.seen("participant", participant)

    def run(self) -> None:
        while not self._stopped.is_set():
            waiting = [f for f in self.followers if not f.done]
            if not waiting:
                return
            self._bring_forward()
            follower = min(waiting, key=lambda f: f.due)  # ties: the order given
            wait = follower.remaining(self.clock)
            if wait > 0:
                slept = self.pace.sleep(wait)
                if slept is None or slept >= wait:
                    follower.schedule(self.clock + wait, 0.0)  # due now, with no float residue
                    self.clock += wait
                else:
                    self.clock += slept
                continue  # woken early, maybe for another room: look again
            if self._stopped.is_set():
                return
            self.refresh(follower)

    def refresh_soon(self, room_id: str | None = None) -> None:
        """Make a room (every room: None) due now, from any thread; the caller wakes the
        sleep. Asked during that room's refresh, it is refreshed again after it."""
        with self._soon_lock:
            self._soon.add(room_id)

    def _bring_forward(self) -> None:
        with self._soon_lock:
            soon, self._soon = self._soon, set()
        for follower in self.followers:
            asked = None in soon or follower.state.room_id in soon
            if asked and follower.remaining(self.clock) > 0:
                follower.schedule(self.clock, 0.0)

    def stop(self) -> None:
        """No refresh starts after this (one under way finishes)."""
        self._stopped.set()

    def refresh(self, follower: Follower) -> None:
        state = follower.state
        started = time.perf_counter()
        try:
            room = fetch_room(self.api, state.room_id)
        except NotFoundError:
            state.deleted_at = self.pace.now()
            state.changes = []
            if self.sightings is not None:
                self.sightings.gone("room", state.room_id)
            self.output.deleted(state)
            return
        except TRANSIENT_ERRORS as error:
            self._failed(follower, error)
            return
        state.latency = time.perf_counter() - started
        state.changes = diff_rooms(state.room, room)
        state.room = room
        state.refreshed_at = self.pace.now()
        state.failure = None
        self.output.refreshed(state, follower.failures)
        self._record(state)  # after the news: the view does not wait for the inventory
        follower.failures = 0
        follower.schedule(self.clock, state.interval)

    def _failed(self, follower: Follower, error: VcctlError) -> None:
        state = follower.state
        follower.failures += 1
        now = self.pace.now()
        retry_after = error.retry_after if isinstance(error, RateLimitedError) else None
        wait = refresh_delay(state.interval, follower.failures, retry_after, self.pace.rng)
        since = state.failure.since if state.failure is not None else now
        state.changes = []
        state.failure = Failure(
            since=since,
            count=follower.failures,
            message=error.message,
            wait=wait,
            next_try=now + timedelta(seconds=wait),
            retry_after=retry_after is not None,
        )
        self.output.failed(state)
        follower.schedule(self.clock, wait)

    def _record(self, state: WatchState) -> None:
        """What changed goes to the inventory (the whole room was recorded on the first look)."""
        if self.sightings is None:
            return
        for change in state.changes:
            if change.kind in ("joined", "changed"):
                self.sightings.seen("participant", change.subject)
            elif change.kind == "room_changed":
                self.sightings.seen("room", change.subject)
