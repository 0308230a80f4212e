"""What each way an attempt can fail tells: an `AttemptFailed` with the message a person reads,
whether the request may have reached the server, and whether trying again can help.

Every exception raised while sending or reading becomes one: the retry decision is the client's,
and nothing from the transport escapes untyped.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from vcctl.errors import InvalidResponseError, NetworkError
from vcctl.http.body import DeadlinePassed, TooLarge, UnknownEncoding, describe_size

MAX_ANSWER_HINT = "set VCCTL_MAX_ANSWER_BYTES to a larger number of bytes to accept it"


class AttemptFailed(Exception):
    """A transport failure of one attempt, with what it tells about safety to retry."""

    def __init__(self, error: NetworkError, *, reached_server: bool, retryable: bool = True):
        super().__init__(error.message)
        self.error = error
        self.reached_server = reached_server
        self.retryable = retryable


def timed_out(url: str, timeout: float, *, answered: bool) -> AttemptFailed:
    """The attempt's time (--timeout: connecting, headers and body together) ran out."""
    return AttemptFailed(
        NetworkError(
            f"the answer of {origin(url)} took longer than {timeout:g} s"
            if answered
            else f"no answer from {origin(url)} within {timeout:g} s",
            hint="raise --timeout if the API is slow",
        ),
        reached_server=True,
    )


def send_failure(exc: Exception, url: str, timeout: float, *, expired: bool) -> AttemptFailed:
    """The AttemptFailed for an exception raised while sending and reading the headers."""
    import requests

    if expired:  # the deadline shut the socket down
        return timed_out(url, timeout, answered=False)
    if isinstance(exc, requests.exceptions.SSLError):
        return AttemptFailed(
            NetworkError(
                f"TLS failure talking to {origin(url)}: {_reason(exc)}",
                hint="use --ca-bundle for a private certificate authority",
            ),
            reached_server=False,
            retryable=False,
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return AttemptFailed(
            NetworkError(f"timed out connecting to {origin(url)}"), reached_server=False
        )
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return timed_out(url, timeout, answered=False)
    if isinstance(exc, requests.exceptions.ConnectionError):
        reached = not _is_connect_failure(exc)
        what = "connection lost" if reached else "cannot connect"
        return AttemptFailed(
            NetworkError(f"{what} to {origin(url)}: {_reason(exc)}"), reached_server=reached
        )
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return answer_cut_off(exc, url)
    if isinstance(exc, requests.exceptions.RequestException):
        return AttemptFailed(
            NetworkError(f"request to {origin(url)} failed: {_reason(exc)}"),
            reached_server=True,
            retryable=False,
        )
    if isinstance(exc, OSError):
        # requests checks the CA bundle (REQUESTS_CA_BUNDLE included) only when sending.
        return AttemptFailed(
            NetworkError(
                f"cannot set up TLS for {origin(url)}: {exc}",
                hint="check --ca-bundle and REQUESTS_CA_BUNDLE",
            ),
            reached_server=False,
            retryable=False,
        )
    # Anything else (a malformed header, a bug below requests) is still this call's failure.
    return AttemptFailed(
        NetworkError(f"request to {origin(url)} failed: {type(exc).__name__}: {_reason(exc)}"),
        reached_server=True,
        retryable=False,
    )


def read_failure(
    exc: Exception, url: str, status: int, *, timeout: float, limit: int, expired: bool
) -> AttemptFailed:
    """The AttemptFailed for an exception raised while reading the body."""
    import zlib

    if isinstance(exc, TooLarge):
        size = describe_size(limit)
        return AttemptFailed(
            InvalidResponseError(
                f"HTTP {status}: the answer of {origin(url)} is larger than {size}, the limit on "
                "an answer's size; not read further",
                hint=MAX_ANSWER_HINT,
                status=status,
            ),
            reached_server=True,
            retryable=False,
        )
    if isinstance(exc, DeadlinePassed) or expired:
        return timed_out(url, timeout, answered=True)
    if isinstance(exc, UnknownEncoding | zlib.error):
        from vcctl.http.hints import excerpt

        return AttemptFailed(
            InvalidResponseError(
                f"HTTP {status}: the answer of {origin(url)} cannot be decoded "
                f"(Content-Encoding {excerpt(str(exc).encode())})",
                status=status,
            ),
            reached_server=True,
            retryable=False,
        )
    from urllib3.exceptions import ReadTimeoutError

    if isinstance(exc, ReadTimeoutError):
        return timed_out(url, timeout, answered=True)
    return answer_cut_off(exc, url)


def answer_cut_off(exc: Exception, url: str) -> AttemptFailed:
    # The server did receive the request: only a call safe to repeat may be retried.
    return AttemptFailed(
        NetworkError(f"connection lost during the answer of {origin(url)}: {_reason(exc)}"),
        reached_server=True,
    )


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


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
