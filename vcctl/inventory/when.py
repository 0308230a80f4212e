"""`--created-before` / `--created-after` values: an age (30d, 12h, 90m) or an ISO date or time;
and durations written the same way (`apply --lock-timeout 5m`).

Age units: s (seconds), m (minutes), h (hours), d (days), w (weeks). `M` is refused: it means
months to many people and minutes here, and a cleanup pipeline that takes `6M` for six minutes
deletes everything older than that. The other units mean the same in either case.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from vcctl.errors import UsageError

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Units whose other case means something else to many readers: refused, with a hint.
_AMBIGUOUS = {"M": "M could mean months or minutes: write 90m for minutes, or a date for months"}
AGE_UNITS = "s (seconds), m (minutes), h (hours), d (days), w (weeks)"
WHEN_HELP = (
    "an ISO date or time (2024-05-01, 2024-05-01T14:30, with or without an offset) "
    f"or an age such as 30d, 12h, 90m, in {AGE_UNITS}"
)


def parse_when(text: str, *, now: datetime | None = None) -> datetime:
    """The moment `text` names, timezone-aware. An age counts back from `now`; a date or time
    without an offset is local time; a bare date is its midnight."""
    match = _AGE.match(text)
    if match:
        amount = float(match.group(1)) * _age_unit(text, match.group(2))
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


def _age_unit(text: str, unit: str) -> int:
    """Seconds in `unit`; a UsageError (with a hint) for a unit that is not one or is ambiguous."""
    if unit in _AMBIGUOUS:
        raise UsageError(f"invalid time {text!r}: {_AMBIGUOUS[unit]}", hint=f"units: {AGE_UNITS}")
    seconds = _UNIT_SECONDS.get(unit.lower())
    if seconds is None:
        problem = f"invalid time {text!r}: unknown unit {unit!r}"
        raise UsageError(problem, hint=f"units: {AGE_UNITS}")
    return seconds


def parse_duration(text: str, what: str) -> float:
    """Seconds in a duration as ages are written (90s, 5m, 1h; the same units), or a bare number
    of seconds (300, 0.5); `what` names the option in a refusal."""
    stripped = text.strip()
    try:
        seconds = float(stripped)
    except ValueError:
        match = _AGE.match(stripped)
        if match is None:
            raise UsageError(
                f"invalid {what} {text!r}: expected seconds or a duration such as 30s, 5m, 1h",
                hint=f"units: {AGE_UNITS}",
            ) from None
        seconds = float(match.group(1)) * _age_unit(text, match.group(2))
    if not seconds >= 0 or seconds > 200 * 365 * 86400:  # `not >=`: NaN too
        raise UsageError(f"invalid {what} {text!r}: expected a duration of 0 or more")
    return seconds
