"""What the console sends when a key asks: one event per action, through the watch's ordinary Api
(the client's retries, the run's rate limiter), on a thread of its own so that the view never
waits for the API; each outcome comes back to the view, which shows it and carries on."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vcctl.errors import VcctlError

if TYPE_CHECKING:
    from vcctl.http.api import Api


@dataclass(frozen=True)
class Action:
    """One event to send: the API's own event name, its room and participant (None for
    mute-all), and what it does in words, for the event log."""

    event: str
    room_id: str
    participant_id: str | None
    what: str
    participant_key: str | None = None  # the row it was asked from (its pending mark)


@dataclass(frozen=True)
class Outcome:
    action: Action
    error: str | None  # None: the API carried it out
    seconds: float


class ActionSender:
    """Sends actions one at a time, in the order asked, on a daemon thread: `submit` returns at
    once, `deliver` gets each Outcome (from the sender's thread). After `stop` nothing more is
    sent; a request under way is abandoned with the thread when the process ends."""

    def __init__(self, api: Api, deliver: Callable[[Outcome], None]) -> None:
        self._api = api
        self._deliver = deliver
        self._queue: queue.SimpleQueue[Action | None] = queue.SimpleQueue()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watch-actions", daemon=True)
        self._thread.start()

    def submit(self, action: Action) -> None:
        self._queue.put(action)

    def stop(self) -> None:
        self._stopped.set()
        self._queue.put(None)

    def _run(self) -> None:
        while (action := self._queue.get()) is not None:
            if self._stopped.is_set():
                return
            self._deliver(send(self._api, action))


def send(api: Api, action: Action) -> Outcome:
    """Send one action; any failure is its outcome (never raised: it must not end the view)."""
    started = time.perf_counter()
    try:
        api.send_event(action.event, action.room_id, action.participant_id)
    except VcctlError as error:
        return Outcome(action, error.message, time.perf_counter() - started)
    except Exception as error:  # a bug must not end the meeting's console either: show it
        message = f"internal error (a bug in vcctl): {type(error).__name__}: {error}"
        return Outcome(action, message, time.perf_counter() - started)
    return Outcome(action, None, time.perf_counter() - started)
