"""Keys without SQL: the claim a create holds, who holds a pending one and whether that process
still runs, and the errors a blocked or busy key raises."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vcctl.errors import KeyBlockedError, KeyPendingError
from vcctl.inventory.records import Account, Record
from vcctl.resources import Kind

if TYPE_CHECKING:
    from vcctl.inventory.store.key_rows import KeyStore

CLAIM_WAIT = 120.0  # seconds a create waits for another process holding the same key
HOST = os.uname().nodename


@dataclass(frozen=True)
class KeyRow:
    """One key as the store keeps it: `state` is pending, created or unknown; `id` is the
    resource a created key names; `since` (unix seconds) when it got that state."""

    kind: Kind
    scope: str
    key: str
    state: str
    id: str | None
    since: float
    pid: int | None = None
    host: str | None = None

    @property
    def holder(self) -> Holder:
        return Holder(self.pid, self.host, self.since)

    def same_as(self, other: KeyRow | None) -> bool:
        """Whether `other` (None: no row) still says what this row says: state and id."""
        return other is not None and (self.state, self.id) == (other.state, other.id)


@dataclass(frozen=True)
class Holder:
    """The process that holds a pending claim."""

    pid: int | None
    host: str | None
    since: float

    def is_gone(self) -> bool:
        """True when it no longer runs. Only this host's processes can be checked; another
        host's claim is waited for. (A recycled pid reads as alive: a wait, never a duplicate.)"""
        if self.pid is None:
            return True
        if self.host != HOST:
            return False
        try:
            os.kill(int(self.pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


class Claim:
    """A key held for one create in flight. Resolve it exactly once: `created(resource)`,
    `failed()` (certainly not created: the key is free again) or `unknown()` (sent, outcome
    unknown: the key stays blocked). As a context manager, leaving the block unresolved by an
    exception counts as unknown."""

    def __init__(
        self, inventory: KeyStore, account: Account, kind: Kind, scope: str, key: str, token: str
    ) -> None:
        self.inventory = inventory
        self.account = account
        self.kind = kind
        self.scope = scope
        self.key = key
        self.token = token
        self.resolved = False

    def created(self, resource: Mapping[str, Any]) -> Record:
        self._once()
        self.inventory.resolve_claim(self, "created", resource)
        record = self.inventory.get(self.account, self.kind, str(resource["id"]))
        assert record is not None  # written in the transaction that just committed
        return record

    def failed(self) -> None:
        self._once()
        self.inventory.resolve_claim(self, None, None)

    def unknown(self) -> None:
        self._once()
        self.inventory.resolve_claim(self, "unknown", None)

    def _once(self) -> None:
        if self.resolved:
            raise RuntimeError(f"the claim on key {self.key!r} is already resolved")
        self.resolved = True

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if not self.resolved:
            self.unknown()


def local_time(moment: float) -> str:
    return datetime.fromtimestamp(moment).astimezone().isoformat(timespec="seconds")


def blocked_error(path: Path, key: str, since: float) -> KeyBlockedError:
    return KeyBlockedError(
        f"key {key!r}: a create sent {local_time(since)} has an unknown outcome (it may exist)",
        path=str(path),
        key=key,
        since=since,
    )


def pending_error(path: Path, key: str, holder: Holder, waited: float) -> KeyPendingError:
    return KeyPendingError(
        f"key {key!r} is being created by another vcctl (pid {holder.pid} on {holder.host}) "
        f"since {local_time(holder.since)}; gave up waiting after {waited:g} s",
        path=str(path),
        key=key,
        since=holder.since,
    )
