"""`--created-before` / `--created-after` values: an age (30d, 12h, 90m) or an ISO date or time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from vcctl.errors import UsageError

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
WHEN_HELP = (
    "an ISO date or time (2024-05-01, 2024-05-01T14:30, with or without an offset) "
    "or an age such as 30d, 12h, 90m"
)


def parse_when(text: str, *, now: datetime | None = None) -> datetime:
    """The moment `text` names, timezone-aware. An age counts back from `now`; a date or time
    without an offset is local time; a bare date is its midnight."""
    match = _AGE.match(text)
    if match:
        amount = float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
        if amount > 200 * 365 * 86400:
            raise UsageError(f"invalid time {text!r}: an age of at most 200 years")
        return (now or datetime.now(UTC)) - timedelta(seconds=amount)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"invalid time {text!r}: use {WHEN_HELP}") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # local time, as the user wrote it
    return moment
