"""The retry policy: which calls and answers may be repeated, how long to wait in between.

Pure functions and constants (no I/O): the client asks them, the tests check them directly.
Why these rules: docs/design.md ("Retries").
"""

from __future__ import annotations

import email.utils
import random
from datetime import UTC, datetime
from typing import Literal

CallKind = Literal["read", "create", "update", "delete", "event"]
# GET, update, DELETE and events can be repeated without changing the outcome; a create cannot.
IDEMPOTENT_KINDS: frozenset[str] = frozenset({"read", "update", "delete", "event"})

BACKOFF_BASE = 0.25
BACKOFF_CAP = 8.0
RETRY_AFTER_CAP = 30.0
NOTICE_AFTER = 1.0  # seconds of waiting worth telling a person at a terminal about


def is_idempotent(kind: CallKind) -> bool:
    return kind in IDEMPOTENT_KINDS


# Answers that may come after the server carried the request out (a crash after the commit, a
# gateway that lost the answer): repeated only when repeating cannot change the outcome.
MAY_HIDE_A_DONE_REQUEST: frozenset[int] = frozenset({500, 502, 504})


def retryable_status(status: int, *, idempotent: bool) -> bool:
    """429 and 503 mean "not done, come back later"; 500, 502 and 504 may hide a done request."""
    return status in (429, 503) or (idempotent and status in MAY_HIDE_A_DONE_REQUEST)


def status_may_hide_a_done_request(status: int) -> bool:
    return status in MAY_HIDE_A_DONE_REQUEST


def backoff(attempt: int, rng: random.Random) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): exponential, capped,
    with jitter over the upper half so that concurrent workers do not retry in step."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** (attempt - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        current = datetime.now(UTC).timestamp() if now is None else now
        seconds = when.timestamp() - current
        # A date already past means "now" (the clocks differ a little).
        return min(max(seconds, 0.0), RETRY_AFTER_CAP)
    if not 0 <= seconds < float("inf"):  # negative, NaN, infinite: not a delay, so ignored
        return None
    return min(seconds, RETRY_AFTER_CAP)
