"""The one place that sends HTTP: headers, timeouts, retries, redirects, typed failures.

Nothing here prints or exits. Every failure becomes a `vcctl.errors.VcctlError`.
"""

from __future__ import annotations

import email.utils
import json
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urljoin, urlsplit

from vcctl import __version__
from vcctl.errors import (
    ApiError,
    InvalidResponseError,
    NetworkError,
    api_error_class,
)
from vcctl.settings import is_loopback, mask

if TYPE_CHECKING:
    import requests

    from vcctl.settings import Settings

CallKind = Literal["read", "create", "update", "delete", "event"]
# GET, update, DELETE and events can be repeated without changing the outcome (contract §6).
IDEMPOTENT_KINDS: frozenset[str] = frozenset({"read", "update", "delete", "event"})

BACKOFF_BASE = 0.25
BACKOFF_CAP = 8.0
RETRY_AFTER_CAP = 30.0
MAX_REDIRECTS = 5
CONNECT_TIMEOUT_CAP = 10.0
DEBUG_BODY_LIMIT = 2000
NOTICE_AFTER = 1.0  # seconds of waiting worth telling a person at a terminal about
ERROR_EXCERPT_LIMIT = 200

REASONS = {402: "Request Failed"}  # the API's own name for 402


def reason_phrase(status: int) -> str:
    if status in REASONS:
        return REASONS[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


@dataclass
class Response:
    status: int
    reason: str
    headers: Mapping[str, str]  # case-insensitive: proxies and HTTP/2 front ends lowercase names
    body: bytes
    url: str

    def json(self) -> Any:
        try:
            return json.loads(self.body, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError):
            raise InvalidResponseError(
                f"HTTP {self.status}: the API's answer is not valid JSON: {excerpt(self.body)}",
                status=self.status,
            ) from None


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; printing them back would break every parser downstream.
    raise ValueError(f"{name} is not valid JSON")


def excerpt(body: bytes, limit: int = ERROR_EXCERPT_LIMIT) -> str:
    """The first bytes of a body, on one line, safe to print."""
    text = body[:limit].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    if not text:
        return "(empty body)"
    return text + ("…" if len(body) > limit else "")


def api_message(data: Any) -> str | None:
    """The API documents no error body: take the first of the usual fields."""
    if isinstance(data, dict):
        for key in ("error", "message", "errors", "info"):
            value = data.get(key)
            # `{"error": true, "message": "..."}`: a flag is not the message.
            if isinstance(value, str | list | dict) and value not in ("", [], {}):
                return _flatten(value)
    elif isinstance(data, str) and data:
        return data
    return None


def _flatten(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "; ".join(_flatten(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_flatten(item)}" for key, item in value.items())
    return json.dumps(value)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        current = datetime.now(UTC).timestamp() if now is None else now
        seconds = when.timestamp() - current
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


class _Attempt(Exception):
    """A transport failure of one attempt, with what it tells about safety to retry."""

    def __init__(self, error: NetworkError, *, reached_server: bool, retryable: bool = True):
        super().__init__(error.message)
        self.error = error
        self.reached_server = reached_server
        self.retryable = retryable


class Client:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        api_token: str,
        timeout: float,
        max_attempts: int = 5,
        ca_bundle: str | None = None,
        pool_size: int = 10,
        debug: Callable[[str], None] | None = None,
        notice: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {
            "apiKey": api_key,
            "apiToken": api_token,
            "Accept": "application/json",
            "User-Agent": f"vcctl/{__version__}",
        }
        self._secrets = {api_key, api_token}
        self.timeout = (min(timeout, CONNECT_TIMEOUT_CAP), timeout)
        self.max_attempts = max_attempts
        self._verify: str | bool = ca_bundle or True
        self._pool_size = pool_size
        self._debug = debug
        self._notice = notice  # told of long waits, so that a person does not think it hung
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._session: requests.Session | None = None
        self._session_lock = threading.Lock()  # one Client serves a thread pool in batches

    # -- public -------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        kind: CallKind,
        empty_ok: bool = False,
    ) -> Any:
        """Send, retrying as contract §6 allows; return the parsed JSON answer (None if empty)."""
        response = self.request_raw(method, path, body=body, kind=kind)
        if response.status == 204 or not response.body.strip():
            if empty_ok:
                return None
            raise InvalidResponseError(
                f"HTTP {response.status}: the API answered with an empty body where JSON was "
                "expected",
                status=response.status,
            )
        try:
            return response.json()
        except InvalidResponseError as exc:
            exc.message = self._scrub(exc.message)  # the excerpt of the body is printed
            raise

    def request_raw(self, method: str, path: str, *, body: Any = None, kind: CallKind) -> Response:
        """Send with retries; return the successful response, or raise a typed error."""
        url = self.base_url + path
        payload = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        idempotent = kind in IDEMPOTENT_KINDS
        maybe_applied = False  # an earlier attempt may have been carried out by the server
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self.max_attempts
            try:
                response = self._send_following_redirects(method, url, payload, attempt)
            except _Attempt as failure:
                self._log(f"< no answer: {failure.error.message}")
                retry = failure.retryable and (idempotent or not failure.reached_server)
                if not retry or last:
                    if failure.reached_server and not idempotent:
                        failure.error.hint = (
                            "the request may have reached the API and been carried out: "
                            "check before creating again"
                        )
                    raise failure.error from None
                maybe_applied = maybe_applied or failure.reached_server
                self._wait(self._backoff(attempt), attempt, str(failure))
                continue

            status = response.status
            if 200 <= status < 300:
                return response
            if status == 404 and kind == "delete" and maybe_applied:
                # An earlier attempt was lost after the server deleted it: done, not missing.
                self._log("  404 after a lost attempt: the earlier DELETE took effect")
                return Response(204, "No Content", {}, b"", response.url)
            if not last and _retryable_status(status, idempotent=idempotent):
                maybe_applied = maybe_applied or status in (502, 504)
                wait = parse_retry_after(response.headers.get("Retry-After"))
                if wait is None:
                    wait = self._backoff(attempt)
                self._wait(wait, attempt, f"HTTP {status}")
                continue
            raise self._error_for(response, kind=kind, retried=attempt > 1)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    # -- one attempt ----------------------------------------------------------------------------

    def _session_obj(self) -> requests.Session:
        with self._session_lock:
            if self._session is None:
                import requests
                from requests.adapters import HTTPAdapter

                session = requests.Session()
                adapter = HTTPAdapter(
                    pool_connections=2, pool_maxsize=self._pool_size, max_retries=0
                )
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                self._session = session
            return self._session

    def _send_following_redirects(
        self, method: str, url: str, payload: bytes | None, attempt: int
    ) -> Response:
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send(method, url, payload, attempt)
            location = response.headers.get("Location")
            if response.status not in (301, 302, 303, 307, 308) or not location:
                return response
            target = urljoin(url, location)
            if not _same_origin(url, target):
                raise _Attempt(
                    NetworkError(
                        f"the API redirected to {_origin(target)}, another host, scheme or port; "
                        "not followed, so that the credentials are not sent there",
                        hint="check --base-url",
                    ),
                    reached_server=True,
                    retryable=False,
                )
            if method != "GET" and response.status not in (307, 308):
                raise _Attempt(
                    NetworkError(
                        f"the API answered {method} {url} with a {response.status} redirect to "
                        f"{target}; not followed because it would turn the request into a GET",
                        hint="check --base-url and --locale",
                    ),
                    reached_server=True,
                    retryable=False,
                )
            url = target
        raise _Attempt(
            NetworkError(f"too many redirects (more than {MAX_REDIRECTS})"),
            reached_server=True,
            retryable=False,
        )

    def _send(self, method: str, url: str, payload: bytes | None, attempt: int) -> Response:
        import requests

        session = self._session_obj()
        headers = dict(self._headers)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        prepared = session.prepare_request(requests.Request(method, url, headers=headers))
        # requests re-quotes URLs and would decode %2E back to "."; the path is already encoded
        # exactly as it must reach the server, so it is set after preparation.
        prepared.url = url
        prepared.prepare_body(data=payload, files=None)
        options = session.merge_environment_settings(url, {}, False, self._verify, None)
        if is_loopback(urlsplit(url).hostname or ""):
            # A proxy from http_proxy would receive the credentials of a plain-http local call.
            options["proxies"] = {}
        self._log_request(prepared, attempt)
        started = time.monotonic()
        try:
            raw = session.send(prepared, timeout=self.timeout, allow_redirects=False, **options)
        except requests.exceptions.SSLError as exc:
            raise _Attempt(
                NetworkError(
                    f"TLS failure talking to {_origin(url)}: {_reason(exc)}",
                    hint="use --ca-bundle for a private certificate authority",
                ),
                reached_server=False,
                retryable=False,
            ) from None
        except requests.exceptions.ConnectTimeout:
            raise _Attempt(
                NetworkError(f"timed out connecting to {_origin(url)}"), reached_server=False
            ) from None
        except requests.exceptions.ReadTimeout:
            raise _Attempt(
                NetworkError(
                    f"no answer from {_origin(url)} within {self.timeout[1]:g} s",
                    hint="raise --timeout if the API is slow",
                ),
                reached_server=True,
            ) from None
        except requests.exceptions.ConnectionError as exc:
            reached = not _is_connect_failure(exc)
            what = "connection lost" if reached else "cannot connect"
            raise _Attempt(
                NetworkError(f"{what} to {_origin(url)}: {_reason(exc)}"), reached_server=reached
            ) from None
        except requests.exceptions.ChunkedEncodingError as exc:
            # The answer was cut off: the server did receive the request.
            raise _Attempt(
                NetworkError(
                    f"connection lost during the answer of {_origin(url)}: {_reason(exc)}"
                ),
                reached_server=True,
            ) from None
        except requests.exceptions.RequestException as exc:
            raise _Attempt(
                NetworkError(f"request to {_origin(url)} failed: {_reason(exc)}"),
                reached_server=True,
                retryable=False,
            ) from None
        except OSError as exc:
            # requests checks the CA bundle (REQUESTS_CA_BUNDLE included) only when sending.
            raise _Attempt(
                NetworkError(
                    f"cannot set up TLS for {_origin(url)}: {exc}",
                    hint="check --ca-bundle and REQUESTS_CA_BUNDLE",
                ),
                reached_server=False,
                retryable=False,
            ) from None
        response = Response(
            status=raw.status_code,
            reason=raw.reason or reason_phrase(raw.status_code),
            headers=raw.headers,
            body=raw.content,
            url=url,
        )
        self._log_response(response, time.monotonic() - started)
        return response

    # -- failures -------------------------------------------------------------------------------

    def _error_for(self, response: Response, *, kind: CallKind, retried: bool) -> ApiError:
        status = response.status
        data: Any = None
        try:
            data = json.loads(response.body) if response.body.strip() else None
        except (ValueError, UnicodeDecodeError):
            data = None
        message = api_message(data)
        phrase = reason_phrase(status)
        headline = f"HTTP {status}{' ' + phrase if phrase else ''}"
        if message and message.strip().lower() != phrase.lower():
            text = f"{headline}: {message}"
        elif message:
            text = headline
        elif status == 404:
            text = f"{headline}: not found (resource or endpoint)"
        else:
            text = f"{headline}: {excerpt(response.body)}"
        # The API's message is shown to the user: a server echoing the credentials must not
        # get them printed.
        text = self._scrub(text)
        message = None if message is None else self._scrub(message)
        if 300 <= status < 400:
            # An unfollowed redirect without Location, or a 304: not an API answer at all.
            raise InvalidResponseError(text, status=status)
        cls = api_error_class(status)
        return cls(
            text,
            status=status,
            api_message=message,
            hint=_hint(status, kind, retried),
            body=data,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )

    # -- retries --------------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** (attempt - 1))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def _wait(self, seconds: float, attempt: int, why: str) -> None:
        self._log(
            f"  {why}: retrying in {seconds:.2f} s (attempt {attempt + 1}/{self.max_attempts})"
        )
        if self._notice is not None and self._debug is None and seconds >= NOTICE_AFTER:
            self._notice(
                f"{self._scrub(why)}: retrying in {seconds:.0f} s "
                f"(attempt {attempt + 1} of {self.max_attempts})"
            )
        self._sleep(seconds)

    # -- debug log ------------------------------------------------------------------------------

    def _log(self, line: str) -> None:
        if self._debug is not None:
            self._debug(self._scrub(line))

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, mask(secret) or "****")
        return text

    def _log_request(self, prepared: requests.PreparedRequest, attempt: int) -> None:
        if self._debug is None:
            return
        self._log(f"> {prepared.method} {prepared.url} (attempt {attempt}/{self.max_attempts})")
        for name, value in prepared.headers.items():
            shown = mask(value) if name.lower() in ("apikey", "apitoken") else value
            self._log(f"> {name}: {shown}")
        body = prepared.body
        if body:
            data = body if isinstance(body, bytes) else str(body).encode()
            self._log(f"> {_truncate(data)}")

    def _log_response(self, response: Response, elapsed: float) -> None:
        if self._debug is None:
            return
        self._log(f"< {response.status} {response.reason} ({elapsed * 1000:.0f} ms)")
        for name, value in response.headers.items():
            self._log(f"< {name}: {value}")
        if response.body:
            self._log(f"< {_truncate(response.body)}")


def debug_to_stderr(line: str) -> None:
    import sys

    sys.stderr.write(f"[debug] {line}\n")
    sys.stderr.flush()


def client_for(
    settings: Settings,
    *,
    credentials: tuple[str, str] | None = None,
    pool_size: int = 10,
    max_attempts: int | None = None,
    timeout: float | None = None,
) -> Client:
    """A Client configured from the resolved settings; every command builds its client here."""
    api_key, api_token = credentials or settings.credentials()
    return Client(
        base_url=settings.base_url.value,
        api_key=api_key,
        api_token=api_token,
        timeout=timeout or settings.timeout.value,
        max_attempts=max_attempts or settings.max_attempts.value,
        ca_bundle=settings.ca_bundle,
        pool_size=pool_size,
        debug=debug_to_stderr if settings.debug.value else None,
        notice=_notice_on_terminal,
    )


def _notice_on_terminal(message: str) -> None:
    import sys

    if sys.stderr is not None and sys.stderr.isatty():
        sys.stderr.write(f"vcctl: {message}\n")
        sys.stderr.flush()


def _truncate(body: bytes) -> str:
    text = body[:DEBUG_BODY_LIMIT].decode("utf-8", errors="replace")
    if len(body) > DEBUG_BODY_LIMIT:
        text += f"… ({len(body)} bytes)"
    return text


def _retryable_status(status: int, *, idempotent: bool) -> bool:
    """429 and 503 mean "not done, come back later"; 502 and 504 may hide a done request."""
    return status in (429, 503) or (idempotent and status in (502, 504))


def _hint(status: int, kind: CallKind, retried: bool) -> str | None:
    if status in (401, 403):
        return (
            "the API rejected the key or token: 'vcctl auth status' shows which are in use, "
            "'vcctl auth login' or VCCTL_API_KEY/VCCTL_API_TOKEN set them"
        )
    if status == 404:
        return "check the id, and --base-url/--locale if every call answers 404"
    if status == 429:
        return "the API's request quota is exhausted; wait a little, or lower --concurrency"
    if status >= 500:
        if kind not in IDEMPOTENT_KINDS and status in (500, 502, 504):
            return "not retried: the request may have been carried out; check before creating again"
        return "the API is having trouble; try again later" if retried else None
    return None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    default = {"http": 80, "https": 443}
    return (
        pa.scheme == pb.scheme
        and (pa.hostname or "").lower() == (pb.hostname or "").lower()
        and (pa.port or default.get(pa.scheme)) == (pb.port or default.get(pb.scheme))
    )


def _is_connect_failure(exc: Exception) -> bool:
    """True when the request provably never reached the server (refused, DNS, unreachable)."""
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, NewConnectionError):
            return True
        if isinstance(current, MaxRetryError):
            current = current.reason
            continue
        args = getattr(current, "args", ())
        nested = next((a for a in args if isinstance(a, BaseException)), None)
        current = nested or current.__cause__ or current.__context__
    return False


def _reason(exc: Exception) -> str:
    """A short, secret-free description of a requests failure."""
    from urllib3.exceptions import MaxRetryError

    inner: BaseException = exc
    if exc.args and isinstance(exc.args[0], MaxRetryError) and exc.args[0].reason is not None:
        inner = exc.args[0].reason
    text = str(inner)
    # urllib3 prefixes "<urllib3.connection.HTTPConnection object at 0x...>: " or
    # "HTTPSConnection(host='h', port=443): "; the user knows the host from the message already.
    if ">: " in text:
        text = text.split(">: ", 1)[1]
    text = re.sub(r"^\w*Connection(Pool)?\(host=[^)]*\): ", "", text)
    return text[:300]
