"""Typed failures and the exit codes they map to (contract section 5).

The core raises these; only `vcctl.cli` turns them into a message and an exit code.
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_BAD_REQUEST = 3
EXIT_UNAUTHORIZED = 4
EXIT_REQUEST_FAILED = 5
EXIT_NOT_FOUND = 6
EXIT_RATE_LIMITED = 7
EXIT_SERVER_ERROR = 8
EXIT_NETWORK = 9
EXIT_PARTIAL = 10
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a process killed by a closed pipe

CREDENTIALS_HINT = (
    "run 'vcctl auth login', or set VCCTL_API_KEY and VCCTL_API_TOKEN "
    "(try 'vcctl emulator exec -- ...' to rehearse without an account)"
)


class VcctlError(Exception):
    """Base of every failure vcctl reports without a traceback."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str, *, hint: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.status = status

    def to_json(self) -> dict[str, Any]:
        return {
            "error": {"exit_code": self.exit_code, "status": self.status, "message": self.message}
        }


class UsageError(VcctlError):
    """Bad usage or invalid input detected locally: nothing was sent."""

    exit_code = EXIT_USAGE


class ConfigError(VcctlError):
    """The configuration (file, environment, flags) is unusable: nothing was sent."""

    exit_code = EXIT_USAGE


class CredentialsError(VcctlError):
    """No usable credentials are configured: nothing was sent."""

    exit_code = EXIT_UNAUTHORIZED

    def __init__(self, message: str, *, hint: str | None = CREDENTIALS_HINT):
        super().__init__(message, hint=hint)


class ApiError(VcctlError):
    """The API answered with an error status."""

    exit_code = EXIT_BAD_REQUEST

    def __init__(
        self,
        message: str,
        *,
        status: int,
        api_message: str | None = None,
        hint: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, hint=hint, status=status)
        self.api_message = api_message
        self.body = body
        self.retry_after = retry_after  # seconds the API asked to wait, if it said


class BadRequestError(ApiError):
    exit_code = EXIT_BAD_REQUEST


class UnauthorizedError(ApiError):
    exit_code = EXIT_UNAUTHORIZED


class RequestFailedError(ApiError):
    exit_code = EXIT_REQUEST_FAILED


class NotFoundError(ApiError):
    exit_code = EXIT_NOT_FOUND


class RateLimitedError(ApiError):
    exit_code = EXIT_RATE_LIMITED


class ServerError(ApiError):
    exit_code = EXIT_SERVER_ERROR


class NetworkError(VcctlError):
    """No usable answer: cannot connect, timeout, TLS failure, refused redirect, not JSON."""

    exit_code = EXIT_NETWORK


class InvalidResponseError(NetworkError):
    """The server answered, but not with the JSON the call expects."""


class PartialFailure(VcctlError):
    """A batch where some items succeeded and others failed (each reported already)."""

    exit_code = EXIT_PARTIAL


class Interrupted(VcctlError):
    exit_code = EXIT_INTERRUPTED


def api_error_class(status: int) -> type[ApiError]:
    """The exception class for an HTTP error status."""
    if status == 400:
        return BadRequestError
    if status in (401, 403):
        return UnauthorizedError
    if status == 402:
        return RequestFailedError
    if status == 404:
        return NotFoundError
    if status == 429:
        return RateLimitedError
    if status >= 500:
        return ServerError
    # Other 4xx statuses are not documented by the API; the request was refused as invalid.
    return BadRequestError
