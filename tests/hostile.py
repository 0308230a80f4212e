"""Hostile HTTP servers for the tests: answers no real API gives, over real HTTP on 127.0.0.1.

`HostileServer(behaviour)` serves every request with `behaviour(handler)`, where `handler` is the
`http.server` request handler (write raw bytes with `handler.wfile`). The behaviours below cover
endless bodies, gzip bombs, trickles, bad redirects, deep JSON and scripted answers. A server stops
on `close()` (or leaving its `with` block): every endless or slow behaviour watches `stopping`, so
nothing outlives the test.
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

Behaviour = Callable[["Handler"], None]


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.received.append(Received(self.command, self.path, dict(self.headers.items())))
        # OSError: the client hung up, as expected of most behaviours.
        with contextlib.suppress(OSError):
            self.server.behaviour(self)
        self.close_connection = True

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def stopping(self) -> threading.Event:
        return self.server.stopping

    def head(self, status: int, headers: Sequence[tuple[str, str]] = ()) -> None:
        """Status line and headers (plus Connection: close), no body yet."""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()

    def answer(self, status: int, body: bytes, headers: Sequence[tuple[str, str]] = ()) -> None:
        self.head(status, [("Content-Length", str(len(body))), *headers])
        self.wfile.write(body)
        self.wfile.flush()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.stopping = threading.Event()
        self.received: list[Received] = []
        super().__init__(("127.0.0.1", 0), Handler)

    def server_bind(self) -> None:
        import socketserver

        socketserver.TCPServer.server_bind(self)  # no reverse DNS lookup


@dataclass
class HostileServer:
    behaviour: Behaviour
    _server: Server = field(init=False)
    _thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self._server = Server(self.behaviour)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def received(self) -> list[Received]:
        return self._server.received

    def close(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- behaviours -----------------------------------------------------------------------------------


def endless_body(handler: Handler) -> None:
    """200, JSON, no length: `[0,0,0,...` until the client hangs up or the server stops."""
    handler.head(200, [("Content-Type", "application/json")])
    handler.wfile.write(b"[")
    chunk = b"0," * 32768
    while not handler.stopping.is_set():
        handler.wfile.write(chunk)


def gzip_bomb(members: int, member_size: int = 1 << 20) -> Behaviour:
    """200 with Content-Encoding gzip: `members` gzip members of `member_size` zero digits
    each (1 MiB compresses to about 1 KiB, so 4096 members are ~4 MiB that expand to 4 GiB)."""
    member = gzip.compress(b"0" * member_size, compresslevel=9)

    def behaviour(handler: Handler) -> None:
        handler.head(
            200,
            [
                ("Content-Type", "application/json"),
                ("Content-Encoding", "gzip"),
                ("Content-Length", str(len(member) * members)),
            ],
        )
        for _ in range(members):
            if handler.stopping.is_set():
                return
            handler.wfile.write(member)

    return behaviour


def trickle(body: bytes = b'{"id": "abcdef"}', *, headers_too: bool = False) -> Behaviour:
    """One byte a second: of the body (headers sent at once), or of the whole answer."""

    def behaviour(handler: Handler) -> None:
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        if headers_too:
            data = head + body
        else:
            handler.wfile.write(head)
            handler.wfile.flush()
            data = body
        for index in range(len(data)):
            handler.wfile.write(data[index : index + 1])
            handler.wfile.flush()
            # The server's pace, not a test's synchronisation: stops at once on close().
            if handler.stopping.wait(1.0):
                return

    return behaviour


def redirect(location: str, status: int = 302) -> Behaviour:
    def behaviour(handler: Handler) -> None:
        handler.answer(status, b"", [("Location", location)])

    return behaviour


def json_text(text: str | bytes, status: int = 200, **headers: str) -> Behaviour:
    """The same answer to every request: `text` as the JSON body, and extra headers."""
    body = text.encode() if isinstance(text, str) else text
    extra = list({"Content-Type": "application/json", **headers}.items())

    def behaviour(handler: Handler) -> None:
        handler.answer(status, body, extra)

    return behaviour


def deep_json(depth: int = 100_000) -> Behaviour:
    return json_text("[" * depth + "]" * depth)


def scripted(*answers: Behaviour) -> Behaviour:
    """The first request gets the first answer, the second the second...; the last repeats."""
    lock = threading.Lock()
    pending: Iterator[Behaviour] = iter(answers)
    last: list[Behaviour] = [answers[-1]]

    def behaviour(handler: Handler) -> None:
        with lock:
            chosen = next(pending, last[0])
        chosen(handler)

    return behaviour
