"""What the rate limiter remembers of recent answers, to tell a window limit from refusals that
do not depend on the rate.

An API that counts requests per window refuses once the window is full: a 429 then means "at
most this many a second", and sending just under that count avoids the next one. An API whose
quota is shared with other clients refuses a share of requests whatever the rate: slowing down
cannot avoid those, and slowing down at each one is a ratchet (each cut lowers the count the
next 429 measures). One 429 looks like the other; the answers around it tell them apart:

- A full window refuses every request sent until an old one leaves it: its 429s come in runs
  (`RUN` requests nearly in a row, in the order they were sent, all refused). Refusals of a
  share come one at a time among successes (5 of 6 in a row, at a share of one in six, is a
  chance of one in 1,500).
- A full window is refused at the count of successes it holds, the same count each time.
  Refusals of a share come whatever the count: while a batch speeds up, the count grows.
- Once a limit has been learned, a 429 for a request sent while the window held as many
  successes as that limit is the window's (the limiter probing above it found the edge again);
  one sent while the window held clearly fewer is not: the API let more through before.

`vcctl.http.limiter` decides with these counts (`RateLimiter._window_was_full`).

Times are the clock times of each request's turn (`acquire()`), not of its answer, so that a
window here is the window the API counted.
"""

from __future__ import annotations

import bisect

WINDOW = 1.0  # seconds: the window over which APIs count requests, and we measure ours
RUN = 5  # refusals nearly in a row (in send order): what a full window does
HORIZON = 30.0  # seconds of send times kept: a run at a slow pace spans many windows


class SendTimes:
    """Clock times kept in order, counted over intervals."""

    def __init__(self) -> None:
        self._times: list[float] = []

    def add(self, at: float) -> None:
        bisect.insort(self._times, at)  # times arrive nearly in order: a short move at most

    def forget_before(self, horizon: float) -> None:
        cut = bisect.bisect_right(self._times, horizon)
        if cut:
            del self._times[:cut]

    def count(self, after: float, upto: float) -> int:
        """How many times fall in (after, upto]."""
        return bisect.bisect_right(self._times, upto) - bisect.bisect_right(self._times, after)

    def nth_last_upto(self, upto: float, n: int) -> float | None:
        """The n-th latest time at or before `upto` (n = 1: the latest); None if fewer."""
        end = bisect.bisect_right(self._times, upto)
        return self._times[end - n] if end >= n else None


class AnswerLog:
    """Send times of recent successes and 429s."""

    def __init__(self) -> None:
        self.successes = SendTimes()
        self.refusals = SendTimes()

    def forget_before(self, now: float) -> None:
        for times in (self.successes, self.refusals):
            times.forget_before(now - HORIZON)

    def in_a_run(self, sent_at: float) -> bool:
        """Whether the 429 for the request sent at `sent_at` ends a run: `RUN` refusals with at
        most one success sent among them (requests sent together may arrive in either order)."""
        first = self.refusals.nth_last_upto(sent_at, RUN)
        return first is not None and self.successes.count(first, sent_at) <= 1

    def window(self, end: float) -> int:
        """Successes sent in the window ending at `end`."""
        return self.successes.count(end - WINDOW, end)
