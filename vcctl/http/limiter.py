"""The one rate limiter a vcctl process shares between every worker that sends API requests.

Every attempt asks `acquire()` first and reports its answer: `on_success()` for any answer
that is not 429 (a 404 or a 500 was let through by the API's rate limit too), and
`on_rate_limited(retry_after, sent_at=...)` for a 429.

How it paces:

- Until the API pushes back it sends as fast as the workers ask (or at most `cap` requests per
  second when the user gave one: a token bucket holding a single token, so never a burst above
  the cap).
- A 429 pauses every worker until its Retry-After has passed (exponential backoff with jitter
  when the header is absent). The limiter then counts the answers that got through during the
  second before the 429 — what the API's window allowed — and resumes just under that
  (`SETTLE`), spaced evenly. APIs count requests per window, so that count is the limit: halving
  blindly would crawl, and bursting again would meet the next 429 at once.
- It holds that learned rate for `HOLD_SECONDS` while answers succeed, then adds `PROBE_STEP` of
  it per second (additive increase) in case the limit has risen; the next 429 measures again.
  429s for requests sent before the pause began do not lower the rate a second time.
- A request keeps being retried on 429 while its own total wait stays within
  `RATE_LIMIT_BUDGET` seconds: see `WaitBudget`.

Clock, sleep and randomness are injectable, so that tests need no real waiting.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable

from vcctl.halt import Halt, process_halt
from vcctl.http.answer_log import HORIZON, WINDOW, AnswerLog

SETTLE = 0.95  # after a 429, send at this share of what the window let through
HOLD_SECONDS = 15.0  # keep the learned rate this long before probing above it
PROBE_STEP = 0.02  # then add this share of the learned rate per second of success
UNTHROTTLE_FACTOR = 2.0  # this far above the learned rate, the API no longer limits us
FALLBACK_RATE = 1.0  # requests/s after a 429 when nothing got through in the last window
MIN_RATE = 0.1  # never slower than one request every 10 s
GROWTH = 4 / 3  # a window count at a 429 this much above the last one's: not a full window
BACKOFF_BASE = 1.0  # seconds of pause for a 429 without Retry-After, doubled each time
BACKOFF_CAP = 30.0
PAUSE_CAP = 30.0  # the longest single pause, whatever Retry-After says
RATE_LIMIT_BUDGET = 120.0  # seconds one request may spend waiting on 429s before it fails
NOTICE_AFTER = 1.0  # pauses at least this long are worth a notice line on a terminal

Clock = Callable[[], float]
Sleep = Callable[[float], None]
Notice = Callable[[str], None]


class RateLimiterClosed(Exception):
    """`acquire()` was waiting when the limiter was closed (the command is stopping)."""


class WaitBudget:
    """How long one request may keep waiting on 429s: `RATE_LIMIT_BUDGET` seconds in all,
    counted from its first 429."""

    def __init__(self, clock: Clock, total: float = RATE_LIMIT_BUDGET) -> None:
        self._clock = clock
        self.total = total
        self._started: float | None = None

    def allows(self, pause: float) -> bool:
        """Whether the request may retry after waiting `pause` more seconds. Call once per 429,
        with what `on_rate_limited` returned."""
        now = self._clock()
        if self._started is None:
            self._started = now
        return (now - self._started) + pause <= self.total

    @property
    def spent(self) -> float:
        """Seconds since this request's first 429 (0 before it)."""
        return 0.0 if self._started is None else self._clock() - self._started


class RateLimiter:
    """Thread-safe pacing shared by all workers of a process; see the module docstring."""

    def __init__(
        self,
        cap: float | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
        notice: Notice | None = None,
        wait_budget: float = RATE_LIMIT_BUDGET,
        halt: Halt | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self.wait_budget = wait_budget  # seconds each request may wait on 429s: see budget()
        # Closed by close(), or when `halt` (the run's, see vcctl.halt) is tripped by a signal.
        self._closed = Halt(halt)
        self._clock = clock
        # By default waits end early when the limiter is closed (Ctrl-C during a long pause).
        self._sleep: Sleep = sleep or self._wait_unless_closed
        self._rng = rng or random.Random()
        self._notice = notice
        self._cap = _check_rate(cap)
        self._rate: float | None = None  # learned from 429s; None until the API pushes back
        self._learned: float | None = None  # what the window let through at the last 429
        self._step = 0.0  # requests/s added per second of success once the hold is over
        self._next_slot = -math.inf  # earliest time the next request may be sent
        self._resume_at = -math.inf  # end of the shared pause
        self._hold_until = -math.inf
        self._cut_at = -math.inf  # when the rate was last lowered
        self._epoch = 0  # bumped by every pause: reservations made before it are void
        self._streak = 0  # 429s in a row without a success, for the backoff
        self._log = AnswerLog()  # send times of recent successes and 429s
        # (send time, successes in its window) of recent 429s while no limit is learned: see
        # _window_was_full.
        self._refused_at: deque[tuple[float, int]] = deque()
        self._waited = 0.0
        self.rate_limited_count = 0
        self.share_refused_count = 0  # fresh 429s that did not lower the rate

    # -- configuration ---------------------------------------------------------------------------

    def set_cap(self, cap: float | None) -> None:
        """Never send more than `cap` requests per second (None: no cap of the user's)."""
        checked = _check_rate(cap)
        with self._lock:
            self._cap = checked

    def set_notice(self, notice: Notice | None) -> None:
        """Who hears of each new pause (one line per wait); None while a progress display shows
        `status()` instead."""
        with self._lock:
            self._notice = notice

    def close(self) -> None:
        """Wake every waiting `acquire()`, which then raises RateLimiterClosed."""
        self._closed.trip()

    # -- what workers call -----------------------------------------------------------------------

    def acquire(self) -> float:
        """Block until this worker may send; return the clock time of its turn (slots are at
        least 1/rate apart), to pass back as `sent_at` if the answer is a 429."""
        while True:
            if self._closed.tripped:
                raise RateLimiterClosed
            with self._lock:
                now = self._clock()
                interval = self._interval()
                start = max(now, self._resume_at, self._next_slot)
                if interval is None:
                    self._next_slot = -math.inf
                else:
                    self._next_slot = start + interval
                if start <= now:
                    return now
                epoch = self._epoch
            self._sleep(start - now)
            with self._lock:
                # A pause that began meanwhile voids this reservation: queue again behind it.
                if epoch == self._epoch and not self._closed.tripped:
                    return start

    def on_success(self, *, sent_at: float | None = None) -> None:
        """An answer other than 429 (the request got through the API's rate limit), for the
        request `acquire()` let through at `sent_at` (None: counted at its answer)."""
        with self._lock:
            now = self._clock()
            self._streak = 0
            sent = now if sent_at is None else sent_at
            self._log.successes.add(sent)
            self._log.forget_before(now)
            if self._cut_at - WINDOW < sent < self._cut_at and now < self._resume_at:
                # Sent in the window that the last 429 measured, but answered after it: the
                # window let one more through than was counted.
                self._settle((self._learned or 0.0) + 1.0 / WINDOW)
                return
            if self._rate is None or now < self._hold_until:
                return
            # Additive increase: `_step` more requests/s for each second's worth of successes.
            self._rate += self._step / self._rate
            if self._learned is not None and self._rate >= UNTHROTTLE_FACTOR * self._learned:
                self._rate = self._learned = None  # the limit has clearly gone up
            cap = self._cap
            if cap is not None and self._rate is not None and self._rate > cap:
                self._rate = cap

    def on_rate_limited(self, retry_after: float | None, *, sent_at: float | None = None) -> float:
        """A 429 answer, with its Retry-After in seconds (None when absent or unreadable), for
        the request `acquire()` let through at `sent_at`. Pauses every worker; returns the
        seconds until the pause ends (what `WaitBudget.allows` needs)."""
        with self._lock:
            now = self._clock()
            self.rate_limited_count += 1
            # A 429 for a request sent before the last cut was caused by the old pace: it may
            # lengthen the pause but does not lower the rate again.
            fresh = now >= self._resume_at if sent_at is None else sent_at >= self._cut_at
            sent = now if sent_at is None else sent_at
            self._log.refusals.add(sent)
            self._log.forget_before(now)
            if fresh:
                self._streak += 1
            if retry_after is None or retry_after != retry_after:
                ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** (max(self._streak, 1) - 1))
                retry_after = ceiling / 2 + self._rng.uniform(0, ceiling / 2)
            pause = min(max(retry_after, 0.0), PAUSE_CAP)
            resume_at = now + pause
            begins = now >= self._resume_at  # a new wait, not one already announced
            if resume_at > self._resume_at:
                self._waited += resume_at - max(now, self._resume_at)
                self._resume_at = resume_at
                self._epoch += 1
                self._next_slot = resume_at
            if fresh and self._window_was_full(sent):
                self._lower(now)
            elif fresh:
                self.share_refused_count += 1  # the pace stays as it is: see _window_was_full
            notice = self._notice if begins and pause >= NOTICE_AFTER else None
            message = self._describe(now) if notice is not None else None
            remaining = max(0.0, self._resume_at - now)
        if notice is not None and message is not None:
            notice(message)
        return remaining

    def budget(self, total: float | None = None) -> WaitBudget:
        """A fresh wait budget for one request (create one per request, not per attempt);
        `total` seconds, by default this limiter's `wait_budget`."""
        return WaitBudget(self._clock, self.wait_budget if total is None else total)

    # -- what displays read ----------------------------------------------------------------------

    def status(self) -> str | None:
        """One line for a progress display while the API is limiting us, else None; e.g.
        "rate limited — waiting 2 s, sending at ~18/s"."""
        with self._lock:
            return self._describe(self._clock())

    @property
    def rate(self) -> float | None:
        """The requests/s the limiter currently allows (None: unlimited)."""
        with self._lock:
            return self._effective_rate()

    @property
    def waited(self) -> float:
        """Total seconds of shared pauses so far (overlapping pauses counted once)."""
        with self._lock:
            return self._waited

    @property
    def paused(self) -> bool:
        with self._lock:
            return self._clock() < self._resume_at

    # -- inside ----------------------------------------------------------------------------------

    def _wait_unless_closed(self, seconds: float) -> None:
        self._closed.wait(seconds)

    def _effective_rate(self) -> float | None:
        if self._rate is None:
            return self._cap
        return self._rate if self._cap is None else min(self._rate, self._cap)

    def _interval(self) -> float | None:
        rate = self._effective_rate()
        return None if rate is None else 1.0 / rate

    def _window_was_full(self, sent: float) -> bool:
        """Whether the 429 for the request sent at `sent` says the window was full, so that
        sending slower would avoid the next (see `vcctl.http.answer_log`); any other 429 is one
        of a share refused whatever the rate: it costs its pause, and slowing down for it would
        be a ratchet.

        Once a limit is learned, a 429 while the window held as many successes (less one, for
        the order of arrival) is the window's, and one while it held fewer is not. Before that,
        a 429 is the window's when it ends a run of refusals and the window's count has not
        grown by more than `GROWTH` since a 429 at least half a window before: a full window
        is refused at the same count each time.
        """
        count = self._log.window(sent)
        learned = self._learned
        if learned is not None:
            return count >= learned * WINDOW - 1
        earlier = [seen for at, seen in self._refused_at if at <= sent - WINDOW / 2]
        self._refused_at.append((sent, count))
        while self._refused_at and self._refused_at[0][0] < sent - HORIZON:
            self._refused_at.popleft()
        return bool(earlier) and count <= earlier[-1] * GROWTH + 1 and self._log.in_a_run(sent)

    def _lower(self, now: float) -> None:
        """Multiplicative decrease, measured: just under what the last window let through."""
        achieved = self._log.window(now) / WINDOW
        self._cut_at = now
        if achieved > 0:
            self._settle(achieved)
            return
        # Nothing got through lately (another client used the quota, or a long pause): halve
        # what we had and grow back from there without holding.
        current = self._effective_rate()
        self._learned = None
        self._rate = max(MIN_RATE, FALLBACK_RATE if current is None else current / 2)
        if self._cap is not None:
            self._rate = min(self._rate, self._cap)
        self._step = PROBE_STEP * self._rate
        self._hold_until = self._resume_at

    def _settle(self, achieved: float) -> None:
        self._learned = achieved
        self._rate = max(MIN_RATE, SETTLE * achieved)
        if self._cap is not None:
            self._rate = min(self._rate, self._cap)
        self._step = PROBE_STEP * achieved
        self._hold_until = self._resume_at + HOLD_SECONDS

    def _describe(self, now: float) -> str | None:
        if self._rate is None:
            if now < self._resume_at:
                return f"rate limited — waiting {math.ceil(self._resume_at - now)} s"
            return None
        rate = _format_rate(self._effective_rate() or self._rate)
        if now < self._resume_at:
            seconds = math.ceil(self._resume_at - now)
            return f"rate limited — waiting {seconds} s, sending at ~{rate}/s"
        return f"rate limited — sending at ~{rate}/s"


def _check_rate(rate: float | None) -> float | None:
    if rate is not None and not (rate > 0 and math.isfinite(rate)):
        raise ValueError(f"a rate must be a number of requests per second above 0, not {rate}")
    return rate


def _format_rate(rate: float) -> str:
    if rate >= 10:
        return f"{rate:.0f}"
    return f"{rate:.1f}".rstrip("0").rstrip(".") if rate >= 0.1 else f"{rate:.2f}"


_process_lock = threading.Lock()
_process_limiter: RateLimiter | None = None


def process_limiter() -> RateLimiter:
    """The limiter every client of this process shares (created on first use)."""
    global _process_limiter
    with _process_lock:
        if _process_limiter is None:
            _process_limiter = RateLimiter()
        return _process_limiter


def reset_process_limiter(cap: float | None = None) -> RateLimiter:
    """Start afresh: once per command run, so that in-process runs do not inherit a pause."""
    global _process_limiter
    with _process_lock:
        if _process_limiter is not None:
            _process_limiter.close()
        # The budget is read now, not at import, so that tests can shorten it for a run.
        _process_limiter = RateLimiter(cap, wait_budget=RATE_LIMIT_BUDGET, halt=process_halt())
        return _process_limiter
