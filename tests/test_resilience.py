"""Retries, timeouts, redirects and TLS end to end: the CLI against the emulator's faults.

Counts come from the emulator's recorded requests; waits are proven by the --debug lines, never
by the clock. Retry-After is kept at 0 or 1 so that the few real waits stay short.
"""

from __future__ import annotations

import http.server
import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import API_KEY, Result, Runner, run_in_process, run_in_pty, unused_port
from vcctl.emulator.server import Emulator, Fault

ROOMS = r"/api/v1/rooms$"


def run(env: dict[str, str], *args: str) -> Result:
    return run_in_process(list(args), env)


def answered(emulator: Emulator, method: str) -> list[int | str]:
    return [r.answered for r in emulator.recorded() if r.method == method]


def debug_lines(result: Result) -> list[str]:
    return [line[len("[debug] ") :] for line in result.stderr.splitlines() if "[debug] " in line]


def make_room(emulator: Emulator, env: dict[str, str]) -> str:
    created = run(env, "rooms", "create", "--name", "seed", "-q")
    assert created.code == 0, created
    emulator.clear_recorded()
    return created.stdout.strip()


# -- 429 and 5xx ----------------------------------------------------------------------------------


def test_a_429_is_waited_out_as_retry_after_says_then_the_create_succeeds(
    env: dict[str, str], emulator: Emulator
) -> None:
    emulator.add_fault(
        Fault("status", status=429, method="POST", path_regex=ROOMS, retry_after="1")
    )
    result = run(env, "rooms", "create", "--name", "Patient", "--json", "--debug")
    assert result.code == 0, result
    assert json.loads(result.stdout)["name"] == "Patient"
    assert answered(emulator, "POST") == [429, 200]
    assert [room["name"] for room in emulator.state()["rooms"]] == ["Patient"]
    lines = debug_lines(result)
    assert "< 429 Too Many Requests" in " ".join(lines)
    assert "< Retry-After: 1" in lines
    # The wait the client took is Retry-After's, not its own backoff; a 429 is an attempt.
    [wait] = [line for line in lines if line.startswith("  HTTP 429: retrying in ")]
    assert wait.startswith("  HTTP 429: retrying in 1.00 s, every worker waiting ")
    assert "(attempt 1/5; 0 s of the 120 s allowed spent)" in wait
    assert f"> POST {emulator.base_url}/api/v1/rooms (attempt 2/5, after 1 rate-limited)" in lines


def test_a_get_answered_503_twice_is_retried_and_succeeds(
    env: dict[str, str], emulator: Emulator
) -> None:
    room_id = make_room(emulator, env)
    emulator.add_fault(Fault("status", status=503, method="GET", times=2))
    result = run(env, "rooms", "get", room_id, "--json", "--debug")
    assert result.code == 0, result
    assert json.loads(result.stdout)["id"] == room_id
    assert answered(emulator, "GET") == [503, 503, 200]
    retries = [line for line in debug_lines(result) if "retrying in" in line]
    assert len(retries) == 2
    assert retries[0].startswith("  HTTP 503: retrying in ")


@pytest.mark.parametrize("committed", [False, True], ids=["refused", "committed"])
def test_a_500_is_retried_for_gets_updates_deletes_and_events(
    env: dict[str, str], emulator: Emulator, committed: bool
) -> None:
    room_id = make_room(emulator, env)
    ada = run(env, "participants", "create", "--room", room_id, "--username", "Ada", "-q")
    ada_id = ada.stdout.strip()
    commands = [
        ("GET", ["rooms", "get", room_id, "--json"], 200),
        ("POST", ["rooms", "update", room_id, "--name", "Renamed", "--json"], 200),
        ("POST", ["events", "mute-all", "--room", room_id], 200),
        # A DELETE the server carried out before its 500: the retry's 404 means it is done.
        ("DELETE", ["participants", "delete", ada_id, "--yes"], 404 if committed else 200),
    ]
    for method, args, then in commands:
        emulator.clear_recorded()
        emulator.add_fault(Fault("status", status=500, method=method, apply=committed))
        result = run(env, *args, "--max-attempts", "2")
        assert result.code == 0, (args, result)
        assert "error" not in result.stderr, (args, result)
        assert answered(emulator, method) == [500, then], args
    assert emulator.state()["rooms"][0]["name"] == "Renamed"
    assert emulator.state()["participants"] == []


@pytest.mark.parametrize("committed", [False, True], ids=["refused", "committed"])
@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_create_answered_500_502_or_504_is_sent_exactly_once(
    env: dict[str, str], emulator: Emulator, status: int, committed: bool
) -> None:
    emulator.add_fault(
        Fault("status", status=status, method="POST", path_regex=ROOMS, apply=committed, times=3)
    )
    result = run(env, "rooms", "create", "--name", "Once")
    assert result.code == 8, result
    assert answered(emulator, "POST") == [status]
    assert result.stderr.startswith(f"vcctl: error: HTTP {status} ")
    assert "hint: not retried: the request may have been carried out" in result.stderr
    assert len(emulator.state()["rooms"]) == (1 if committed else 0)
    assert result.stdout == ""


def test_a_create_answered_503_is_retried(env: dict[str, str], emulator: Emulator) -> None:
    emulator.add_fault(Fault("status", status=503, method="POST", path_regex=ROOMS))
    result = run(env, "rooms", "create", "--name", "Again", "-q")
    assert result.code == 0, result
    assert answered(emulator, "POST") == [503, 200]
    assert [room["id"] for room in emulator.state()["rooms"]] == [result.stdout.strip()]


@pytest.mark.parametrize(
    ("status", "code", "attempts", "args"),
    [
        (503, 8, 5, []),
        (502, 8, 3, ["--max-attempts", "3"]),
    ],
)
def test_a_persistent_fault_stops_after_the_allowed_attempts_with_its_exit_code(
    vcctl: Runner,
    emulator: Emulator,
    env: dict[str, str],
    status: int,
    code: int,
    attempts: int,
    args: list[str],
) -> None:
    room_id = make_room(emulator, env)
    emulator.add_fault(Fault("status", status=status, times=50, retry_after="0"))
    # One case as a real process, for the real exit status; the others in process.
    if status == 503:
        result = vcctl("rooms", "get", room_id, *args)
    else:
        result = run(env, "rooms", "get", room_id, *args)
    assert result.code == code, result
    assert answered(emulator, "GET") == [status] * attempts
    assert result.stderr.startswith(f"vcctl: error: HTTP {status} ")
    assert "Traceback" not in result.stderr


def test_a_429_counts_as_an_attempt(env: dict[str, str], emulator: Emulator) -> None:
    room_id = make_room(emulator, env)
    emulator.add_fault(Fault("status", status=429, times=4, retry_after="0"))
    result = run(env, "rooms", "get", room_id, "--json")
    assert result.code == 0, result
    assert answered(emulator, "GET") == [429] * 4 + [200]
    assert json.loads(result.stdout)["id"] == room_id
    emulator.clear_recorded()
    emulator.add_fault(Fault("status", status=429, times=7, retry_after="0"))
    limited = run(env, "rooms", "get", room_id, "--max-attempts", "2", "--json")
    assert limited.code == 7, limited
    assert answered(emulator, "GET") == [429] * 2
    assert json.loads(limited.stderr)["error"]["status"] == 429


def test_an_api_that_always_answers_429_now_fails_after_five_attempts(
    env: dict[str, str], emulator: Emulator
) -> None:
    emulator.add_fault(Fault("status", status=429, times=1000, retry_after="0"))
    result = run(env, "rooms", "create", "--name", "Never", "--json")
    assert result.code == 7, result
    assert answered(emulator, "POST") == [429] * 5
    assert result.stdout == ""


def test_a_429_past_the_wait_budget_fails_with_exit_7(
    env: dict[str, str], emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    room_id = make_room(emulator, env)
    # 1.5 s of waiting allowed: the first Retry-After: 1 fits, the second would end past it.
    monkeypatch.setattr("vcctl.http.limiter.RATE_LIMIT_BUDGET", 1.5)
    emulator.add_fault(Fault("status", status=429, times=50, retry_after="1"))
    result = run(env, "rooms", "get", room_id)
    assert result.code == 7, result
    assert answered(emulator, "GET") == [429, 429]
    assert result.stderr.startswith("vcctl: error: HTTP 429 ")
    assert result.stdout == ""


def test_max_attempts_comes_from_the_environment_too(
    env: dict[str, str], emulator: Emulator
) -> None:
    emulator.add_fault(Fault("status", status=503, times=50, retry_after="0"))
    result = run({**env, "VCCTL_MAX_ATTEMPTS": "2"}, "rooms", "get", "abcdef", "--debug")
    assert result.code == 8, result
    assert answered(emulator, "GET") == [503, 503]
    assert "  HTTP 503: retrying in 0.00 s (attempt 2/2)" in debug_lines(result)


# -- timeouts and dropped connections -------------------------------------------------------------


def test_a_read_timeout_on_a_create_is_not_retried(
    vcctl: Runner, env: dict[str, str], emulator: Emulator
) -> None:
    emulator.add_fault(Fault("delay", delay_ms=3000, method="POST", path_regex=ROOMS))
    # --timeout beats VCCTL_TIMEOUT: with 30 s this would wait for the answer.
    result = vcctl(
        "rooms", "create", "--name", "Slow", "--timeout", "0.3", env={**env, "VCCTL_TIMEOUT": "30"}
    )
    assert result.code == 9, result
    assert f"vcctl: error: no answer from {emulator.base_url} within 0.3 s" in result.stderr
    assert "may have reached the API and been carried out" in result.stderr
    assert len([r for r in emulator.recorded() if r.method == "POST"]) == 1


def test_a_read_timeout_on_a_get_is_retried(env: dict[str, str], emulator: Emulator) -> None:
    room_id = make_room(emulator, env)
    emulator.add_fault(Fault("delay", delay_ms=3000, method="GET"))
    result = run({**env, "VCCTL_TIMEOUT": "0.3"}, "rooms", "get", room_id, "--debug", "--json")
    assert result.code == 0, result
    assert json.loads(result.stdout)["id"] == room_id
    assert len(answered(emulator, "GET")) == 2
    assert any(
        line.startswith("< no answer: no answer from") and "within 0.3 s" in line
        for line in debug_lines(result)
    )


def test_a_dropped_connection_is_retried_for_a_get(env: dict[str, str], emulator: Emulator) -> None:
    room_id = make_room(emulator, env)
    emulator.add_fault(Fault("drop", method="GET"))
    result = run(env, "rooms", "get", room_id, "--json")
    assert result.code == 0, result
    assert answered(emulator, "GET") == ["drop", 200]


def test_a_dropped_connection_is_not_retried_for_a_create(
    env: dict[str, str], emulator: Emulator
) -> None:
    emulator.add_fault(Fault("drop", method="POST", path_regex=ROOMS, apply=True, times=3))
    result = run(env, "rooms", "create", "--name", "Dropped")
    assert result.code == 9, result
    assert "vcctl: error: connection lost to" in result.stderr
    assert "hint: the request may have reached the API and been carried out" in result.stderr
    assert answered(emulator, "POST") == ["drop"]
    assert len(emulator.state()["rooms"]) == 1  # it was: a retry would have made two


def test_a_delete_whose_answer_was_lost_and_whose_retry_says_404_succeeded(
    env: dict[str, str], emulator: Emulator
) -> None:
    room_id = make_room(emulator, env)
    emulator.add_fault(Fault("drop", method="DELETE", apply=True))
    result = run(env, "rooms", "delete", room_id, "--yes")
    assert result.code == 0, result
    assert answered(emulator, "DELETE") == ["drop", 404]
    assert emulator.state()["rooms"] == []


def test_an_unreachable_api_is_exit_9_after_bounded_attempts(env: dict[str, str]) -> None:
    down = {**env, "VCCTL_BASE_URL": f"http://127.0.0.1:{unused_port()}"}
    result = run(down, "rooms", "create", "--name", "x", "--max-attempts", "2", "--debug")
    assert result.code == 9, result
    assert "vcctl: error: cannot connect to http://127.0.0.1:" in result.stderr
    requests_sent = [line for line in debug_lines(result) if line.startswith("> POST ")]
    # A connect failure provably never reached a server: even a create is retried.
    assert [line.rsplit(" ", 1)[1] for line in requests_sent] == ["1/2)", "2/2)"]


# -- answers that are not the API's JSON ----------------------------------------------------------


def test_an_html_502_page_is_a_short_error_with_status_and_first_bytes(
    env: dict[str, str], emulator: Emulator
) -> None:
    emulator.add_fault(Fault("html", status=502, times=10, retry_after="0"))
    result = run(env, "rooms", "get", "abcdef")
    assert result.code == 8, result
    first_line = result.stderr.splitlines()[0]
    assert first_line.startswith(
        "vcctl: error: HTTP 502 Bad Gateway: <html> <head><title>502 Bad Gateway</title>"
    )
    assert len(first_line) < 300
    assert "Traceback" not in result.stderr
    assert answered(emulator, "GET") == [502] * 5


def test_an_html_page_with_200_is_exit_9(env: dict[str, str], emulator: Emulator) -> None:
    emulator.add_fault(Fault("html", status=200))
    result = run(env, "rooms", "get", "abcdef", "--json")
    assert result.code == 9, result
    error = json.loads(result.stderr)["error"]
    assert error["status"] == 200
    assert error["message"].startswith("HTTP 200: the API's answer is not valid JSON: <html>")


def test_an_empty_answer_to_a_get_is_exit_9(env: dict[str, str], emulator: Emulator) -> None:
    emulator.add_fault(Fault("empty", status=200))
    result = run(env, "rooms", "get", "abcdef")
    assert result.code == 9, result
    assert "empty body where JSON was expected" in result.stderr


# -- redirects and TLS: credentials go to the API's origin only -----------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class RecordingServer:
    """A tiny HTTP(S) server that records every request and answers 404 JSON."""

    tls: ssl.SSLContext | None = None
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        seen = self.seen

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(Seen(self.command, self.path, dict(self.headers.items())))
                body = b'{"error": "Room not found"}'
                self.send_response(404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_DELETE = do_GET

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def origin(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def elsewhere() -> Iterator[RecordingServer]:
    server = RecordingServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("status", [301, 307])
def test_a_redirect_to_another_origin_is_refused_and_sends_it_nothing(
    env: dict[str, str], emulator: Emulator, elsewhere: RecordingServer, status: int
) -> None:
    emulator.add_fault(
        Fault("redirect", status=status, location=f"{elsewhere.origin}/fr/api/v1/rooms/abcdef")
    )
    result = run(env, "rooms", "get", "abcdef")
    assert result.code == 9, result
    assert f"the API redirected to {elsewhere.origin}, another host, scheme or port" in (
        result.stderr
    )
    assert elsewhere.seen == []
    assert answered(emulator, "GET") == [status]  # and not retried


def test_a_redirect_to_localhost_is_another_host(
    env: dict[str, str], emulator: Emulator, elsewhere: RecordingServer
) -> None:
    # Same machine, different name: the credentials stay where they were sent.
    port = emulator.base_url.rsplit(":", 1)[1]
    emulator.add_fault(Fault("redirect", location=f"http://localhost:{port}/fr/api/v1/rooms/x"))
    result = run(env, "participants", "get", "abcdef")
    assert result.code == 9, result
    assert answered(emulator, "GET") == [307]


def test_a_same_origin_redirect_is_followed_with_the_credentials(
    env: dict[str, str], emulator: Emulator
) -> None:
    room_id = make_room(emulator, env)
    emulator.add_fault(Fault("redirect", status=308, location=f"/en/api/v1/rooms/{room_id}"))
    result = run(env, "rooms", "get", room_id, "--json")
    assert result.code == 0, result
    assert [(r.path, r.answered) for r in emulator.recorded()] == [
        (f"/fr/api/v1/rooms/{room_id}", 308),
        (f"/en/api/v1/rooms/{room_id}", 200),
    ]
    assert all(r.headers["apiKey"] == API_KEY for r in emulator.recorded())


def test_plain_http_to_a_remote_host_is_refused_before_sending(env: dict[str, str]) -> None:
    result = run(env, "rooms", "get", "abcdef", "--base-url", "http://api.example.com")
    assert result.code == 2, result
    assert "refusing to send credentials over plain http to api.example.com" in result.stderr
    assert "--insecure-http" in result.stderr


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=vcctl",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[RecordingServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server = RecordingServer(tls=context)
    try:
        yield server
    finally:
        server.stop()


def test_tls_certificates_are_verified_and_ca_bundle_trusts_a_private_ca(
    env: dict[str, str], tls_server: RecordingServer, certificate: tuple[Path, Path]
) -> None:
    untrusted = run(env, "rooms", "get", "abcdef", "--base-url", tls_server.origin)
    assert untrusted.code == 9, untrusted
    assert f"vcctl: error: TLS failure talking to {tls_server.origin}" in untrusted.stderr
    assert "hint: use --ca-bundle" in untrusted.stderr
    assert tls_server.seen == []  # the handshake failed: no request, no credentials
    cert = str(certificate[0])
    trusted = run(
        env, "rooms", "get", "abcdef", "--base-url", tls_server.origin, "--ca-bundle", cert
    )
    assert trusted.code == 6, trusted
    from_env = run(
        {**env, "REQUESTS_CA_BUNDLE": cert},
        "rooms",
        "get",
        "abcdef",
        "--base-url",
        tls_server.origin,
    )
    assert from_env.code == 6, from_env
    assert [s.headers["apiKey"] for s in tls_server.seen] == [API_KEY, API_KEY]


def test_a_missing_ca_bundle_is_a_configuration_error(env: dict[str, str]) -> None:
    result = run(env, "rooms", "get", "abcdef", "--ca-bundle", "/nonexistent/ca.pem")
    assert result.code == 2, result
    assert "CA bundle /nonexistent/ca.pem does not exist" in result.stderr


def test_a_long_wait_is_announced_on_a_terminal_only(
    env: dict[str, str], emulator: Emulator
) -> None:
    emulator.add_fault(Fault("status", status=429, retry_after="1", times=1))
    on_terminal = run_in_pty(["rooms", "create", "--name", "x", "-q"], env)
    assert on_terminal.code == 0, on_terminal
    # One line per shared pause, from the rate limiter (not one per retry). A lone 429 sets no
    # pace: it could be one of a share refused whatever the rate.
    assert "vcctl: rate limited — waiting 1 s\r\n" in on_terminal.stdout
    assert "sending at" not in on_terminal.stdout
    emulator.add_fault(Fault("status", status=429, retry_after="1", times=1))
    in_a_script = run_in_process(["rooms", "create", "--name", "y", "-q"], env)
    assert in_a_script.code == 0, in_a_script
    assert in_a_script.stderr == ""
