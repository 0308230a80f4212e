"""The HTTP transport of one attempt: the requests session, sending, redirects, reading.

Every way an attempt can fail becomes an `AttemptFailed` saying whether the request may have
reached the server and whether trying again can help; the retry decision is the client's.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from vcctl import __version__
from vcctl.errors import InvalidResponseError, NetworkError
from vcctl.http.body import ACCEPT_ENCODING, DEFAULT_MAX_ANSWER_BYTES, read_body
from vcctl.http.deadline import Deadline, watched_adapter
from vcctl.http.failures import (
    AttemptFailed,
    origin,
    read_failure,
    send_failure,
    timed_out,
)
from vcctl.text import is_loopback, mask

if TYPE_CHECKING:
    import requests

MAX_REDIRECTS = 5
CONNECT_TIMEOUT_CAP = 10.0
DEBUG_BODY_LIMIT = 2000
# Headers that carry credentials, shown masked in the debug log whichever side sent them.
CREDENTIAL_HEADERS = frozenset(
    {"apikey", "apitoken", "authorization", "proxy-authorization", "cookie", "set-cookie"}
)


class Response:
    """An answer as vcctl keeps it (a plain class: every run that calls the API creates it)."""

    def __init__(
        self,
        status: int,
        reason: str,
        headers: Mapping[str, str],  # case-insensitive: proxies and HTTP/2 lowercase names
        body: bytes,
        url: str,
    ) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.url = url

    def json(self) -> Any:
        try:
            return json.loads(self.body, parse_constant=_reject_constant, parse_float=_finite_float)
        except (ValueError, UnicodeDecodeError, RecursionError):
            # RecursionError: nesting deeper than the parser's stack, a hostile answer.
            from vcctl.http.hints import excerpt

            raise InvalidResponseError(
                f"HTTP {self.status}: the API's answer is not valid JSON: {excerpt(self.body)}",
                status=self.status,
            ) from None


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; printing them back would break every parser downstream.
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    # 1e400 parses as infinity, which would be printed back as the non-JSON `Infinity`.
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is out of range")
    return value


class _NoAuth:
    """Set as the session's auth, so that requests never adds credentials from ~/.netrc:
    vcctl sends its own headers and nothing else."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


class HttpSession:
    """One requests.Session (a keep-alive pool shared by a batch's workers) and its settings."""

    def __init__(
        self,
        *,
        api_key: str,
        api_token: str,
        timeout: float,
        ca_bundle: str | None,
        pool_size: int,
        log: Callable[[str], None] | None,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
    ) -> None:
        self._headers = {
            "apiKey": api_key,
            "apiToken": api_token,
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,
            "User-Agent": f"vcctl/{__version__}",
        }
        self._secrets = [secret for secret in (api_key, api_token) if secret]
        # Each read waits at most `timeout`; the attempt as a whole too (see vcctl.http.deadline).
        self.timeout = (min(timeout, CONNECT_TIMEOUT_CAP), timeout)
        self.max_answer_bytes = max_answer_bytes
        self._verify: str | bool = ca_bundle or True
        self._pool_size = pool_size
        self._log = log  # already scrubbing secrets; None when --debug is off
        self._session: requests.Session | None = None
        self._lock = threading.Lock()  # one session serves a thread pool in batches
        self._environment: dict[str, dict[str, Any]] = {}  # origin -> send() options

    def session(self) -> requests.Session:
        with self._lock:
            if self._session is None:
                import requests

                session = requests.Session()
                session.auth = _NoAuth()  # no credentials from ~/.netrc
                adapter = watched_adapter(self._pool_size)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                self._session = session
            return self._session

    def _environment_settings(self, session: requests.Session, url: str) -> dict[str, Any]:
        """The proxies and CA bundle the environment sets for `url`'s origin, read once per
        origin: requests would scan the whole environment twice for every request (a quarter
        of a batch's CPU), and the environment does not change during a run."""
        parts = urlsplit(url)
        origin_key = f"{parts.scheme}://{parts.netloc}"
        known = self._environment.get(origin_key)
        if known is not None:
            return dict(known)
        options: dict[str, Any] = dict(
            session.merge_environment_settings(url, {}, True, self._verify, None)
        )
        if is_loopback(parts.hostname or ""):
            # A proxy from http_proxy would receive the credentials of a plain-http local call.
            options["proxies"] = {}
        self._environment[origin_key] = options
        return dict(options)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    def send_following_redirects(
        self, method: str, url: str, payload: bytes | None, attempt: str
    ) -> Response:
        """One attempt, following same-origin redirects that keep the method, all within the
        timeout: it bounds the attempt, not each read."""
        self.session()  # imports and set-up are not the server's time
        with Deadline(self.timeout[1]) as deadline:
            return self._follow_redirects(method, url, payload, attempt, deadline)

    def _follow_redirects(
        self, method: str, url: str, payload: bytes | None, attempt: str, deadline: Deadline
    ) -> Response:
        for _ in range(MAX_REDIRECTS + 1):
            if deadline.passed():
                raise timed_out(url, self.timeout[1], answered=True)
            response = self.send_once(method, url, payload, attempt, deadline)
            location = response.headers.get("Location")
            if response.status not in (301, 302, 303, 307, 308) or not location:
                return response
            try:
                target = urljoin(url, location)
                same_origin = _same_origin(url, target)
            except ValueError as exc:  # a port out of range, a malformed IPv6 address...
                from vcctl.http.hints import excerpt

                raise AttemptFailed(
                    InvalidResponseError(
                        f"the API redirected to an invalid location {excerpt(location.encode())}: "
                        f"{exc}",
                        status=response.status,
                    ),
                    # A redirect is an answer that carried nothing out: no "check before
                    # creating again" for a create.
                    reached_server=False,
                    retryable=False,
                ) from None
            if not same_origin:
                raise AttemptFailed(
                    NetworkError(
                        f"the API redirected to {origin(target)}, another host, scheme or port; "
                        "not followed, so that the credentials are not sent there",
                        hint="check --base-url",
                    ),
                    reached_server=True,
                    retryable=False,
                )
            if method != "GET" and response.status not in (307, 308):
                raise AttemptFailed(
                    NetworkError(
                        f"the API answered {method} {url} with a {response.status} redirect to "
                        f"{target}; not followed because it would turn the request into a GET",
                        hint="check --base-url and --locale",
                    ),
                    reached_server=True,
                    retryable=False,
                )
            url = target
        raise AttemptFailed(
            NetworkError(f"too many redirects (more than {MAX_REDIRECTS})"),
            reached_server=True,
            retryable=False,
        )

    def send_once(
        self, method: str, url: str, payload: bytes | None, attempt: str, deadline: Deadline
    ) -> Response:
        """One HTTP exchange, no redirect followed; `attempt` ("2/5") is for the debug log."""
        import requests

        session = self.session()
        headers = dict(self._headers)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        prepared = session.prepare_request(requests.Request(method, url, headers=headers))
        # requests re-quotes URLs and would decode %2E back to "."; the path is already encoded
        # exactly as it must reach the server, so it is set after preparation.
        prepared.url = url
        prepared.prepare_body(data=payload, files=None)
        options = self._environment_settings(session, url)
        self._log_request(prepared, attempt)
        started = time.monotonic()
        try:
            raw = session.send(prepared, timeout=self.timeout, allow_redirects=False, **options)
        except Exception as exc:
            raise send_failure(exc, url, self.timeout[1], expired=deadline.expired) from None
        try:
            body = read_body(
                raw.raw,
                raw.headers.get("Content-Encoding"),
                limit=self.max_answer_bytes,
                passed=deadline.passed,
            )
        except Exception as exc:
            raw.close()  # the connection is not reused: the rest of the answer is unread
            raise read_failure(
                exc,
                url,
                raw.status_code,
                timeout=self.timeout[1],
                limit=self.max_answer_bytes,
                expired=deadline.expired,
            ) from None
        if not raw.reason:
            from vcctl.http.hints import reason_phrase

            raw.reason = reason_phrase(raw.status_code)
        response = Response(
            status=raw.status_code,
            reason=raw.reason,
            headers=raw.headers,
            body=body,
            url=url,
        )
        self._log_response(response, time.monotonic() - started)
        return response

    # -- debug log ------------------------------------------------------------------------------

    def _log_request(self, prepared: requests.PreparedRequest, attempt: str) -> None:
        if self._log is None:
            return
        self._log(f"> {prepared.method} {prepared.url} (attempt {attempt})")
        for name, value in prepared.headers.items():
            self._log(f"> {name}: {_shown_header(name, value)}")
        body = prepared.body
        if body:
            data = body if isinstance(body, bytes) else str(body).encode()
            self._log(f"> {self._debug_body(data)}")

    def _log_response(self, response: Response, elapsed: float) -> None:
        if self._log is None:
            return
        self._log(f"< {response.status} {response.reason} ({elapsed * 1000:.0f} ms)")
        for name, value in response.headers.items():
            self._log(f"< {name}: {_shown_header(name, value)}")
        if response.body:
            self._log(f"< {self._debug_body(response.body)}")

    def _debug_body(self, body: bytes) -> str:
        """A body for the debug log: secrets masked first, then cut, so that a secret the cut
        would split cannot leave its first characters behind."""
        longest = max((len(secret) for secret in self._secrets), default=0)
        # 4 bytes: the longest UTF-8 character.
        text = body[: 4 * (DEBUG_BODY_LIMIT + longest)].decode("utf-8", errors="replace")
        for secret in self._secrets:
            text = text.replace(secret, mask(secret) or "****")
        text = text[:DEBUG_BODY_LIMIT]
        if len(body) > DEBUG_BODY_LIMIT:
            text += f"… ({len(body)} bytes)"
        return text


def _shown_header(name: str, value: str) -> str:
    return (mask(value) or "") if name.lower() in CREDENTIAL_HEADERS else value


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    default = {"http": 80, "https": 443}
    return (
        pa.scheme == pb.scheme
        and (pa.hostname or "").lower() == (pb.hostname or "").lower()
        and (pa.port or default.get(pa.scheme)) == (pb.port or default.get(pb.scheme))
    )
