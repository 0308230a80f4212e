"""What the emulator sends back: an HTTP answer as data, and the API's error shape.

Every part of the emulator (the API's rules, faults, chaos, control endpoints) produces an
`Answer`; only the transport turns it into bytes on a socket.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
HTML_CONTENT_TYPE = "text/html; charset=utf-8"


class ApiRefusal(Exception):
    """An API rule refused the request: answered `{"error": message}` with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Answer:
    """One HTTP answer; `drop` closes the connection without writing anything."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False
    close: bool = False

    def header(self, name: str) -> str | None:
        """The value of the first header called `name` (any case), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


def json_answer(
    status: int, payload: Any, *, headers: list[tuple[str, str]] | None = None, close: bool = False
) -> Answer:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Answer(status, body, JSON_CONTENT_TYPE, headers or [], close=close)


def error_answer(status: int, message: str, *, close: bool = False) -> Answer:
    """The API's error shape: `{"error": message}`."""
    return json_answer(status, {"error": message}, close=close)


def phrase(status: int) -> str:
    """The reason phrase of an HTTP status ("Error" for statuses HTTP does not name)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
