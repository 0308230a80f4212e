"""Chaos a real API shows without being asked: latency, random server errors, a rate limit.

All three are set once (from `EmulatorConfig`) and apply to every API request; none applies to
the control endpoints.
"""

from __future__ import annotations

import math
import random
import threading
import time
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


class RateLimiter:
    """A token bucket: bursts of up to `rate` requests, refilled at `rate` per second."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = 0.0
        self._bucket_time: float | None = None

    def reset(self) -> None:
        with self._lock:
            self._tokens = 0.0
            self._bucket_time = None

    def admit(self, key: str) -> int | None:
        """None when the request is within the rate limit, else the seconds to wait."""
        rate = self.rate
        if rate <= 0:
            return None
        capacity = max(1.0, rate)
        now = self._clock()
        with self._lock:
            if self._bucket_time is None:
                tokens = capacity
            else:
                tokens = min(capacity, self._tokens + (now - self._bucket_time) * rate)
            self._bucket_time = now
            if tokens >= 1.0:
                self._tokens = tokens - 1.0
                return None
            self._tokens = tokens
            return max(1, math.ceil((1.0 - tokens) / rate))
