"""Chaos a real API shows without being asked: latency, random server errors, a rate limit, and
a share of requests refused whatever the rate.

All are set once (from `EmulatorConfig`) and apply to every API request; none applies to the
control endpoints.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable

RANDOM_ERROR_STATUSES = (500, 502, 503, 504)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RandomErrors:
    """Draws a random 500/502/503/504 with probability `rate`; reproducible with a seed."""

    def __init__(self, rate: float, seed: int | None = None) -> None:
        self.rate = rate
        self._lock = threading.Lock()
        self._rng = random.Random(seed)

    def reset(self, seed: int | None = None) -> None:
        with self._lock:
            self._rng = random.Random(seed)

    def draw(self, method: str) -> tuple[int, bool] | None:
        """(status, whether to perform the request first) for a random failure, or None."""
        if self.rate <= 0:
            return None
        with self._lock:
            if self._rng.random() >= self.rate:
                return None
            status = self._rng.choice(RANDOM_ERROR_STATUSES)
            # A 503 is refused at the door; the others may come after the server committed.
            committed = status != 503 and method in WRITE_METHODS and self._rng.random() < 0.5
        return status, committed


class ShareRefusals:
    """Refuses a share of requests with 429 whatever the rate, as an API does whose quota other
    clients share: each request is refused with probability `share`, however slowly the client
    sends, so that slowing down cannot help. Reproducible with a seed."""

    def __init__(self, share: float, retry_after: float = 1.0, seed: int | None = None) -> None:
        self.share = share
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._rng = random.Random(f"refusals:{seed}" if seed is not None else None)

    def reset(self, seed: int | None = None) -> None:
        with self._lock:
            self._rng = random.Random(f"refusals:{seed}" if seed is not None else None)

    def draw(self) -> str | None:
        """The Retry-After header of a refusal, or None when the request may go on."""
        if self.share <= 0:
            return None
        with self._lock:
            if self._rng.random() >= self.share:
                return None
        return retry_after_header(self.retry_after)


def retry_after_header(seconds: float) -> str:
    """Delta-seconds as a header value: whole seconds when whole ("1", not "1.0")."""
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


class WindowRateLimit:
    """A sliding window per API key, as real APIs count: at most `rate` requests a second.

    A request is allowed when fewer than `capacity` requests with the same key were allowed
    within the last `window` seconds; `capacity` is `rate` rounded down (at least 1) and the
    window is one second (longer when `rate` is below 1: one request per 1/rate seconds).
    Refused requests do not count. `burst` lets that many requests through at once before the
    rate applies: the window then holds `burst` requests over `burst / rate` seconds.
    """

    def __init__(
        self, rate: float, burst: int = 0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.capacity = max(1, burst, math.floor(rate)) if rate > 0 else 0
        self.window = self.capacity / rate if rate > 0 else 0.0
        self._clock = clock
        self._lock = threading.Lock()
        self._allowed: dict[str, deque[float]] = {}

    def reset(self) -> None:
        with self._lock:
            self._allowed.clear()

    def admit(self, key: str) -> int | None:
        """None when a request with this API key may go on, else the seconds to wait (>= 1)."""
        if self.rate <= 0:
            return None
        now = self._clock()
        with self._lock:
            times = self._allowed.setdefault(key, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) < self.capacity:
                times.append(now)
                return None
            # Retry-After is whole seconds: round up, so that a client honouring it gets in.
            return max(1, math.ceil(times[0] + self.window - now))
