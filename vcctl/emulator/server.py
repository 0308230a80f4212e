"""An in-memory emulator of the Video Connect API, standard library only.

It lets people rehearse scripts and CI jobs against something that behaves like
https://videoconnect.app, failures included, with no account and no network (in the spirit of
`gcloud emulators`). It only ever binds the host it is given (127.0.0.1 by default)::

    with Emulator(EmulatorConfig(seed=1)) as emu:
        ...  # send requests to emu.base_url with the headers apiKey / apiToken
        emu.add_fault(Fault("status", status=502, method="POST", apply=True))

API (the paths of the reference; every one also answers behind a locale prefix such as `/fr`,
`/en` or `/en-US`; the query string is ignored)::

    POST                /api/v1/rooms                 create a room
    GET | POST | DELETE /api/v1/rooms/{id}            get (with its participants) / update / delete
    POST                /api/v1/participants          create a participant
    GET | POST | DELETE /api/v1/participants/{id}     get / update / delete
    POST                /api/v1/events                send an event to a room (see below)

Events: `activate-video-and-audio` and `desactivate-video-and-audio` (the API's spelling) need a
`participant_id` of that room; `mute-all` turns off every participant of the room.

Each path segment is percent-decoded on its own, so `a%2Fb` is the single id "a/b". Unknown
paths and wrong methods answer 404 before credentials are checked; then missing or wrong
`apiKey` / `apiToken` headers answer 401. Successful calls answer 200 with JSON; errors answer
`{"error": "<message>"}` with 400 (invalid body or field), 402 (participant not in that room),
404 (unknown endpoint or id), 429 (rate limit) or 5xx (injected).

Each API request goes through, in order: recording; `latency_ms`; the first pending scripted
`Fault` that matches; the rate limit; random 5xx errors (`error_rate`); the normal behaviour.

Control endpoints, for scripts and tests in another process (no credentials; never recorded,
delayed or faulted)::

    GET    /_emulator/requests   recorded API requests, oldest first (JSON list)
    DELETE /_emulator/requests   forget the recorded requests
    POST   /_emulator/faults     add faults: a JSON object, or a list of them, with Fault's fields
    GET    /_emulator/faults     the faults still pending
    DELETE /_emulator/faults     drop the pending faults
    GET    /_emulator/state      {"rooms": [...], "participants": [...]}
    POST   /_emulator/reset      empty rooms, participants, faults and recorded requests

For example::

    curl -X POST http://127.0.0.1:8080/_emulator/faults \\
         -d '{"action": "status", "status": 503, "retry_after": "2", "times": 3}'
"""

from __future__ import annotations

import contextlib
import dataclasses
import hmac
import html
import http.server
import json
import math
import random
import re
import selectors
import socket
import socketserver
import string
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from types import TracebackType
from typing import Any, Literal, cast
from urllib.parse import unquote, urlsplit

__all__ = ["Emulator", "EmulatorConfig", "Fault", "RecordedRequest"]

DEFAULT_COLOR = "#5f5f5f"
DEFAULT_LANGUAGE = "fr"
ROOM_EVENTS = ("activate-video-and-audio", "desactivate-video-and-audio", "mute-all")
FAULT_ACTIONS = ("status", "html", "drop", "delay", "redirect", "empty")
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
RANDOM_ERROR_STATUSES = (500, 502, 503, 504)
MAX_BODY_BYTES = 10 * 1024 * 1024

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
HTML_CONTENT_TYPE = "text/html; charset=utf-8"

_ID_ALPHABET = string.ascii_letters + string.digits
_ID_LENGTH = 6
_LOCALE_RE = re.compile(r"[a-z]{2}(?:-[A-Z]{2})?")
_COLOR_RE = re.compile(r"#[0-9A-Fa-f]{6}")
_LANGUAGE_RE = re.compile(r"[a-z]{2}")
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CONTROL_PREFIX = "_emulator"


@dataclass
class EmulatorConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0 = pick a free port
    api_key: str = "emulator-api-key"
    api_token: str = "emulator-api-token"
    latency_ms: float = 0.0  # added before every API answer
    error_rate: float = 0.0  # probability of a random 500/502/503/504
    rate_limit: float = 0.0  # requests per second allowed, beyond -> 429; 0 = unlimited
    seed: int | None = None  # makes random errors and ids reproducible
    verbose: bool = False  # log every request to stderr, like http.server does


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


class _ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class _Answer:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False
    close: bool = False


def _json_answer(
    status: int, payload: Any, *, headers: list[tuple[str, str]] | None = None, close: bool = False
) -> _Answer:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return _Answer(status, body, JSON_CONTENT_TYPE, headers or [], close=close)


def _error(status: int, message: str, *, close: bool = False) -> _Answer:
    return _json_answer(status, {"error": message}, close=close)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _show(value: object) -> str:
    """A JSON value as the client wrote it, for error messages."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _now() -> str:
    # The API's own format: microseconds and a UTC offset, e.g. 2021-04-17T13:10:13.539229-04:00.
    return datetime.now().astimezone().isoformat(timespec="microseconds")


def _split_target(raw_path: str) -> list[str]:
    """The percent-decoded segments of a request target's path, without the leading "/".

    Segments are split on the raw "/" before decoding, so an encoded "/" stays inside its
    segment: that is what keeps an id from reaching another path.
    """
    target = raw_path
    if not target.startswith("/"):
        # Absolute form ("GET http://host/path"), which HTTP/1.1 servers must accept.
        parts = urlsplit(target)
        target = parts.path if parts.scheme in ("http", "https") else ""
    path = target.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        return []
    return [unquote(segment) for segment in path[1:].split("/")]


def _is_control(raw_path: str) -> bool:
    segments = _split_target(raw_path)
    return bool(segments) and segments[0] == _CONTROL_PREFIX


def _route(method: str, raw_path: str) -> tuple[str, str | None]:
    """(resource, id or None) for an API request; _ApiError(404) for anything else."""
    segments = _split_target(raw_path)
    if segments and _LOCALE_RE.fullmatch(segments[0]):
        segments = segments[1:]
    if len(segments) in (3, 4) and segments[:2] == ["api", "v1"]:
        resource = segments[2]
        item_id = segments[3] if len(segments) == 4 else None
        if item_id is None and method == "POST" and resource in ("rooms", "participants", "events"):
            return resource, None
        if item_id is not None and method in ("GET", "POST", "DELETE") and resource != "events":
            return resource, item_id
    raise _ApiError(404, "Not found")


def _parse_object(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    content_type = headers.get("content-type")
    if content_type is not None:
        media = content_type.split(";", 1)[0].strip().lower()
        # A form-encoded body is the classic client bug (`data=` instead of `json=`); the real
        # API would not see any parameter in it, so say so instead of guessing.
        if media != "application/json" and not media.endswith("+json"):
            raise _ApiError(400, f"Content-Type must be application/json, not {media!r}")
    if not body.strip():
        raise _ApiError(400, "Request body must be a JSON object, and it is empty")
    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError as exc:
        raise _ApiError(400, f"Request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _ApiError(400, f"Request body must be a JSON object, not {type(data).__name__}")
    return data


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _room_changes(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    problems: list[str] = []
    if "name" in data:
        if _is_text(data["name"]):
            changes["name"] = data["name"]
        else:
            problems.append(f"name must be a non-empty string, not {_show(data['name'])}")
    elif creating:
        problems.append("name is required")
    if "color" in data:
        color = data["color"]
        if isinstance(color, str) and _COLOR_RE.fullmatch(color):
            changes["color"] = color
        else:
            problems.append(f"color must be a hex color like '#5f5f5f', not {_show(color)}")
    if problems:
        raise _ApiError(400, "; ".join(problems))
    return changes


def _participant_changes(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    problems: list[str] = []
    if "room_id" in data:
        if _is_text(data["room_id"]):
            changes["room_id"] = data["room_id"]
        else:
            problems.append(f"room_id must be a room id, not {_show(data['room_id'])}")
    elif creating:
        problems.append("room_id is required")
    if "username" in data:
        if _is_text(data["username"]):
            changes["username"] = data["username"]
        else:
            problems.append(f"username must be a non-empty string, not {_show(data['username'])}")
    elif creating:
        problems.append("username is required")
    if "language" in data:
        language = data["language"]
        if isinstance(language, str) and _LANGUAGE_RE.fullmatch(language):
            changes["language"] = language
        else:
            problems.append(
                f"language must be two lowercase letters like 'fr', not {_show(language)}"
            )
    if "video_and_audio_on" in data:
        if isinstance(data["video_and_audio_on"], bool):
            changes["video_and_audio_on"] = data["video_and_audio_on"]
        else:
            problems.append(
                f"video_and_audio_on must be true or false, not {_show(data['video_and_audio_on'])}"
            )
    if problems:
        raise _ApiError(400, "; ".join(problems))
    return changes


class Emulator:
    """The Video Connect API in memory, served over HTTP/1.1 on `config.host`."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config if config is not None else EmulatorConfig()
        # One lock for all the state: every operation on it is tiny, and one lock cannot deadlock.
        self._lock = threading.Lock()
        self._rooms: dict[str, dict[str, Any]] = {}
        self._participants: dict[str, dict[str, Any]] = {}
        self._faults: list[Fault] = []
        self._records: list[RecordedRequest] = []
        self._connections: set[socket.socket] = set()
        self._rng = random.Random()
        self._id_rng: random.Random = random.Random()
        self._tokens = 0.0
        self._bucket_time: float | None = None
        self._reset_randomness()
        # Life cycle, under its own lock so that shutdown() never waits for a request.
        self._life_lock = threading.Lock()
        self._server: _Server | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._loop_thread: threading.Thread | None = None
        self._loop_done = threading.Event()
        self._stopping = threading.Event()
        self._closed = False

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        server = self._server
        if server is None:
            raise RuntimeError("the emulator is not bound yet: call start() or bind() first")
        host, port = str(server.server_address[0]), int(server.server_address[1])
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def bind(self) -> Emulator:
        """Bind the socket (so that base_url is known) without serving yet; returns self."""
        with self._life_lock:
            if self._stopping.is_set():
                raise RuntimeError("this emulator was shut down; create a new one")
            if self._server is None:
                server = _Server((self.config.host, self.config.port), self)
                # Non-blocking, so that a connection reset between select() and accept()
                # cannot freeze the serving loop.
                server.socket.setblocking(False)
                self._wake_r, self._wake_w = socket.socketpair()
                self._server = server
        return self

    def start(self) -> Emulator:
        """Bind, then serve in a daemon thread; returns self."""
        self.bind()
        with self._life_lock:
            if self._loop_thread is not None:
                raise RuntimeError("the emulator is already serving")
            thread = threading.Thread(target=self._serve_loop, name="vcctl-emulator", daemon=True)
            self._loop_thread = thread
        thread.start()
        return self

    def serve_forever(self) -> None:
        """Bind if needed, then serve in the calling thread until shutdown()."""
        self.bind()
        with self._life_lock:
            if self._loop_thread is not None:
                raise RuntimeError("the emulator is already serving")
            self._loop_thread = threading.current_thread()
        self._serve_loop()

    def shutdown(self) -> None:
        """Stop serving and close every socket; idempotent, and safe from a signal handler."""
        with self._life_lock:
            self._stopping.set()
            server, loop_thread, wake = self._server, self._loop_thread, self._wake_w
        if server is None:
            return
        if wake is not None:
            with contextlib.suppress(OSError):  # already closed: the loop is gone
                wake.send(b"\0")
        if loop_thread is threading.current_thread():
            # Called from within serve_forever (a signal handler): the loop cleans up when
            # control returns to it; waiting for it here would wait forever.
            return
        if loop_thread is not None:
            self._loop_done.wait(5.0)
        self._close_all()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    def _serve_loop(self) -> None:
        server, wake = self._server, self._wake_r
        assert server is not None
        assert wake is not None
        try:
            # A selector on the listening socket and a wake-up socket, rather than
            # socketserver's serve_forever, so that shutdown is immediate (no 0.5 s polling)
            # and cannot deadlock when called from the serving thread.
            with selectors.DefaultSelector() as selector:
                selector.register(server.socket, selectors.EVENT_READ)
                selector.register(wake, selectors.EVENT_READ)
                while not self._stopping.is_set():
                    for key, _ in selector.select():
                        if key.fileobj is server.socket and not self._stopping.is_set():
                            self._accept(server)
        finally:
            self._close_all()
            self._loop_done.set()

    @staticmethod
    def _accept(server: _Server) -> None:
        try:
            request, client_address = server.get_request()
        except OSError:
            return  # the client went away before accept(), or nothing was pending
        if not server.verify_request(request, client_address):
            server.shutdown_request(request)
            return
        try:
            server.process_request(request, client_address)
        except Exception:
            server.handle_error(request, client_address)
            server.shutdown_request(request)

    def _close_all(self) -> None:
        with self._life_lock:
            if self._closed or self._server is None:
                return
            self._closed = True
            server, wake_r, wake_w = self._server, self._wake_r, self._wake_w
        server.server_close()
        for sock in (wake_r, wake_w):
            if sock is not None:
                sock.close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            # Wakes the handler threads blocked on idle keep-alive connections.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def _track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def _pause(self, milliseconds: float) -> None:
        if milliseconds > 0:
            # An Event rather than time.sleep, so that shutdown() cuts every delay short.
            self._stopping.wait(milliseconds / 1000.0)

    # -- inspection and scripting -------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the recorded API requests, oldest first (same as recorded())."""
        return self.recorded()

    def recorded(self) -> list[RecordedRequest]:
        """A snapshot (copies) of the recorded API requests, oldest first."""
        with self._lock:
            return [dataclasses.replace(r, headers=dict(r.headers)) for r in self._records]

    def clear_recorded(self) -> None:
        with self._lock:
            self._records.clear()

    def add_fault(self, fault: Fault) -> None:
        """Queue a fault; faults are tried in the order they were added."""
        # A copy: the emulator counts `times` down, and the caller's object must not change.
        with self._lock:
            self._faults.append(dataclasses.replace(fault))

    def pending_faults(self) -> list[Fault]:
        with self._lock:
            return [dataclasses.replace(f) for f in self._faults]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def state(self) -> dict[str, Any]:
        """{"rooms": [...], "participants": [...]}, in creation order (copies)."""
        with self._lock:
            return {
                "rooms": [dict(room) for room in self._rooms.values()],
                "participants": [dict(p) for p in self._participants.values()],
            }

    def reset(self) -> None:
        """Back to a fresh emulator: no rooms, participants, faults or records."""
        with self._lock:
            self._rooms.clear()
            self._participants.clear()
            self._faults.clear()
            self._records.clear()
            self._reset_randomness()

    def _reset_randomness(self) -> None:
        seed = self.config.seed
        self._rng = random.Random(seed)
        # Ids come from their own generator so that creating resources does not shift the
        # sequence of random errors; seeded, a script sees the same ids on every run.
        self._id_rng = random.SystemRandom() if seed is None else random.Random(f"ids:{seed}")
        self._tokens = 0.0
        self._bucket_time = None

    # -- request pipeline ---------------------------------------------------------------------

    def _handle_api(
        self,
        method: str,
        raw_path: str,
        headers: list[tuple[str, str]],
        body: bytes,
        body_error: str | None,
    ) -> _Answer:
        record = RecordedRequest(
            method=method,
            path=raw_path,
            headers=dict(headers),
            body=body.decode("utf-8", errors="replace"),
        )
        with self._lock:
            self._records.append(record)
        answer = self._pipeline(method, raw_path, headers, body, body_error)
        # Set before the answer is written, so a client that got its answer sees it recorded.
        with self._lock:
            record.answered = "drop" if answer.drop else answer.status
        return answer

    def _pipeline(
        self,
        method: str,
        raw_path: str,
        raw_headers: list[tuple[str, str]],
        body: bytes,
        body_error: str | None,
    ) -> _Answer:
        if body_error is not None:
            # The body's framing is unknown, so nothing else on this connection can be trusted.
            return _error(400, body_error, close=True)
        headers: dict[str, str] = {}
        for name, value in raw_headers:
            headers.setdefault(name.lower(), value)  # the first of repeated headers wins
        self._pause(self.config.latency_ms)

        fault = self._take_fault(method, raw_path)
        if fault is not None:
            if fault.action == "delay":
                self._pause(fault.delay_ms)
            else:
                if fault.apply:
                    self._perform(method, raw_path, headers, body)
                return self._fault_answer(fault)

        retry_after = self._take_token()
        if retry_after is not None:
            return _json_answer(
                429, {"error": "Too many requests"}, headers=[("Retry-After", str(retry_after))]
            )

        drawn = self._draw_random_error(method)
        if drawn is not None:
            status, perform_first = drawn
            if perform_first:
                self._perform(method, raw_path, headers, body)
            return _error(status, _phrase(status))

        return self._perform(method, raw_path, headers, body)

    def _take_fault(self, method: str, raw_path: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.matches(method, raw_path):
                    fault.times -= 1
                    if fault.times <= 0:
                        del self._faults[index]
                    return fault
        return None

    @staticmethod
    def _fault_answer(fault: Fault) -> _Answer:
        headers = [("Retry-After", fault.retry_after)] if fault.retry_after is not None else []
        status, phrase = fault.status, _phrase(fault.status)
        if fault.action == "drop":
            return _Answer(status, drop=True)
        if fault.action == "html":
            title = f"{status} {phrase}"
            page = (
                f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
                f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
                "</body>\r\n</html>\r\n"
            )
            return _Answer(status, page.encode("utf-8"), HTML_CONTENT_TYPE, headers)
        if fault.action == "redirect":
            location = fault.location or "/"
            headers.append(("Location", location))
            page = f'<html><body>You are being <a href="{html.escape(location)}">redirected</a>.'
            page += "</body></html>"
            return _Answer(status, page.encode("utf-8"), HTML_CONTENT_TYPE, headers)
        if fault.action == "empty":
            return _Answer(status, b"", None, headers)
        return _json_answer(status, {"error": fault.message or phrase}, headers=headers)

    def _take_token(self) -> int | None:
        """None when the request is within the rate limit, else the seconds to wait."""
        rate = self.config.rate_limit
        if rate <= 0:
            return None
        # A token bucket: bursts of up to `rate` requests, refilled at `rate` per second.
        capacity = max(1.0, rate)
        now = time.monotonic()
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

    def _draw_random_error(self, method: str) -> tuple[int, bool] | None:
        """(status, whether to perform the request first) for a random failure, or None."""
        if self.config.error_rate <= 0:
            return None
        with self._lock:
            if self._rng.random() >= self.config.error_rate:
                return None
            status = self._rng.choice(RANDOM_ERROR_STATUSES)
            # A 503 is refused at the door; the others may come after the server committed.
            committed = status != 503 and method in _WRITE_METHODS and self._rng.random() < 0.5
        return status, committed

    def _perform(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> _Answer:
        try:
            resource, item_id = _route(method, raw_path)
            if not self._authorized(headers):
                raise _ApiError(401, "Invalid API key or token")
            data = _parse_object(headers, body) if method == "POST" else {}
            with self._lock:
                payload = self._apply(method, resource, item_id, data)
        except _ApiError as exc:
            return _error(exc.status, exc.message)
        return _json_answer(200, payload)

    def _authorized(self, headers: dict[str, str]) -> bool:
        key = headers.get("apikey")
        token = headers.get("apitoken")
        if key is None or token is None:
            return False
        # Both comparisons always run, in constant time: an emulator teaches by example.
        key_ok = hmac.compare_digest(key.encode(), self.config.api_key.encode())
        token_ok = hmac.compare_digest(token.encode(), self.config.api_token.encode())
        return key_ok and token_ok

    # -- the API itself (called with self._lock held) -----------------------------------------

    def _apply(
        self, method: str, resource: str, item_id: str | None, data: dict[str, Any]
    ) -> dict[str, Any]:
        if resource == "events":
            return self._event(data)
        if resource == "rooms":
            if item_id is None:
                return self._create_room(data)
            room = self._rooms.get(item_id)
            if room is None:
                raise _ApiError(404, "Room not found")
            if method == "GET":
                members = [dict(p) for p in self._participants.values() if p["room_id"] == item_id]
                return {**room, "participants": members}
            if method == "POST":
                room.update(_room_changes(data, creating=False))
                return dict(room)
            del self._rooms[item_id]
            for participant_id in [
                pid for pid, p in self._participants.items() if p["room_id"] == item_id
            ]:
                del self._participants[participant_id]
            return dict(room)
        if item_id is None:
            return self._create_participant(data)
        participant = self._participants.get(item_id)
        if participant is None:
            raise _ApiError(404, "Participant not found")
        if method == "GET":
            return dict(participant)
        if method == "POST":
            changes = _participant_changes(data, creating=False)
            if "room_id" in changes and changes["room_id"] not in self._rooms:
                raise _ApiError(404, "Room not found")
            participant.update(changes)
            return dict(participant)
        del self._participants[item_id]
        return dict(participant)

    def _new_id(self) -> str:
        while True:
            candidate = "".join(self._id_rng.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))
            if candidate not in self._rooms and candidate not in self._participants:
                return candidate

    def _create_room(self, data: dict[str, Any]) -> dict[str, Any]:
        changes = _room_changes(data, creating=True)
        room = {
            "id": self._new_id(),
            "name": changes["name"],
            "color": changes.get("color", DEFAULT_COLOR),
            "created_at": _now(),
        }
        self._rooms[room["id"]] = room
        return dict(room)

    def _create_participant(self, data: dict[str, Any]) -> dict[str, Any]:
        changes = _participant_changes(data, creating=True)
        if changes["room_id"] not in self._rooms:
            raise _ApiError(404, "Room not found")
        participant = {
            "id": self._new_id(),
            "room_id": changes["room_id"],
            "username": changes["username"],
            "video_and_audio_on": changes.get("video_and_audio_on", True),
            "language": changes.get("language", DEFAULT_LANGUAGE),
            "created_at": _now(),
        }
        self._participants[participant["id"]] = participant
        return dict(participant)

    def _event(self, data: dict[str, Any]) -> dict[str, Any]:
        problems: list[str] = []
        room_event = data.get("room_event")
        if "room_event" not in data:
            problems.append(f"room_event is required (one of {', '.join(ROOM_EVENTS)})")
        elif room_event not in ROOM_EVENTS:
            problems.append(
                f"room_event must be one of {', '.join(ROOM_EVENTS)}, not {_show(room_event)}"
            )
        room_id = data.get("room_id")
        if "room_id" not in data:
            problems.append("room_id is required")
        elif not _is_text(room_id):
            problems.append(f"room_id must be a room id, not {_show(room_id)}")
        participant_id = data.get("participant_id")
        if participant_id is not None and not _is_text(participant_id):
            problems.append(f"participant_id must be a participant id, not {_show(participant_id)}")
        elif participant_id is None and room_event in ROOM_EVENTS[:2]:
            problems.append(f"participant_id is required for {room_event}")
        if problems:
            raise _ApiError(400, "; ".join(problems))

        if room_id not in self._rooms:
            raise _ApiError(404, "Room not found")
        if room_event == "mute-all":
            for participant in self._participants.values():
                if participant["room_id"] == room_id:
                    participant["video_and_audio_on"] = False
        else:
            target = self._participants.get(cast(str, participant_id))
            if target is None:
                raise _ApiError(404, "Participant not found")
            if target["room_id"] != room_id:
                raise _ApiError(402, "Participant is not in this room")
            target["video_and_audio_on"] = room_event == "activate-video-and-audio"
        answer = {"room_event": room_event, "room_id": room_id}
        if participant_id is not None:
            answer["participant_id"] = participant_id
        return answer

    # -- control endpoints --------------------------------------------------------------------

    def _handle_control(
        self, method: str, raw_path: str, body: bytes, body_error: str | None
    ) -> _Answer:
        if body_error is not None:
            return _error(400, body_error, close=True)
        path = "/" + "/".join(_split_target(raw_path)).rstrip("/")
        if path == "/_emulator/requests" and method == "GET":
            return _json_answer(200, [r.to_dict() for r in self.recorded()])
        if path == "/_emulator/requests" and method == "DELETE":
            self.clear_recorded()
            return _json_answer(200, {"cleared": True})
        if path == "/_emulator/faults" and method == "GET":
            return _json_answer(200, [f.to_dict() for f in self.pending_faults()])
        if path == "/_emulator/faults" and method == "DELETE":
            self.clear_faults()
            return _json_answer(200, {"cleared": True})
        if path == "/_emulator/faults" and method == "POST":
            return self._post_faults(body)
        if path == "/_emulator/state" and method == "GET":
            return _json_answer(200, self.state())
        if path == "/_emulator/reset" and method == "POST":
            self.reset()
            return _json_answer(200, {"reset": True})
        return _error(404, "Not found")

    def _post_faults(self, body: bytes) -> _Answer:
        try:
            data = json.loads(body.decode("utf-8"))
        except ValueError as exc:
            return _error(400, f"Request body is not valid JSON: {exc}")
        items = data if isinstance(data, list) else [data]
        faults: list[Fault] = []
        for index, item in enumerate(items):
            try:
                faults.append(Fault.from_dict(item))
            except ValueError as exc:
                return _error(400, f"fault {index}: {exc}")
        # All or nothing: a script that sent a bad list should not run with half of it.
        for fault in faults:
            self.add_fault(fault)
        return _json_answer(200, [f.to_dict() for f in faults])


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many concurrent clients (batch commands with --concurrency)

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (socket.getfqdn), which can stall
        # for seconds on machines without DNS; the name is never used here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up (timeouts, dropped connections, shutdown) are normal here.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer carries a Content-Length
    server_version = "vcctl-emulator"
    timeout = 120.0  # idle keep-alive connections are closed, as real front ends do
    # Headers and body go out in two writes; with Nagle's algorithm on, the second one waits
    # for the client's delayed ACK, which costs ~40 ms per request on a keep-alive connection.
    disable_nagle_algorithm = True

    def _emulator(self) -> Emulator:
        return cast(_Server, self.server).emulator

    def version_string(self) -> str:
        return self.server_version  # not the Python version: nobody needs to know

    def setup(self) -> None:
        super().setup()
        self._emulator()._track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self._emulator()._track(self.connection, open_=False)

    def log_message(self, format: str, *args: Any) -> None:
        if self._emulator().config.verbose:
            super().log_message(format, *args)

    def _raw_target(self) -> str:
        # self.path is not quite what was received: http.server collapses leading slashes
        # ("//api/v1/rooms" becomes "/api/v1/rooms"), and the real API would not do that.
        words = self.requestline.split()
        return words[1] if len(words) == 3 else self.path

    def _dispatch(self) -> None:
        emulator = self._emulator()
        body, body_error = self._read_body()
        target = self._raw_target()
        try:
            if _is_control(target):
                answer = emulator._handle_control(self.command, target, body, body_error)
            else:
                answer = emulator._handle_api(
                    self.command, target, list(self.headers.items()), body, body_error
                )
        except Exception as exc:
            # A bug in the emulator: answer it like a server would, and show it.
            traceback.print_exc(file=sys.stderr)
            answer = _error(500, f"emulator internal error: {exc!r}")
        self._write(answer)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_OPTIONS = _dispatch

    def _read_body(self) -> tuple[bytes, str | None]:
        """(body, None), or (b"", why the body could not be read)."""
        transfer_encoding = self.headers.get("Transfer-Encoding")
        if transfer_encoding is not None:
            if transfer_encoding.strip().lower() != "chunked":
                return b"", f"unsupported Transfer-Encoding: {transfer_encoding}"
            return self._read_chunked()
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            return b"", None
        try:
            length = int(length_header)
        except ValueError:
            length = -1
        if length < 0:
            return b"", f"invalid Content-Length: {length_header!r}"
        if length > MAX_BODY_BYTES:
            return b"", f"request body too large ({length} bytes)"
        return self.rfile.read(length), None

    def _read_chunked(self) -> tuple[bytes, str | None]:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(65537)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                return b"", "invalid chunked body"
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers, ignored
                return b"".join(chunks), None
            total += size
            if total > MAX_BODY_BYTES:
                return b"", "request body too large"
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _write(self, answer: _Answer) -> None:
        if answer.drop:
            # Nothing at all is written; the server closes the socket when the handler returns.
            self.close_connection = True
            return
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        has_body = answer.status >= 200 and answer.status not in (204, 304)
        if has_body:
            if answer.content_type is not None:
                self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
        if answer.close:
            self.send_header("Connection", "close")  # also sets self.close_connection
        self.end_headers()
        if has_body and self.command != "HEAD":
            self.wfile.write(answer.body)
