"""What a place that keeps the inventory implements, so that commands never know which one it is.

`vcctl.inventory.store.Inventory` (the SQLite file) is one; a second backend (a shared database)
implements the same methods with the same promises, and nothing above this line changes:
`Recorder.require()` hands out an `InventoryStore`, the key protocol (`vcctl.inventory.claims`)
runs on its `KeyTable` methods, and `key_listing`, `listing`, apply's `InventoryState` use the
rest.

The promises every backend keeps:

- Many processes at once lose nothing: each write is one transaction; `record_many` writes all
  its resources in one.
- `swap_key` is atomic across every process that shares the store: read the key's row, compare
  it whole with `expected` (state, id, since, owner, token), write `new` (or remove the row)
  only if they match; `resource`, when given, is recorded in the same transaction whether or
  not the row matched. It is the only write of a key's state besides the releases below.
- Failures are InventoryError (exit 2) naming where the store is (`path`); a store that is
  newer than this vcctl, or not one vcctl made, is refused and never modified.
- An account is the normalised base URL and the API key's fingerprint (`records.account_for`).
- `stack_lock` is held by one process at a time among all that share the store, whatever
  machine they run on, and names its holder; locks of different stacks are independent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from vcctl.inventory.claims import KeyRef, KeyRow
from vcctl.inventory.locks import Lock
from vcctl.inventory.records import Account, ListedColumn, Record
from vcctl.resources import Kind


class InventoryStore(Protocol):
    """An open inventory; `close()` it (or use it as a context manager)."""

    path: Path  # where it is, for messages (a URL's path for a database, its password masked)
    warnings: list[str]  # what opening it found and fixed, for the command to show
    keys_changed: bool  # whether this connection changed which keys name live resources

    def close(self) -> None: ...

    # -- records -------------------------------------------------------------------------------

    def record(self, account: Account, kind: Kind, resource: Mapping[str, Any]) -> Record: ...

    def record_many(
        self,
        account: Account,
        kind: Kind,
        resources: Sequence[Mapping[str, Any]],
        *,
        fetch: bool = True,
    ) -> list[Record]: ...

    def mark_gone(self, account: Account, kind: Kind, id: str) -> bool: ...

    def list_records(
        self,
        account: Account | None,
        kind: Kind,
        *,
        name_glob: str | None = None,
        created_before: datetime | None = None,
        created_after: datetime | None = None,
        include_gone: bool = False,
        room_id: str | None = None,
        with_participants: bool = False,
    ) -> list[Record]: ...

    def list_rows(
        self,
        account: Account | None,
        kind: Kind,
        columns: Sequence[ListedColumn],
        *,
        name_glob: str | None = None,
        created_before: datetime | None = None,
        created_after: datetime | None = None,
        include_gone: bool = False,
        room_id: str | None = None,
    ) -> list[tuple[Any, ...]]:
        """A listing's table: the named columns of `list_records`' matches, a tuple a row."""
        ...

    def participant_counts(self, account: Account | None) -> dict[tuple[str, str], int]: ...

    def get(self, account: Account, kind: Kind, id: str) -> Record | None: ...

    def forget_ids(self, account: Account, ids: Iterable[str]) -> list[str]: ...

    # -- keys: the key protocol's table (`claims.KeyTable`) ------------------------------------

    def read_key(self, ref: KeyRef) -> KeyRow | None: ...

    def swap_key(
        self,
        ref: KeyRef,
        expected: KeyRow | None,
        new: KeyRow | None,
        *,
        resource: Mapping[str, Any] | None = None,
    ) -> bool: ...

    def live_target(self, ref: KeyRef, row: KeyRow) -> Record | None: ...

    def release_hint(self, ref: KeyRef) -> str: ...

    # -- keys: listing and releasing -----------------------------------------------------------

    def list_keys(
        self,
        account: Account,
        *,
        kind: Kind | None = None,
        scopes: Sequence[str] | None = None,
        key: str | None = None,
        stack: str | None = None,
    ) -> list[KeyRow]: ...

    def forget_keys(self, account: Account, rows: Sequence[KeyRow]) -> int: ...

    def forget_scope(self, account: Account, kind: Kind, scope: str) -> int: ...

    def indexed_keys(self) -> list[tuple[str, str, str]]: ...

    # -- apply's stack locks -------------------------------------------------------------------

    def stack_lock(self, account: Account, scope: str) -> Lock: ...

    # -- keys: what the last apply set -----------------------------------------------------------

    def set_applied(self, applied: Sequence[tuple[KeyRef, str, Mapping[str, Any]]]) -> int:
        """For each (key, id, fields): keep the fields on the key's row, in one transaction,
        where the key is created and names that id; any swap of the row drops them."""
        ...

    def list_applied(
        self, account: Account, scopes: Sequence[str]
    ) -> dict[tuple[str, str, str], dict[str, Any]]:
        """What `set_applied` kept on the account's created keys in these scopes:
        (kind, scope, key) -> fields."""
        ...
