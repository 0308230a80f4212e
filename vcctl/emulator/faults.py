"""Scripted faults: misbehaviours a test or a script queues for the next matching requests.

A `Fault` says what to do (answer an error, an HTML page, a redirect or nothing at all, drop the
connection, or wait) and which requests it applies to; `FaultQueue` hands the first pending match
to each request and counts its `times` down.
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
import threading
from dataclasses import dataclass
from typing import Any, cast

from vcctl.emulator.answers import HTML_CONTENT_TYPE, Answer, json_answer, phrase

FAULT_ACTIONS = ("status", "html", "drop", "delay", "redirect", "empty")
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


@dataclass
class Fault:
    """A scripted misbehaviour, applied to the next `times` API requests that match it.

    Actions: "status" (answer `status` with `{"error": message}`), "html" (answer `status` with
    an HTML page, like a proxy's 502), "drop" (close the connection without answering), "delay"
    (wait `delay_ms`, then go on normally), "redirect" (answer `status`, 307 unless a redirect
    status is given, with `Location: location`), "empty" (answer `status` with no body).
    With `apply`, the request is performed before the fault answers (a server that committed,
    then failed). `method` and `path_regex` (searched in the raw path, query included) filter
    the requests; None matches any.
    """

    action: str
    status: int = 503
    method: str | None = None
    path_regex: str | None = None
    times: int = 1
    retry_after: str | None = None
    delay_ms: float = 0.0
    location: str | None = None
    apply: bool = False
    message: str | None = None  # the "error" of a "status" answer; default: the reason phrase

    def __post_init__(self) -> None:
        _validate_fault(self)

    @classmethod
    def from_dict(cls, data: object) -> Fault:
        """Build a fault from decoded JSON; ValueError names what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("a fault must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(str(key) for key in data if key not in known)
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
        if "action" not in data:
            raise ValueError("fault field 'action' is required")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ValueError(str(exc)) from None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        return self.path_regex is None or re.search(self.path_regex, path) is not None


def _is_int(value: object) -> bool:
    # bool is an int subclass, but `"status": true` is a mistake, not 1.
    return isinstance(value, int) and not isinstance(value, bool)


def _validate_fault(fault: Fault) -> None:
    # Faults also arrive as JSON over /_emulator/faults, so the annotations prove nothing: check
    # every value at run time, through `object` so that the checks are not "unreachable".
    action: object = fault.action
    if action not in FAULT_ACTIONS:
        raise ValueError(f"fault action must be one of {', '.join(FAULT_ACTIONS)}, not {action!r}")
    status: object = fault.status
    if not _is_int(status) or not 200 <= cast(int, status) <= 599:
        raise ValueError(f"fault status must be an HTTP status from 200 to 599, not {status!r}")
    if fault.action == "redirect" and fault.status not in REDIRECT_STATUSES:
        if fault.status != 503:  # 503 is the field's default: nobody asked for it explicitly
            raise ValueError(
                f"a redirect fault needs status 301, 302, 303, 307 or 308, not {fault.status}"
            )
        fault.status = 307
    method: object = fault.method
    if method is not None:
        if not isinstance(method, str) or not method.strip():
            raise ValueError(f"fault method must be an HTTP method, not {method!r}")
        fault.method = method.strip().upper()
    path_regex: object = fault.path_regex
    if path_regex is not None:
        if not isinstance(path_regex, str):
            raise ValueError(f"fault path_regex must be a string, not {path_regex!r}")
        try:
            re.compile(path_regex)
        except re.error as exc:
            raise ValueError(f"fault path_regex is not a valid regex: {exc}") from None
    times: object = fault.times
    if not _is_int(times) or cast(int, times) < 1:
        raise ValueError(f"fault times must be a positive integer, not {times!r}")
    retry_after: object = fault.retry_after
    if _is_int(retry_after):
        fault.retry_after = str(retry_after)
    elif retry_after is not None and not isinstance(retry_after, str):
        raise ValueError(f"fault retry_after must be a string, not {retry_after!r}")
    delay: object = fault.delay_ms
    if (
        not isinstance(delay, int | float)
        or isinstance(delay, bool)
        or not math.isfinite(delay)
        or delay < 0
    ):
        raise ValueError(f"fault delay_ms must be a number of milliseconds >= 0, not {delay!r}")
    fault.delay_ms = float(delay)
    location: object = fault.location
    if location is not None and not isinstance(location, str):
        raise ValueError(f"fault location must be a string, not {location!r}")
    if fault.action == "redirect" and not location:
        raise ValueError("a redirect fault needs a location")
    apply: object = fault.apply
    if not isinstance(apply, bool):
        raise ValueError(f"fault apply must be true or false, not {apply!r}")
    message: object = fault.message
    if message is not None and not isinstance(message, str):
        raise ValueError(f"fault message must be a string, not {message!r}")


class FaultQueue:
    """The pending faults, tried in the order they were added; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        # A copy: the queue counts `times` down, and the caller's object must not change.
        with self._lock:
            self._faults.append(dataclasses.replace(fault))

    def pending(self) -> list[Fault]:
        """Copies of the faults still pending."""
        with self._lock:
            return [dataclasses.replace(f) for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, raw_path: str) -> Fault | None:
        """The first pending fault matching the request, used once; None if none matches."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.matches(method, raw_path):
                    fault.times -= 1
                    if fault.times <= 0:
                        del self._faults[index]
                    return fault
        return None


def faults_from_json(data: object) -> list[Fault]:
    """Faults from decoded JSON (one object or a list); ValueError names the bad one."""
    items = data if isinstance(data, list) else [data]
    faults: list[Fault] = []
    for index, item in enumerate(items):
        try:
            faults.append(Fault.from_dict(item))
        except ValueError as exc:
            raise ValueError(f"fault {index}: {exc}") from None
    return faults


def fault_answer(fault: Fault) -> Answer:
    """The answer a fault gives instead of the API's ("delay" faults never answer)."""
    headers = [("Retry-After", fault.retry_after)] if fault.retry_after is not None else []
    status, reason = fault.status, phrase(fault.status)
    if fault.action == "drop":
        return Answer(status, drop=True)
    if fault.action == "html":
        title = f"{status} {reason}"
        page = (
            f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
            f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n"
        )
        return Answer(status, page.encode("utf-8"), HTML_CONTENT_TYPE, headers)
    if fault.action == "redirect":
        location = fault.location or "/"
        headers.append(("Location", location))
        page = f'<html><body>You are being <a href="{html.escape(location)}">redirected</a>.'
        page += "</body></html>"
        return Answer(status, page.encode("utf-8"), HTML_CONTENT_TYPE, headers)
    if fault.action == "empty":
        return Answer(status, b"", None, headers)
    return json_answer(status, {"error": fault.message or reason}, headers=headers)
