"""The key protocol: one state machine for every create with a key, whatever command sends it
(`--key`, a batch row, `apply` with the inventory or with `--state`), whatever store keeps it.

A key (`KeyRef`: account, kind, scope, key) has no row, or a row in one of three states:

    (none) ──claim──▶ pending ──created──▶ created
                        │  │
                        │  └──failed──▶ (none)        certainly not created: free again
                        └──unknown─▶ unknown            sent, outcome unknown: blocked

- `pending` names its owner (host, pid, process start): the one create in flight. Another
  process that finds it waits for the outcome while the owner lives; an owner that died (a crash
  between send and record) leaves the key `unknown`. An owner on another host cannot be checked:
  it is waited for, and counted as dead once its claim is older than `PENDING_LEASE`.
- `created` names the id it made. Claiming it gives that resource (the caller checks that it
  still exists); once its record is gone, claiming it takes it again to create anew.
- `unknown` refuses every claim (KeyBlockedError, exit 11) until the key is forgotten, or the
  claim is made with `retry_unknown`.
- Forgetting a key removes its row; adopting one (`apply --export`) makes it `created`.

Every change is a compare-and-set on the whole row (`KeyTable.swap_key`), so two processes
racing for a key never both win; the loser looks again. No SQL here: a store implements
`KeyTable` (the inventory's SQL store, apply's state file).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal, NamedTuple, Protocol, TypeVar

from vcctl.errors import KeyBlockedError, KeyPendingError, NotSent, VcctlError
from vcctl.halt import process_halt
from vcctl.inventory import scopes
from vcctl.inventory.records import Account
from vcctl.resources import Kind

State = Literal["pending", "created", "unknown"]
PENDING: State = "pending"
CREATED: State = "created"
UNKNOWN: State = "unknown"

CLAIM_WAIT = 300.0  # seconds a create waits for another live process holding the same key
PENDING_LEASE = 3600.0  # a claim of another host older than this is taken for abandoned
START_TOLERANCE = 2.0  # seconds two readings of one process's start time may differ by


class KeyRef(NamedTuple):
    """Which key: unique in (account, kind, scope, key); see `vcctl.inventory.scopes`."""

    account: Account
    kind: Kind
    scope: str
    key: str

    def describe(self) -> str:
        return scopes.describe(self.kind, self.scope, self.key)


class Owner(NamedTuple):
    """The process holding a pending claim: its host, pid and start time (unix seconds; None
    where the system does not tell), so that a recycled pid is not taken for it."""

    host: str
    pid: int
    start: float | None

    def state(self) -> Literal["alive", "dead", "unknowable"]:
        """Whether it still runs. Only processes of this host can be checked."""
        if self.host != this_host():
            return "unknowable"
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return "dead"
        except PermissionError:
            pass  # it exists, and is another user's
        except (OverflowError, ValueError):
            return "dead"
        started = process_start(self.pid)
        if (
            self.start is not None
            and started is not None
            and (abs(started - self.start) > START_TOLERANCE)
        ):
            return "dead"  # another process now has its pid
        return "alive"

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"


class KeyRow(NamedTuple):
    """One key as a store keeps it. `since` (unix seconds): when it got its state (a pending or
    unknown key: when its create was claimed). `token`: changes with every claim, so that a
    claim resolves only the row it made."""

    kind: Kind
    scope: str
    key: str
    state: State
    id: str | None = None
    since: float = 0.0
    owner: Owner | None = None
    token: str | None = None

    def describe(self) -> str:
        return scopes.describe(self.kind, self.scope, self.key)


T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class KeyTable(Protocol[T_co]):
    """What a store implements for the key protocol (the SQL stores, apply's state file).

    `swap_key` is the only write: atomically, if the key's row is `expected` (None: no row), it
    becomes `new` (None: removed). With `resource` (a create's answer) the store records the
    resource in the same transaction, whether or not the row still matched. Rows compare whole
    (state, id, since, owner, token)."""

    def read_key(self, ref: KeyRef) -> KeyRow | None: ...

    def swap_key(
        self,
        ref: KeyRef,
        expected: KeyRow | None,
        new: KeyRow | None,
        *,
        resource: Mapping[str, Any] | None = None,
    ) -> bool: ...

    def live_target(self, ref: KeyRef, row: KeyRow) -> T_co | None:
        """What a created key names, if it still exists as far as the store knows (None: gone,
        so the key may be claimed to create it anew)."""
        ...

    def release_hint(self, ref: KeyRef) -> str:
        """How a person frees exactly this key (the command to run), for a blocked key's hint."""
        ...


def halting_sleep(seconds: float) -> None:
    """Wait on the run's stop token (`vcctl.halt`): a stop signal ends the wait at once, and
    the create it was waiting to send is not sent."""
    if process_halt().wait(seconds):
        raise NotSent("not sent: stopped while waiting for another vcctl's create with this key")


class Patience:
    """How a claim waits for another live process's create: up to `budget` seconds, sleeping
    with `sleep` (by default on the run's stop token: a signal ends it within a poll), telling
    `on_wait` once when the wait begins (a message on a terminal)."""

    def __init__(
        self,
        budget: float = CLAIM_WAIT,
        sleep: Callable[[float], None] = halting_sleep,
        on_wait: Callable[[KeyRow], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.budget = budget
        self.sleep = sleep
        self.on_wait = on_wait
        self.clock = clock


# -- the decisions, without any store -----------------------------------------------------------

Step = Literal["take", "found", "wait", "abandoned", "blocked"]


def next_step(
    row: KeyRow | None,
    *,
    retry_unknown: bool,
    live: bool,
    owner_state: Callable[[Owner], str] = Owner.state,
    now: float | None = None,
) -> Step:
    """What a claim does with the row it read: take the key (to send a create), return what it
    names (`found`; `live`: a created key's resource still exists), wait for its live owner,
    mark an abandoned claim unknown, or refuse it."""
    if row is None:
        return "take"
    if row.state == PENDING:
        if row.owner is None:
            return "abandoned"
        state = owner_state(row.owner)
        if state == "dead":
            return "abandoned"
        moment = time.time() if now is None else now
        if state == "unknowable" and moment - row.since > PENDING_LEASE:
            return "abandoned"
        return "wait"
    if row.state == CREATED:
        return "found" if live else "take"
    return "take" if retry_unknown else "blocked"


def in_flight(row: KeyRow) -> bool:
    """A pending claim whose owner may still be sending its create (to be waited for)."""
    return row.state == PENDING and next_step(row, retry_unknown=False, live=False) == "wait"


def effective_state(row: KeyRow) -> State:
    """What a row means now: a pending claim whose owner is gone is an unknown outcome."""
    return UNKNOWN if row.state == PENDING and not in_flight(row) else row.state


def claim(
    table: KeyTable[T],
    ref: KeyRef,
    *,
    retry_unknown: bool = False,
    patience: Patience | None = None,
) -> Claim | T:
    """Hold `ref` before sending a create, or find what it already names.

    Returns a `Claim` (send the create, then resolve it) or what a created key names (the
    caller makes sure it still exists). Waits while another live process holds the key.
    Raises KeyBlockedError (outcome unknown), KeyPendingError (still held after the wait), or
    what the store raises (InventoryError: nothing sent).
    """
    patience = patience or Patience()
    deadline: float | None = None
    pause = 0.01
    # Most keys are new: taking it as if it had no row costs one atomic write where reading
    # first costs a read and then that write (over a network, a round trip each). A key that
    # has a row is unchanged by it, and read as before.
    mine = pending_row(ref)
    if table.swap_key(ref, None, mine):
        return Claim(table, ref, mine)
    while True:
        row = table.read_key(ref)
        target = table.live_target(ref, row) if row is not None and row.state == CREATED else None
        step = next_step(row, retry_unknown=retry_unknown, live=target is not None)
        if step == "found":
            assert target is not None
            return target
        if step == "take":
            mine = pending_row(ref)
            if table.swap_key(ref, row, mine):
                return Claim(table, ref, mine)
            continue  # someone changed it meanwhile: look again
        assert row is not None
        if step == "abandoned":
            # Its create was sent (or about to be) by a process that is gone: nobody knows.
            table.swap_key(ref, row, row._replace(state=UNKNOWN, owner=None, token=None))
            continue
        if step == "blocked":
            raise blocked_error(ref, row, table.release_hint(ref))
        # step == "wait": a live owner's create is in flight.
        if deadline is None:
            deadline = patience.clock() + patience.budget
            if patience.on_wait is not None:
                patience.on_wait(row)
        if patience.clock() >= deadline:
            raise pending_error(ref, row, patience.budget)
        patience.sleep(pause)
        pause = min(pause * 1.5, 0.2)


def adopt(table: KeyTable[Any], ref: KeyRef, id: str) -> None:
    """Make the key name `id` whatever it held (`apply --export` records existing rooms)."""
    while True:
        row = table.read_key(ref)
        if table.swap_key(ref, row, KeyRow(ref.kind, ref.scope, ref.key, CREATED, id, time.time())):
            return


def release(table: KeyTable[Any], ref: KeyRef, *, expected: KeyRow | None = None) -> bool:
    """Remove the key's row (`expected`: only if it still is that row); False when it had none
    or it changed."""
    row = table.read_key(ref) if expected is None else expected
    if row is None:
        return False
    return table.swap_key(ref, row, None)


class Claim:
    """A key held for one create in flight. Resolve it exactly once: `created(resource)`,
    `failed()` (certainly not created: the key is free again) or `unknown()` (sent, outcome
    unknown: the key stays blocked). As a context manager, leaving the block unresolved by an
    exception counts as unknown. A claim that was taken from it meanwhile (`inventory forget
    --key`) changes nothing; a created resource is recorded all the same."""

    def __init__(self, table: KeyTable[Any], ref: KeyRef, row: KeyRow) -> None:
        self.table = table
        self.ref = ref
        self.row = row
        self.resolved = False

    @property
    def since(self) -> float:
        return self.row.since

    def created(self, resource: Mapping[str, Any]) -> None:
        """The API answered with `resource` (committed before the caller prints it)."""
        self._once()
        new = self.row._replace(
            state=CREATED, id=str(resource["id"]), since=time.time(), owner=None
        )
        self.table.swap_key(self.ref, self.row, new._replace(token=None), resource=resource)

    def failed(self) -> None:
        self._once()
        self.table.swap_key(self.ref, self.row, None)

    def unknown(self) -> None:
        self._once()
        self.table.swap_key(self.ref, self.row, self.row._replace(state=UNKNOWN, owner=None))

    def resolve(self, error: BaseException) -> None:
        """A create that failed with `error`: unknown if it may have been carried out."""
        if outcome_unknown(error):
            self.unknown()
        else:
            self.failed()

    def _once(self) -> None:
        if self.resolved:
            raise RuntimeError(f"the claim on {self.ref.describe()} is already resolved")
        self.resolved = True

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if not self.resolved:
            self.unknown()


def outcome_unknown(error: BaseException) -> bool:
    """Whether a create that failed with `error` may have been carried out all the same: the
    client says so on the error; anything else (Ctrl-C, a bug mid-create) may have sent it."""
    if isinstance(error, VcctlError):
        return error.maybe_carried_out
    return True


# -- the owner of a claim -----------------------------------------------------------------------


def this_host() -> str:
    return socket.gethostname()


def this_process() -> Owner:
    """The current process, as a pending claim names it (asked each time: a fork changes it)."""
    pid = os.getpid()
    return Owner(this_host(), pid, process_start(pid))


def pending_row(ref: KeyRef) -> KeyRow:
    return KeyRow(ref.kind, ref.scope, ref.key, PENDING, None, time.time(), this_process(), token())


def token() -> str:
    return os.urandom(12).hex()


_BOOT_TIME: list[float] = []


def process_start(pid: int) -> float | None:
    """When process `pid` started (unix seconds), from /proc; None where there is no /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        ticks = int(fields[19])  # field 22 of stat(5), counted after the command name
        if not _BOOT_TIME:
            with open("/proc/stat", "rb") as handle:
                for line in handle:
                    if line.startswith(b"btime "):
                        _BOOT_TIME.append(float(line.split()[1]))
                        break
        return _BOOT_TIME[0] + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


# -- what a blocked or busy key says -----------------------------------------------------------


def local_time(moment: float) -> str:
    return datetime.fromtimestamp(moment).astimezone().isoformat(timespec="seconds")


def blocked_error(ref: KeyRef, row: KeyRow, release_hint: str) -> KeyBlockedError:
    return KeyBlockedError(
        f"{ref.describe()}: an earlier create's outcome is unknown (sent {local_time(row.since)};"
        " it may exist)",
        key=ref.key,
        scope=ref.scope,
        since=row.since,
        hint=f"check whether it was created, then {release_hint}; or pass --retry-unknown to "
        "create it anyway",
    )


def pending_error(ref: KeyRef, row: KeyRow, waited: float) -> KeyPendingError:
    owner = row.owner.describe() if row.owner is not None else "another process"
    return KeyPendingError(
        f"{ref.describe()} is being created by another vcctl ({owner}) since "
        f"{local_time(row.since)}; gave up waiting after {waited:g} s",
        key=ref.key,
        scope=ref.scope,
        since=row.since,
    )
