"""`vcctl rooms watch`: follow meetings as a live console on a terminal, or as JSON Lines.

The pieces: `follow` (the refresh loop: one GET per room per interval, failures backed off),
`changes` (what differs between two answers; the JSON Lines shapes), `jsonlines` (the output off
a terminal), and the console: `console` (its state and keys), `rows` (what it lists and how it
sorts), `screen` and `layout` (drawing), `story` (the event log's words), `actions` (events sent
by key), `keys` and `terminal` (raw keys, the alternate screen, giving the terminal back), `live`
(the session that runs them).

Off a terminal, with --json or TERM=dumb: JSON Lines on stdout (NO_COLOR keeps the console,
without colour). On a terminal: the console, with keys when standard input is a terminal too
(actions unless read-only).

Ending: Ctrl-C and SIGTERM end the watch normally (it returns); so does the deletion of every
room watched. SIGHUP ends it as a hang-up (`Interrupted`, exit 129). An API error that is not
transient ends it with that error; a failed first look at any room means it cannot start.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING

from vcctl.errors import Interrupted, Stopped
from vcctl.watch.follow import Pace, Refresher, Sightings, first_look, refresh_delay

if TYPE_CHECKING:
    from vcctl.http.api import Api
    from vcctl.watch.changes import WatchState

__all__ = ["Pace", "WatchApis", "refresh_delay", "watch_room", "watch_rooms"]


@dataclass(frozen=True)
class WatchApis:
    """The two Apis a watch uses.

    `calls`: an ordinary Api (the client's retries, the run's rate limiter), for each room's
    first look and for the actions sent by key. `refresh`: one attempt per call and no rate
    limiter waits, for the refreshes, which the loop paces itself."""

    calls: Api
    refresh: Api


class _HungUp(Exception):
    pass


def watch_rooms(
    apis: WatchApis,
    room_ids: Sequence[str],
    *,
    interval: float,
    json_mode: bool,
    sort: str = "on",
    read_only: bool = False,
    sightings: Sightings | None = None,
    pace: Pace | None = None,
) -> None:
    """Watch the rooms until Ctrl-C, SIGTERM or every room's deletion (all normal ends)."""
    from vcctl.output import streams
    from vcctl.watch.live import HungUp

    pace = pace or Pace()
    room_ids = list(dict.fromkeys(room_ids))  # a room given twice is watched once
    try:
        with _own_signals():
            states = first_look(apis.calls, room_ids, interval, pace)
            # NO_COLOR keeps the live view, without colour: it asks for no colour, not JSON.
            if json_mode or not streams.is_terminal():
                _json_lines(apis.refresh, states, pace, sightings)
                return
            from vcctl.watch.live import run_console

            keys = _keys_from_stdin()
            ended = run_console(
                states,
                refresh_api=apis.refresh,
                calls_api=apis.calls,
                sightings=sightings,
                sort=sort,
                read_only=read_only or not keys,  # no keyboard: no one to confirm an action
                keys=keys,
                pace=pace,
            )
    except KeyboardInterrupt:
        return
    except (HungUp, _HungUp):
        raise Interrupted("stopped by signal 1 (hang-up)", exit_code=128 + signal.SIGHUP) from None
    if ended.deleted:
        for state in states:
            streams.notice_on_terminal(f"room {state.room_id} was deleted: the watch ended")


def watch_room(
    first_api: Api,
    refresh_api: Api,
    room_id: str,
    *,
    interval: float,
    json_mode: bool,
    pace: Pace | None = None,
) -> None:
    """One room (see `watch_rooms`): `first_api` is the ordinary Api, `refresh_api` the one
    making one attempt per call."""
    watch_rooms(
        WatchApis(first_api, refresh_api),
        [room_id],
        interval=interval,
        json_mode=json_mode,
        pace=pace,
    )


def _json_lines(
    api: Api, states: list[WatchState], pace: Pace, sightings: Sightings | None
) -> None:
    from vcctl.watch.jsonlines import JsonLinesOutput

    refresher = Refresher(api, states, JsonLinesOutput(), pace, sightings)
    refresher.started()
    refresher.run()


def _keys_from_stdin() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def _own_signals() -> Iterator[None]:
    """SIGTERM ends the watch the way Ctrl-C does (normally); SIGHUP as a hang-up. Whatever
    handlers the rest of vcctl installs, these are the watch's rules (restored after)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise Stopped(signum)  # a KeyboardInterrupt, never a bare one: see Stopped

    def hang_up(signum: int, frame: FrameType | None) -> None:
        raise _HungUp

    previous: dict[int, object] = {}
    try:
        previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, interrupt)
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, hang_up)
    except ValueError:  # not the main thread: leave signals alone
        pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
