"""The HTTP core in isolation: retry rules per call kind, waits, redirects, failures.

The only module where HTTP is faked: a requests transport adapter plays scripted answers and
exceptions, and the client's sleep is recorded instead of slept. Everything above the adapter
(the client's own code and requests' session) is real. test_resilience.py proves the same rules
end to end against the emulator.
"""

from __future__ import annotations

import io
import json
import random
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.client import RemoteDisconnected
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from vcctl.errors import (
    BadRequestError,
    InvalidResponseError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    RequestFailedError,
    ServerError,
    UnauthorizedError,
    VcctlError,
)
from vcctl.http.client import Client
from vcctl.http.deadline import Deadline
from vcctl.http.hints import api_message
from vcctl.http.retry import BACKOFF_BASE, BACKOFF_CAP, RETRY_AFTER_CAP, CallKind, parse_retry_after

BASE = "https://api.example"
KEY = "unit-key-abcdefgh1234"
TOKEN = "unit-token-ijklmnop5678"
KINDS: tuple[CallKind, ...] = ("read", "create", "update", "delete", "event")
METHOD = {"read": "GET", "create": "POST", "update": "POST", "delete": "DELETE", "event": "POST"}


@dataclass
class Answer:
    status: int = 200
    body: bytes | dict[str, Any] | str = b"{}"
    headers: dict[str, str] = field(default_factory=dict)


Step = Answer | BaseException


@dataclass
class Sent:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None
    options: dict[str, Any]


class ScriptedAdapter(BaseAdapter):
    """Plays one step per request: an Answer, or an exception the transport raises."""

    def __init__(self, steps: list[Step]) -> None:
        super().__init__()
        self.steps = list(steps)
        self.sent: list[Sent] = []

    def send(self, request: requests.PreparedRequest, **options: Any) -> requests.Response:  # type: ignore[override]
        body = request.body
        self.sent.append(
            Sent(
                str(request.method),
                str(request.url),
                dict(request.headers),
                body.encode() if isinstance(body, str) else body,
                options,
            )
        )
        assert self.steps, f"unexpected request {request.method} {request.url}"
        step = self.steps.pop(0)
        if isinstance(step, BaseException):
            raise step
        response = requests.Response()
        response.status_code = step.status
        response.headers = CaseInsensitiveDict(step.headers)
        if isinstance(step.body, dict):
            content = json.dumps(step.body).encode()
        elif isinstance(step.body, str):
            content = step.body.encode()
        else:
            content = step.body
        response.raw = io.BytesIO(content)  # the client streams the body
        response.url = str(request.url)
        response.request = request
        return response

    def close(self) -> None:
        pass


@dataclass
class Rig:
    client: Client
    adapter: ScriptedAdapter
    sleeps: list[float]
    debug: list[str]


def rig(steps: list[Step], *, max_attempts: int = 5, timeout: float = 30.0, **kw: Any) -> Rig:
    sleeps: list[float] = []
    debug: list[str] = []
    client = Client(
        base_url=BASE,
        api_key=KEY,
        api_token=TOKEN,
        timeout=timeout,
        max_attempts=max_attempts,
        debug=debug.append,
        sleep=sleeps.append,
        rng=random.Random(7),
        **kw,
    )
    adapter = ScriptedAdapter(steps)
    session = client._session_obj()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return Rig(client, adapter, sleeps, debug)


def call(r: Rig, kind: CallKind, **kw: Any) -> Any:
    body = {"name": "x"} if METHOD[kind] == "POST" else None
    return r.client.request(METHOD[kind], "/fr/api/v1/rooms/abc", body=body, kind=kind, **kw)


def connect_refused() -> requests.exceptions.ConnectionError:
    refused = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] refused")  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(MaxRetryError(None, BASE, refused))  # type: ignore[arg-type]


def connection_dropped() -> requests.exceptions.ConnectionError:
    dropped = RemoteDisconnected("Remote end closed connection without response")
    return requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", dropped))


# -- which answers are retried, per kind ----------------------------------------------------------

RETRIED: dict[int, set[str]] = {
    # status -> kinds retried (docs/design.md, "Retries")
    429: set(KINDS),
    503: set(KINDS),
    500: {"read", "update", "delete", "event"},
    502: {"read", "update", "delete", "event"},
    504: {"read", "update", "delete", "event"},
}
EXIT = {429: 7, 500: 8, 502: 8, 503: 8, 504: 8}


@pytest.mark.parametrize("status", sorted(RETRIED))
@pytest.mark.parametrize("kind", KINDS)
def test_a_persistent_error_status_is_retried_only_when_safe(kind: CallKind, status: int) -> None:
    r = rig([Answer(status, {"error": "busy"})] * 5)
    with pytest.raises(VcctlError) as caught:
        call(r, kind)
    expected_attempts = 5 if kind in RETRIED[status] else 1
    assert len(r.adapter.sent) == expected_attempts
    assert len(r.sleeps) == expected_attempts - 1
    assert caught.value.exit_code == EXIT[status]
    assert caught.value.status == status
    assert caught.value.message.startswith(f"HTTP {status} ")
    if kind == "create" and status in (500, 502, 504):
        assert caught.value.hint is not None
        assert "may have been carried out" in caught.value.hint


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_a_passing_error_is_retried_until_success(status: int) -> None:
    kind: CallKind = "read"
    r = rig([Answer(status), Answer(status), Answer(200, {"id": "abc"})])
    assert call(r, kind) == {"id": "abc"}
    assert len(r.adapter.sent) == 3
    assert len(r.sleeps) == 2


@pytest.mark.parametrize(
    ("failure", "retried_kinds", "needle"),
    [
        (connect_refused, set(KINDS), "cannot connect to https://api.example"),
        (requests.exceptions.ConnectTimeout, set(KINDS), "timed out connecting"),
        (connection_dropped, {"read", "update", "delete", "event"}, "connection lost"),
        (requests.exceptions.ReadTimeout, {"read", "update", "delete", "event"}, "no answer"),
        (
            requests.exceptions.ChunkedEncodingError,
            {"read", "update", "delete", "event"},
            "connection lost during the answer",
        ),
        (requests.exceptions.SSLError, set(), "TLS failure"),
    ],
    ids=["refused", "connect-timeout", "dropped", "read-timeout", "truncated", "tls"],
)
@pytest.mark.parametrize("kind", KINDS)
def test_transport_failures_are_retried_only_when_the_request_cannot_have_been_applied(
    kind: CallKind, failure: Any, retried_kinds: set[str], needle: str
) -> None:
    r = rig([failure() for _ in range(5)])
    with pytest.raises(NetworkError) as caught:
        call(r, kind)
    assert caught.value.exit_code == 9
    assert needle in caught.value.message
    assert len(r.adapter.sent) == (5 if kind in retried_kinds else 1)
    if kind == "create" and failure in (connection_dropped, requests.exceptions.ReadTimeout):
        assert caught.value.hint is not None
        assert "may have reached the API" in caught.value.hint


def test_a_create_is_retried_after_a_connect_failure_and_sent_once_successfully() -> None:
    r = rig([connect_refused(), Answer(503), Answer(200, {"id": "new"})])
    assert call(r, "create") == {"id": "new"}
    assert [s.body for s in r.adapter.sent] == [b'{"name": "x"}'] * 3


def test_the_exit_code_is_that_of_the_last_answer() -> None:
    r = rig([Answer(503), connect_refused(), Answer(429)], max_attempts=3)
    with pytest.raises(RateLimitedError):
        call(r, "read")
    r = rig([Answer(429), Answer(503), connect_refused()], max_attempts=3)
    with pytest.raises(NetworkError):
        call(r, "read")
    r = rig([Answer(429), Answer(503)], max_attempts=2)
    with pytest.raises(ServerError):
        call(r, "read")


@pytest.mark.parametrize("attempts", [1, 2, 7])
def test_the_number_of_attempts_is_configurable(attempts: int) -> None:
    r = rig([Answer(503)] * attempts, max_attempts=attempts)
    with pytest.raises(ServerError):
        call(r, "read")
    assert len(r.adapter.sent) == attempts


# -- waits ----------------------------------------------------------------------------------------


def test_retry_after_in_seconds_is_honoured_whatever_the_header_case() -> None:
    r = rig(
        [
            Answer(429, headers={"retry-after": "3"}),
            Answer(503, headers={"Retry-After": "1.5"}),
            Answer(200),
        ]
    )
    call(r, "read")
    assert r.sleeps == [3.0, 1.5]
    assert "  HTTP 429: retrying in 3.00 s (attempt 2/5)" in r.debug


def test_retry_after_as_an_http_date_and_its_cap() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC).timestamp()
    in_five = format_datetime(datetime.fromtimestamp(now + 5, UTC), usegmt=True)
    assert parse_retry_after(in_five, now=now) == pytest.approx(5.0)
    past = format_datetime(datetime.fromtimestamp(now - 60, UTC), usegmt=True)
    assert parse_retry_after(past, now=now) == 0.0
    assert parse_retry_after("86400") == RETRY_AFTER_CAP
    assert parse_retry_after("-4") is None  # not a delay: the backoff applies
    for useless in (None, "", "soon", "nan"):
        assert parse_retry_after(useless) is None


def test_a_date_in_retry_after_is_honoured_by_the_client() -> None:
    later = format_datetime(datetime.now(UTC).replace(microsecond=0), usegmt=True)
    r = rig([Answer(429, headers={"Retry-After": later}), Answer(200)])
    call(r, "read")
    assert len(r.sleeps) == 1
    assert 0.0 <= r.sleeps[0] <= 1.0


def test_without_retry_after_the_backoff_is_exponential_capped_and_jittered() -> None:
    attempts = 12
    r = rig([Answer(503)] * attempts, max_attempts=attempts)
    with pytest.raises(ServerError):
        call(r, "read")
    assert len(r.sleeps) == attempts - 1
    for attempt, slept in enumerate(r.sleeps, start=1):
        ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
        assert ceiling / 2 <= slept <= ceiling
    assert len(set(r.sleeps)) == len(r.sleeps)  # jitter: no two waits alike
    assert max(r.sleeps) <= BACKOFF_CAP


def test_an_unusable_retry_after_falls_back_to_the_backoff() -> None:
    r = rig([Answer(429, headers={"Retry-After": "whenever"}), Answer(200)])
    call(r, "read")
    assert BACKOFF_BASE / 2 <= r.sleeps[0] <= BACKOFF_BASE


# -- DELETE after a lost attempt ------------------------------------------------------------------


@pytest.mark.parametrize(
    "lost",
    [connection_dropped(), requests.exceptions.ReadTimeout(), Answer(502), Answer(504)],
    ids=["dropped", "read-timeout", "502", "504"],
)
def test_a_delete_answered_404_after_a_lost_attempt_counts_as_done(lost: Step) -> None:
    r = rig([lost, Answer(404, {"error": "Room not found"})])
    assert call(r, "delete", empty_ok=True) is None
    assert len(r.adapter.sent) == 2
    assert "  404 after a lost attempt: the earlier DELETE took effect" in r.debug


@pytest.mark.parametrize(
    "first",
    [[], [Answer(503)], [Answer(429)], [connect_refused()]],
    ids=["none", "503", "429", "refused"],
)
def test_a_delete_answered_404_when_no_attempt_can_have_applied_is_not_found(
    first: list[Step],
) -> None:
    r = rig([*first, Answer(404, {"error": "Room not found"})])
    with pytest.raises(NotFoundError) as caught:
        call(r, "delete", empty_ok=True)
    assert caught.value.exit_code == 6


def test_a_read_answered_404_after_a_lost_attempt_is_still_not_found() -> None:
    r = rig([Answer(502), Answer(404)])
    with pytest.raises(NotFoundError):
        call(r, "read")


# -- status codes, messages and bodies ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls", "code"),
    [
        (400, BadRequestError, 3),
        (401, UnauthorizedError, 4),
        (402, RequestFailedError, 5),
        (404, NotFoundError, 6),
        (422, BadRequestError, 3),
    ],
)
def test_client_errors_are_never_retried_and_map_to_their_exit_code(
    status: int, cls: type[VcctlError], code: int
) -> None:
    r = rig([Answer(status, {"message": "nope"})])
    with pytest.raises(cls) as caught:
        call(r, "read")
    assert caught.value.exit_code == code
    assert len(r.adapter.sent) == 1
    assert caught.value.message.endswith(": nope")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"error": "e"}, "e"),
        ({"message": "m"}, "m"),
        ({"errors": ["a", "b"]}, "a; b"),
        ({"errors": {"name": ["is blank"]}}, "name: is blank"),
        ({"info": "i"}, "i"),
        ({"other": 1}, None),
        ("text", "text"),
        ([], None),
    ],
)
def test_the_api_message_comes_from_the_usual_fields(body: Any, message: str | None) -> None:
    assert api_message(body) == message


def test_an_html_page_where_json_is_expected_is_a_short_error_with_the_first_bytes() -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 500 + "</body></html>"
    r = rig([Answer(200, page, {"Content-Type": "text/html"})])
    with pytest.raises(InvalidResponseError) as caught:
        call(r, "read")
    assert caught.value.exit_code == 9
    message = caught.value.message
    assert message.startswith("HTTP 200: the API's answer is not valid JSON: <html><head>")
    assert len(message) < 300


def test_a_truncated_json_body_is_exit_9() -> None:
    r = rig([Answer(200, b'{"id": "abc", "na')])
    with pytest.raises(InvalidResponseError) as caught:
        call(r, "read")
    assert caught.value.message.endswith('not valid JSON: {"id": "abc", "na')


def test_an_html_5xx_page_is_exit_8_with_the_status_and_first_bytes() -> None:
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    r = rig([Answer(502, page)] * 5)
    with pytest.raises(ServerError) as caught:
        call(r, "read")
    assert caught.value.message == f"HTTP 502 Bad Gateway: {page}"


def test_nan_is_not_json() -> None:
    r = rig([Answer(200, b'{"id": "abc", "n": NaN}')])
    with pytest.raises(InvalidResponseError) as caught:
        call(r, "read")
    assert caught.value.exit_code == 9


def test_a_flag_in_the_error_field_is_not_the_message() -> None:
    r = rig([Answer(404, b'{"error": true, "message": "Room not found"}')])
    with pytest.raises(NotFoundError) as caught:
        call(r, "read")
    assert caught.value.message == "HTTP 404 Not Found: Room not found"


def test_an_empty_body_is_an_error_unless_the_call_allows_it() -> None:
    r = rig([Answer(200, b""), Answer(204, b"")])
    with pytest.raises(InvalidResponseError) as caught:
        call(r, "read")
    assert "empty body where JSON was expected" in caught.value.message
    assert call(r, "delete", empty_ok=True) is None


def test_secrets_echoed_by_the_server_are_masked_in_errors() -> None:
    echo = f"bad key {KEY} / {TOKEN}"
    r = rig([Answer(400, {"error": echo}), Answer(200, f"<p>{KEY}</p>")])
    with pytest.raises(BadRequestError) as caught:
        call(r, "read")
    assert KEY not in caught.value.message
    assert TOKEN not in caught.value.message
    assert "bad key ****1234 / ****5678" in caught.value.message
    assert caught.value.api_message == "bad key ****1234 / ****5678"
    with pytest.raises(InvalidResponseError) as invalid:
        call(r, "read")
    assert KEY not in invalid.value.message


# -- what is sent ---------------------------------------------------------------------------------


def test_every_request_carries_credentials_json_and_timeouts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    r = rig([Answer(200, {"id": "abc"})], timeout=42.0, ca_bundle="/etc/ca.pem")
    call(r, "create")
    [sent] = r.adapter.sent
    assert (sent.headers["apiKey"], sent.headers["apiToken"]) == (KEY, TOKEN)
    assert sent.headers["Content-Type"] == "application/json"
    assert json.loads(sent.body or b"") == {"name": "x"}
    assert sent.options["timeout"] == (10.0, 42.0)  # connect capped, read as asked
    assert sent.options["verify"] == "/etc/ca.pem"
    r = rig([Answer(200)], timeout=3.0)
    call(r, "read")
    assert r.adapter.sent[0].options["timeout"] == (3.0, 3.0)
    assert r.adapter.sent[0].options["verify"] is True  # TLS verification always on
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/corporate-ca.pem")
    r = rig([Answer(200)])
    call(r, "read")
    assert r.adapter.sent[0].options["verify"] == "/etc/corporate-ca.pem"


def test_a_missing_ca_bundle_is_a_network_error_not_a_crash() -> None:
    r = rig([OSError("Could not find a suitable TLS CA certificate bundle, invalid path: x")])
    with pytest.raises(NetworkError) as caught:
        call(r, "read")
    assert "cannot set up TLS" in caught.value.message
    assert len(r.adapter.sent) == 1


# -- redirects ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "https://evil.example/fr/api/v1/rooms/abc",
        "http://api.example/fr/api/v1/rooms/abc",
        "https://api.example:8443/fr/api/v1/rooms/abc",
        "//evil.example/x",
    ],
    ids=["host", "scheme", "port", "scheme-relative"],
)
def test_a_redirect_to_another_origin_is_refused_and_never_sent(location: str) -> None:
    r = rig([Answer(302, b"", {"location": location})])
    with pytest.raises(NetworkError) as caught:
        call(r, "read")
    assert "not followed, so that the credentials are not sent there" in caught.value.message
    assert [s.url for s in r.adapter.sent] == [f"{BASE}/fr/api/v1/rooms/abc"]


def test_a_same_origin_redirect_is_followed() -> None:
    r = rig([Answer(301, b"", {"Location": "/en/api/v1/rooms/abc"}), Answer(200, {"id": "abc"})])
    assert call(r, "read") == {"id": "abc"}
    assert [s.url for s in r.adapter.sent] == [
        f"{BASE}/fr/api/v1/rooms/abc",
        f"{BASE}/en/api/v1/rooms/abc",
    ]
    assert r.adapter.sent[1].headers["apiKey"] == KEY
    explicit_port = rig([Answer(307, b"", {"Location": "https://API.example:443/x"}), Answer(200)])
    call(explicit_port, "read")
    assert len(explicit_port.adapter.sent) == 2


def test_a_post_follows_only_a_redirect_that_keeps_the_method() -> None:
    r = rig([Answer(307, b"", {"Location": "/api/v1/rooms2"}), Answer(200, {"id": "n"})])
    assert call(r, "create") == {"id": "n"}
    assert [(s.method, s.body) for s in r.adapter.sent] == [("POST", b'{"name": "x"}')] * 2
    r = rig([Answer(302, b"", {"Location": "/api/v1/rooms2"})])
    with pytest.raises(NetworkError) as caught:
        call(r, "create")
    assert "would turn the request into a GET" in caught.value.message


def test_a_redirect_loop_stops() -> None:
    r = rig([Answer(302, b"", {"Location": "/loop"})] * 6)
    with pytest.raises(NetworkError) as caught:
        call(r, "read")
    assert "too many redirects" in caught.value.message
    assert len(r.adapter.sent) == 6  # one attempt: a refused redirect is not retried


# -- the debug log --------------------------------------------------------------------------------


def test_the_debug_log_shows_every_attempt_with_masked_secrets() -> None:
    r = rig([Answer(503, {"error": "busy"}), connect_refused(), Answer(200, {"id": "abc"})])
    call(r, "create")
    log = "\n".join(r.debug)
    assert KEY not in log
    assert TOKEN not in log
    for attempt in (1, 2, 3):
        assert f"> POST {BASE}/fr/api/v1/rooms/abc (attempt {attempt}/5)" in r.debug
    assert "> apiKey: ****1234" in r.debug
    assert "> apiToken: ****5678" in r.debug
    assert '> {"name": "x"}' in r.debug
    assert any(line.startswith("< 503 Service Unavailable (") for line in r.debug)
    assert '< {"error": "busy"}' in r.debug
    assert any(line.startswith("< no answer: cannot connect to") for line in r.debug)
    assert any(line.startswith("  HTTP 503: retrying in ") for line in r.debug)


def test_the_debug_log_truncates_long_bodies() -> None:
    r = rig([Answer(200, {"blob": "y" * 5000})])
    call(r, "read")
    [body_line] = [line for line in r.debug if line.startswith('< {"blob"')]
    assert body_line.endswith("… (5012 bytes)")
    assert len(body_line) < 2100


def test_a_short_deadline_behind_a_long_one_still_ends_its_read() -> None:
    """One thread watches every attempt's deadline: an attempt with a shorter --timeout than one
    already under way is not left waiting for the longer one."""
    long_started, finish = threading.Event(), threading.Event()

    def long_attempt() -> None:
        with Deadline(60):
            long_started.set()
            finish.wait(60)

    other = threading.Thread(target=long_attempt)
    other.start()
    try:
        assert long_started.wait(30)
        reader, writer = socket.socketpair()
        reader.settimeout(30)  # a safety net only: the deadline must end the read long before
        with reader, writer:
            started = time.monotonic()
            with Deadline(0.3) as deadline:
                deadline.watch(reader)
                assert reader.recv(1) == b""  # shut down under the blocked read
            assert deadline.expired
            assert time.monotonic() - started < 20
    finally:
        finish.set()
        other.join()
