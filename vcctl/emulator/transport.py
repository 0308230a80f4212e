"""HTTP/1.1 over sockets: reads requests, hands them to a `Responder`, writes its `Answer`.

It knows nothing of the API: the emulator decides every answer. Keep-alive, chunked request
bodies, dropped connections and the closing of idle connections at shutdown live here.
"""

from __future__ import annotations

import http.server
import socket
import socketserver
import sys
import traceback
from typing import Any, Protocol, cast

from vcctl.emulator.answers import Answer, error_answer

MAX_BODY_BYTES = 10 * 1024 * 1024


class Responder(Protocol):
    """What the transport needs from the emulator."""

    verbose: bool

    def answer(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
        body_error: str | None,
    ) -> Answer: ...

    def track(self, connection: socket.socket, *, open_: bool) -> None: ...


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many concurrent clients (batch commands with --concurrency)

    def __init__(self, address: tuple[str, int], responder: Responder) -> None:
        self.responder = responder
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, Handler)

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


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer carries a Content-Length
    server_version = "vcctl-emulator"
    timeout = 120.0  # idle keep-alive connections are closed, as real front ends do
    # Headers and body go out in two writes; with Nagle's algorithm on, the second one waits
    # for the client's delayed ACK, which costs ~40 ms per request on a keep-alive connection.
    disable_nagle_algorithm = True

    def _responder(self) -> Responder:
        return cast(Server, self.server).responder

    def version_string(self) -> str:
        return self.server_version  # not the Python version: nobody needs to know

    def setup(self) -> None:
        super().setup()
        self._responder().track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self._responder().track(self.connection, open_=False)

    def log_message(self, format: str, *args: Any) -> None:
        if self._responder().verbose:
            super().log_message(format, *args)

    def _raw_target(self) -> str:
        # self.path is not quite what was received: http.server collapses leading slashes
        # ("//api/v1/rooms" becomes "/api/v1/rooms"), and the real API would not do that.
        words = self.requestline.split()
        return words[1] if len(words) == 3 else self.path

    def _dispatch(self) -> None:
        body, body_error = self._read_body()
        target = self._raw_target()
        try:
            answer = self._responder().answer(
                self.command, target, list(self.headers.items()), body, body_error
            )
        except Exception as exc:
            # A bug in the emulator: answer it like a server would, and show it.
            traceback.print_exc(file=sys.stderr)
            answer = error_answer(500, f"emulator internal error: {exc!r}")
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

    def _write(self, answer: Answer) -> None:
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
