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
    POST                /api/v1/events                send an event to a room

The pieces: `store` (the API's rules, no socket), `routes` (the route table), `rules` (field
validation), `faults` (scripted misbehaviour), `chaos` (latency, random errors, rate limit),
`recording` (the request log), `control` (the /_emulator/ endpoints), `transport` (HTTP).

Each API request goes through, in order: recording; `latency_ms`; the first pending scripted
`Fault` that matches; the share refused whatever the rate (`refuse_share`); the rate limit;
random 5xx errors (`error_rate`); the normal behaviour.
Errors answer `{"error": "<message>"}` with 400, 401, 402, 404, 429 (rate limit) or 5xx.

Control endpoints (see `vcctl.emulator.control`), for example::

    curl -X POST http://127.0.0.1:8080/_emulator/faults \\
         -d '{"action": "status", "status": 503, "retry_after": "2", "times": 3}'
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from vcctl.emulator.answers import Answer, error_answer, json_answer, phrase
from vcctl.emulator.chaos import RandomErrors, ShareRefusals, WindowRateLimit
from vcctl.emulator.control import handle_control
from vcctl.emulator.faults import Fault, FaultQueue, fault_answer
from vcctl.emulator.recording import DEFAULT_MAX_RECORDED, RecordedRequest, RequestLog
from vcctl.emulator.routes import is_control
from vcctl.emulator.store import ApiStore
from vcctl.emulator.transport import Server
from vcctl.text import is_loopback

__all__ = ["Emulator", "EmulatorConfig", "Fault", "RecordedRequest"]


@dataclass
class EmulatorConfig:
    """How an emulator listens and misbehaves."""

    host: str = "127.0.0.1"
    port: int = 0  # 0 = pick a free port
    api_key: str = "emulator-api-key"
    api_token: str = "emulator-api-token"
    latency_ms: float = 0.0  # added before every API answer
    error_rate: float = 0.0  # probability of a random 500/502/503/504
    rate_limit: float = 0.0  # requests per second per API key, beyond -> 429; 0 = unlimited
    rate_limit_burst: int = 0  # requests allowed at once before the rate applies; 0 = rate
    # A share of requests answered 429 whatever the rate (a quota shared with other clients),
    # with this Retry-After in seconds.
    refuse_share: float = 0.0
    refuse_retry_after: float = 1.0
    seed: int | None = None  # makes random errors and ids reproducible
    verbose: bool = False  # log every request to stderr, like http.server does
    max_recorded: int = DEFAULT_MAX_RECORDED  # the request log keeps the last N requests
    # The control endpoints can reset state and read the request log: served on loopback only,
    # unless asked for explicitly.
    allow_remote_control: bool = False


class Emulator:
    """The Video Connect API in memory, served over HTTP/1.1 on `config.host`."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config if config is not None else EmulatorConfig()
        self.verbose = self.config.verbose
        self.store = ApiStore(self.config.api_key, self.config.api_token, self.config.seed)
        self.faults = FaultQueue()
        self.log = RequestLog(self.config.max_recorded)
        self.random_errors = RandomErrors(self.config.error_rate, self.config.seed)
        self.rate_limiter = WindowRateLimit(self.config.rate_limit, self.config.rate_limit_burst)
        self.share_refusals = ShareRefusals(
            self.config.refuse_share, self.config.refuse_retry_after, self.config.seed
        )
        self._connections_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        # Life cycle, under its own lock so that shutdown() never waits for a request.
        self._life_lock = threading.Lock()
        self._server: Server | None = None
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

    @property
    def local_url(self) -> str:
        """The URL to reach the emulator from this machine: loopback when bound to every address.

        vcctl sends credentials over plain http to loopback only, so `0.0.0.0` and `::` are
        given as 127.0.0.1 and ::1.
        """
        url = self.base_url
        for wildcard, loopback in (("//0.0.0.0:", "//127.0.0.1:"), ("//[::]:", "//[::1]:")):
            if wildcard in url:
                return url.replace(wildcard, loopback, 1)
        return url

    @property
    def control_enabled(self) -> bool:
        """Whether /_emulator/ answers: on a loopback host, or when allowed explicitly."""
        return self.config.allow_remote_control or is_loopback(self.config.host)

    def bind(self) -> Emulator:
        """Bind the socket (so that base_url is known) without serving yet; returns self."""
        with self._life_lock:
            if self._stopping.is_set():
                raise RuntimeError("this emulator was shut down; create a new one")
            if self._server is None:
                server = Server((self.config.host, self.config.port), self)
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
    def _accept(server: Server) -> None:
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
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            # Wakes the handler threads blocked on idle keep-alive connections.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        """Note a connection opened or closed, so that shutdown can close the idle ones."""
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    # -- inspection and scripting -------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the recorded API requests, oldest first (same as recorded())."""
        return self.recorded()

    def recorded(self) -> list[RecordedRequest]:
        """A snapshot (copies) of the recorded API requests, oldest first."""
        return self.log.snapshot()

    def clear_recorded(self) -> None:
        self.log.clear()

    def add_fault(self, fault: Fault) -> None:
        """Queue a fault; faults are tried in the order they were added."""
        self.faults.add(fault)

    def pending_faults(self) -> list[Fault]:
        return self.faults.pending()

    def clear_faults(self) -> None:
        self.faults.clear()

    def state(self) -> dict[str, Any]:
        """{"rooms": [...], "participants": [...]}, in creation order (copies)."""
        return self.store.state()

    def reset(self) -> None:
        """Back to a fresh emulator: no rooms, participants, faults or records."""
        self.store.reset(self.config.seed)
        self.faults.clear()
        self.log.clear()
        self.random_errors.reset(self.config.seed)
        self.rate_limiter.reset()
        self.share_refusals.reset(self.config.seed)

    # -- request pipeline ---------------------------------------------------------------------

    def answer(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
        body_error: str | None,
    ) -> Answer:
        """The answer to one request as received (the transport calls this)."""
        if is_control(target):
            if not self.control_enabled:
                return error_answer(
                    403, "control endpoints are off on a non-loopback host (--allow-remote-control)"
                )
            return handle_control(self, method, target, body, body_error)
        record = RecordedRequest(
            method=method,
            path=target,
            headers=dict(headers),
            body=body.decode("utf-8", errors="replace"),
        )
        self.log.add(record)
        answer = self._pipeline(method, target, headers, body, body_error)
        # Set before the answer is written, so a client that got its answer sees it recorded.
        status: int | Literal["drop"] = "drop" if answer.drop else answer.status
        self.log.answered(record, status, answer.header("Retry-After"))
        return answer

    def _pipeline(
        self,
        method: str,
        raw_path: str,
        raw_headers: list[tuple[str, str]],
        body: bytes,
        body_error: str | None,
    ) -> Answer:
        if body_error is not None:
            # The body's framing is unknown, so nothing else on this connection can be trusted.
            return error_answer(400, body_error, close=True)
        headers: dict[str, str] = {}
        for name, value in raw_headers:
            headers.setdefault(name.lower(), value)  # the first of repeated headers wins
        self._pause(self.config.latency_ms)

        fault = self.faults.take(method, raw_path)
        if fault is not None:
            if fault.action == "delay":
                self._pause(fault.delay_ms)
            else:
                if fault.apply:
                    self.store.handle(method, raw_path, headers, body)
                return fault_answer(fault)

        refused = self.share_refusals.draw()
        if refused is not None:
            # Before the window: a request the shared quota refused does not count in it.
            return json_answer(
                429, {"error": "Too many requests"}, headers=[("Retry-After", refused)]
            )

        retry_after = self.rate_limiter.admit(headers.get("apikey", ""))
        if retry_after is not None:
            return json_answer(
                429, {"error": "Too many requests"}, headers=[("Retry-After", str(retry_after))]
            )

        drawn = self.random_errors.draw(method)
        if drawn is not None:
            status, perform_first = drawn
            if perform_first:
                self.store.handle(method, raw_path, headers, body)
            return error_answer(status, phrase(status))

        return self.store.handle(method, raw_path, headers, body)

    def _pause(self, milliseconds: float) -> None:
        if milliseconds > 0:
            # An Event rather than time.sleep, so that shutdown() cuts every delay short.
            self._stopping.wait(milliseconds / 1000.0)
