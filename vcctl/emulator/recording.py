"""The request log: every API request the emulator received, and what it answered."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any, Literal


@dataclass
class RecordedRequest:
    """One API request as the emulator received it.

    `answered` is the status sent back, "drop" when the connection was closed without an
    answer, or 0 while the answer is still pending (during a latency or a delay fault).
    """

    method: str
    path: str
    headers: dict[str, str]
    body: str
    answered: int | Literal["drop"] = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class RequestLog:
    """The recorded API requests, oldest first; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RecordedRequest] = []

    def add(self, record: RecordedRequest) -> None:
        with self._lock:
            self._records.append(record)

    def answered(self, record: RecordedRequest, status: int | Literal["drop"]) -> None:
        """Note what `record` was answered (before the answer is written)."""
        with self._lock:
            record.answered = status

    def snapshot(self) -> list[RecordedRequest]:
        """Copies of the records, oldest first."""
        with self._lock:
            return [dataclasses.replace(r, headers=dict(r.headers)) for r in self._records]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
