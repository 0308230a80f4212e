"""The request log: the last API requests the emulator received, when, and what it answered.

Times are `time.monotonic()` seconds. On Linux and macOS that clock is shared by every process
on the machine, so a test in another process can compare them with its own `time.monotonic()`.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from vcctl.text import mask

DEFAULT_MAX_RECORDED = 10_000
SECRET_HEADERS = frozenset({"apikey", "apitoken"})


@dataclass
class RecordedRequest:
    """One API request as the emulator received it.

    `answered` is the status sent back, "drop" when the connection was closed without an
    answer, or 0 while the answer is still pending (during a latency or a delay fault).
    `received_at` is when the request was read, `answered_at` when its answer was decided
    (None while pending); `retry_after` is the Retry-After header of the answer, if any.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: str
    answered: int | Literal["drop"] = 0
    received_at: float = field(default_factory=time.monotonic)
    answered_at: float | None = None
    retry_after: str | None = None

    def to_dict(self, *, mask_secrets: bool = False) -> dict[str, Any]:
        """The record as JSON data; `mask_secrets` keeps at most the last 4 characters of the
        apiKey and apiToken headers, as vcctl shows them."""
        data = dataclasses.asdict(self)
        if mask_secrets:
            data["headers"] = {
                name: (mask(value) or "") if name.lower() in SECRET_HEADERS else value
                for name, value in self.headers.items()
            }
        return data


class RequestLog:
    """The last `max_records` recorded API requests, oldest first; thread-safe."""

    def __init__(self, max_records: int = DEFAULT_MAX_RECORDED) -> None:
        if max_records < 1:
            raise ValueError(f"the request log must keep at least 1 request, not {max_records}")
        self.max_records = max_records
        self._lock = threading.Lock()
        self._records: deque[RecordedRequest] = deque(maxlen=max_records)

    def add(self, record: RecordedRequest) -> None:
        with self._lock:
            self._records.append(record)  # the oldest falls off past max_records

    def answered(
        self, record: RecordedRequest, status: int | Literal["drop"], retry_after: str | None
    ) -> None:
        """Note what `record` was answered (before the answer is written)."""
        with self._lock:
            record.answered = status
            record.answered_at = time.monotonic()
            record.retry_after = retry_after

    def snapshot(self) -> list[RecordedRequest]:
        """Copies of the records, oldest first."""
        with self._lock:
            return [dataclasses.replace(r, headers=dict(r.headers)) for r in self._records]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
