"""Typed failures, the exit codes they map to, and the rule for operations on several items.

The core raises these; only `vcctl.cli.main` turns them into a message and an exit code. The codes
and the multi-item rule are described in README.md ("Exit codes") and docs/design.md.
"""

from __future__ import annotations

from collections.abc import Sequence
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
EXIT_BLOCKED = 11  # a key whose earlier create has an unknown outcome, or a stack lock held
EXIT_PLAN_CHANGES = 12  # apply --dry-run --exit-code: the plan has changes (terraform's 2)
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a process killed by a closed pipe

CREDENTIALS_HINT = (
    "run 'vcctl auth login', or set VCCTL_API_KEY and VCCTL_API_TOKEN "
    "(try 'vcctl emulator exec -- ...' to rehearse without an account)"
)


class VcctlError(Exception):
    """Base of every failure vcctl reports without a traceback.

    `maybe_carried_out`: the request that failed may have been carried out by the API all the
    same (a create sent whose answer was lost, a 500 after sending). The HTTP client sets it
    where it knows; a keyed create then leaves its key blocked instead of freeing it.
    """

    exit_code = EXIT_INTERNAL

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        maybe_carried_out: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.status = status
        self.maybe_carried_out = maybe_carried_out

    def to_json(self) -> dict[str, Any]:
        return {
            "error": {"exit_code": self.exit_code, "status": self.status, "message": self.message}
        }


class UsageError(VcctlError):
    """Bad usage or invalid input detected locally: nothing was sent."""

    exit_code = EXIT_USAGE
    # Without a hint of its own, `vcctl.cli.main` ends it with "see 'vcctl ... --help'", as it does
    # the parser's refusals.
    points_to_help = True


class NotConfirmed(UsageError):
    """The person at the terminal did not confirm: nothing was done (the help would not help)."""

    points_to_help = False


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
        maybe_carried_out: bool = False,
    ):
        super().__init__(message, hint=hint, status=status, maybe_carried_out=maybe_carried_out)
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


class CommandLineError(UsageError):
    """The command line could not be parsed (typer's own refusal), with the code typer chose."""

    def __init__(self, message: str, *, hint: str | None = None, exit_code: int = EXIT_USAGE):
        super().__init__(message, hint=hint)
        self.exit_code = exit_code


class MultiItemFailure(VcctlError):
    """Some or all items of a multi-item operation (several ids, a batch file) failed.

    Each failure was reported already, item by item: `vcctl.cli.main` prints nothing more and exits
    with the code `multi_item_exit_code` chose.
    """

    def __init__(self, message: str, *, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def multi_item_exit_code(failure_codes: Sequence[int], *, succeeded: int) -> int:
    """The exit code of an operation on several items, from its failures in input order.

    All succeeded: 0. Some failed: 10. All failed: the code they share, else the first failure's.
    """
    if not failure_codes:
        return EXIT_OK
    if succeeded:
        return EXIT_PARTIAL
    return failure_codes[0]


def raise_for_items(failure_codes: Sequence[int], *, succeeded: int, what: str = "items") -> None:
    """Raise `MultiItemFailure` with the multi-item exit code, unless every item succeeded."""
    code = multi_item_exit_code(failure_codes, succeeded=succeeded)
    if code != EXIT_OK:
        failed = len(failure_codes)
        raise MultiItemFailure(f"{failed} of {failed + succeeded} {what} failed", exit_code=code)


class PlanHasChanges(MultiItemFailure):
    """`apply --dry-run --exit-code` found changes to make: exit 12, the plan already printed
    (terraform's `plan -detailed-exitcode` exits 2 for this; 2 is vcctl's usage error)."""

    def __init__(self) -> None:
        super().__init__("the plan has changes", exit_code=EXIT_PLAN_CHANGES)


class Stopped(KeyboardInterrupt):
    """A stop signal raised in the main thread by vcctl's handlers (see `vcctl.halt`): Ctrl-C,
    and SIGTERM or SIGHUP delivered the way Ctrl-C is, so that every command that reports its
    finished work on Ctrl-C (multi-id calls, apply) does so for them too.

    Never a bare KeyboardInterrupt: CPython (3.11 at least) remembers one that leaves code
    compiled from a string, even once caught (dataclasses and named tuples make their methods
    that way, so a signal landing in an import can do it), and `python -m vcctl` then ends by
    SIGINT whatever its exit code: a watch ended by SIGTERM died by SIGINT instead of exiting
    0. The check is for KeyboardInterrupt itself; a subclass is not remembered.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


# The SIGTERM or SIGHUP that is stopping this run, if one came: its exit code is 128 + its number.
_stopping_signal: int | None = None


def note_stop_signal(signum: int | None) -> None:
    """Remember the signal that is stopping this run (None: a new run, none yet); `Interrupted`
    takes its exit code from it. The handlers are in `vcctl.halt`."""
    global _stopping_signal
    _stopping_signal = signum


class Interrupted(VcctlError):
    """Stopped by a signal: 130 for Ctrl-C, or 128 + the signal's number (SIGTERM 143).

    Without an explicit exit code, the signal that is stopping the run decides it (Ctrl-C when
    none was recorded). `work_abandoned`: requests are still under way in other threads, which
    vcctl chose not to wait for (a second Ctrl-C); the process ends without joining them.
    """

    exit_code = EXIT_INTERRUPTED

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        exit_code: int | None = None,
        work_abandoned: bool = False,
    ) -> None:
        super().__init__(message, hint=hint)
        if exit_code is None:
            exit_code = EXIT_INTERRUPTED if _stopping_signal is None else 128 + _stopping_signal
        self.exit_code = exit_code
        self.work_abandoned = work_abandoned


class NotSent(Interrupted):
    """A request given up before it was sent, because the run is stopping (a stop signal came
    while it waited for its turn, or for a retry whose earlier attempts did nothing): the API
    did nothing for it."""


class InventoryError(VcctlError):
    """The local inventory cannot be used: unreadable, newer than this vcctl, or not writable.

    A plain API call goes on with a warning; a command that needs the inventory stops before
    sending anything."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, path: str, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.path = path


class BlockedError(VcctlError):
    """Nothing was sent because something another run left, or still holds, stands in the way:
    a key whose earlier create has an unknown outcome, a key or a stack another vcctl holds
    past the wait. Exit 11: the person (or the next run) must look before going on."""

    exit_code = EXIT_BLOCKED


class KeyBlockedError(BlockedError):
    """A create with this key was sent but its outcome is unknown (a timeout, a 5xx, a crash):
    creating again could make a duplicate, so the key is refused until the user decides.
    `key`, `scope` (as `vcctl.inventory.claims` describes it) and `since` (unix time) say which
    key and since when; the hint names the command that frees exactly that key."""

    def __init__(self, message: str, *, key: str, scope: str, since: float, hint: str):
        super().__init__(message, hint=hint)
        self.key = key
        self.scope = scope
        self.since = since


class KeyPendingError(BlockedError):
    """Another live process holds the key for its own create and did not finish in time."""

    def __init__(self, message: str, *, key: str, scope: str, since: float):
        super().__init__(message, hint="try again once the other vcctl command has finished")
        self.key = key
        self.scope = scope
        self.since = since


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
