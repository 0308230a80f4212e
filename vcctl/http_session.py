"""The HTTP transport of one attempt: the requests session, sending, redirects, reading.

Every way an attempt can fail becomes an `AttemptFailed` saying whether the request may have
reached the server and whether trying again can help; the retry decision is the client's.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from vcctl import __version__
from vcctl.errors import InvalidResponseError, NetworkError
from vcctl.settings import is_loopback, mask

if TYPE_CHECKING:
    import requests

MAX_REDIRECTS = 5
CONNECT_TIMEOUT_CAP = 10.0
DEBUG_BODY_LIMIT = 2000


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
            from vcctl.hints import excerpt

            raise InvalidResponseError(
                f"HTTP {self.status}: the API's answer is not valid JSON: {excerpt(self.body)}",
                status=self.status,
            ) from None


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; printing them back would break every parser downstream.
    raise ValueError(f"{name} is not valid JSON")


class AttemptFailed(Exception):
    """A transport failure of one attempt, with what it tells about safety to retry."""

    def __init__(self, error: NetworkError, *, reached_server: bool, retryable: bool = True):
        super().__init__(error.message)
        self.error = error
        self.reached_server = reached_server
        self.retryable = retryable


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
    ) -> None:
        self._headers = {
            "apiKey": api_key,
            "apiToken": api_token,
            "Accept": "application/json",
            "User-Agent": f"vcctl/{__version__}",
        }
        self.timeout = (min(timeout, CONNECT_TIMEOUT_CAP), timeout)
        self._verify: str | bool = ca_bundle or True
        self._pool_size = pool_size
        self._log = log  # already scrubbing secrets; None when --debug is off
        self._session: requests.Session | None = None
        self._lock = threading.Lock()  # one session serves a thread pool in batches

    def session(self) -> requests.Session:
        with self._lock:
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

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    def send_following_redirects(
        self, method: str, url: str, payload: bytes | None, attempt: str
    ) -> Response:
        """One attempt, following same-origin redirects that keep the method."""
        for _ in range(MAX_REDIRECTS + 1):
            response = self.send_once(method, url, payload, attempt)
            location = response.headers.get("Location")
            if response.status not in (301, 302, 303, 307, 308) or not location:
                return response
            target = urljoin(url, location)
            if not _same_origin(url, target):
                raise AttemptFailed(
                    NetworkError(
                        f"the API redirected to {_origin(target)}, another host, scheme or port; "
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

    def send_once(self, method: str, url: str, payload: bytes | None, attempt: str) -> Response:
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
        options = session.merge_environment_settings(url, {}, False, self._verify, None)
        if is_loopback(urlsplit(url).hostname or ""):
            # A proxy from http_proxy would receive the credentials of a plain-http local call.
            options["proxies"] = {}
        self._log_request(prepared, attempt)
        started = time.monotonic()
        try:
            raw = session.send(prepared, timeout=self.timeout, allow_redirects=False, **options)
        except requests.exceptions.SSLError as exc:
            raise AttemptFailed(
                NetworkError(
                    f"TLS failure talking to {_origin(url)}: {_reason(exc)}",
                    hint="use --ca-bundle for a private certificate authority",
                ),
                reached_server=False,
                retryable=False,
            ) from None
        except requests.exceptions.ConnectTimeout:
            raise AttemptFailed(
                NetworkError(f"timed out connecting to {_origin(url)}"), reached_server=False
            ) from None
        except requests.exceptions.ReadTimeout:
            raise AttemptFailed(
                NetworkError(
                    f"no answer from {_origin(url)} within {self.timeout[1]:g} s",
                    hint="raise --timeout if the API is slow",
                ),
                reached_server=True,
            ) from None
        except requests.exceptions.ConnectionError as exc:
            reached = not _is_connect_failure(exc)
            what = "connection lost" if reached else "cannot connect"
            raise AttemptFailed(
                NetworkError(f"{what} to {_origin(url)}: {_reason(exc)}"), reached_server=reached
            ) from None
        except requests.exceptions.ChunkedEncodingError as exc:
            # The answer was cut off: the server did receive the request.
            raise AttemptFailed(
                NetworkError(
                    f"connection lost during the answer of {_origin(url)}: {_reason(exc)}"
                ),
                reached_server=True,
            ) from None
        except requests.exceptions.RequestException as exc:
            raise AttemptFailed(
                NetworkError(f"request to {_origin(url)} failed: {_reason(exc)}"),
                reached_server=True,
                retryable=False,
            ) from None
        except OSError as exc:
            # requests checks the CA bundle (REQUESTS_CA_BUNDLE included) only when sending.
            raise AttemptFailed(
                NetworkError(
                    f"cannot set up TLS for {_origin(url)}: {exc}",
                    hint="check --ca-bundle and REQUESTS_CA_BUNDLE",
                ),
                reached_server=False,
                retryable=False,
            ) from None
        if not raw.reason:
            from vcctl.hints import reason_phrase

            raw.reason = reason_phrase(raw.status_code)
        response = Response(
            status=raw.status_code,
            reason=raw.reason,
            headers=raw.headers,
            body=raw.content,
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
            shown = mask(value) if name.lower() in ("apikey", "apitoken") else value
            self._log(f"> {name}: {shown}")
        body = prepared.body
        if body:
            data = body if isinstance(body, bytes) else str(body).encode()
            self._log(f"> {_truncate(data)}")

    def _log_response(self, response: Response, elapsed: float) -> None:
        if self._log is None:
            return
        self._log(f"< {response.status} {response.reason} ({elapsed * 1000:.0f} ms)")
        for name, value in response.headers.items():
            self._log(f"< {name}: {value}")
        if response.body:
            self._log(f"< {_truncate(response.body)}")


def _truncate(body: bytes) -> str:
    text = body[:DEBUG_BODY_LIMIT].decode("utf-8", errors="replace")
    if len(body) > DEBUG_BODY_LIMIT:
        text += f"… ({len(body)} bytes)"
    return text


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
