"""The open inventory file underneath every store operation: the connection and its lock, write
transactions, SQLite errors turned into InventoryError, and the record rows the other store
modules share (upserting one, reading some back by id)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, Self

from vcctl.errors import InventoryError
from vcctl.inventory.records import Account, ListedColumn, Record, created_at_ts
from vcctl.resources import Kind

# Every column of each table, in order: PostgreSQL's spelling of `INSERT OR REPLACE` sets them
# all, and `inventory migrate` copies them all.
TABLE_COLUMNS = {
    "records": (
        "base_url",
        "key_fp",
        "kind",
        "id",
        "room_id",
        "label",
        "data",
        "first_seen",
        "last_seen",
        "gone",
        "created",
    ),
    "keys": (
        "base_url",
        "key_fp",
        "kind",
        "scope",
        "key",
        "state",
        "id",
        "since",
        "pid",
        "host",
        "claim",
        "started",
        "applied",  # what the last apply set; not in the INSERT OR REPLACE: a swapped row loses it
    ),
}

UPSERT = """INSERT INTO records
    (base_url, key_fp, kind, id, room_id, label, data, created, first_seen, last_seen, gone)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
    ON CONFLICT (base_url, key_fp, kind, id) DO UPDATE SET
        room_id = coalesce(excluded.room_id, records.room_id), label = excluded.label,
        data = excluded.data, created = coalesce(excluded.created, records.created),
        last_seen = excluded.last_seen, gone = NULL"""
# Columns in Record's field order: a row becomes a Record positionally (10,000 rows: cheap).
SELECT = """SELECT r.id, r.kind, r.room_id, k.key, r.data, coalesce(r.created, r.first_seen),
    r.first_seen, r.last_seen, r.gone, r.base_url, r.label FROM records r
    LEFT JOIN keys k ON k.state = 'created' AND k.base_url = r.base_url
    AND k.key_fp = r.key_fp AND k.kind = r.kind AND k.id = r.id"""
# Each column a listing's table can show (`Records.list_rows`, `records.ListedColumn`), over
# `records r` and, for the key, `KEY_JOIN`'s `keys k`: only those asked for are fetched (a table
# never decodes the JSON), and the coalescing is SQL's, not a Python step a row.
LISTED: dict[ListedColumn, str] = {
    "id": "r.id",
    "label": "coalesce(r.label, '')",
    "room_id": "coalesce(r.room_id, '')",
    "key": "coalesce(k.key, '')",
    "created": "coalesce(r.created, r.first_seen)",
    "last_seen": "r.last_seen",
    "gone": "r.gone",
    "base_url": "r.base_url",
}
KEY_JOIN = """LEFT JOIN keys k ON k.state = 'created' AND k.base_url = r.base_url
    AND k.key_fp = r.key_fp AND k.kind = r.kind AND k.id = r.id"""


class Cursor(Protocol):
    """What a statement returns, in either backend (sqlite3's or psycopg's cursor)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]:
        """Every row at once (psycopg: far cheaper than iterating the cursor row by row)."""
        ...

    def __iter__(self) -> Iterator[Any]: ...


class Database(Protocol):
    """An open connection that runs the store's SQL (sqlite3's, or the PostgreSQL Session)."""

    def execute(self, sql: str, params: Any = ..., /) -> Cursor: ...

    def executemany(self, sql: str, params: Iterable[Sequence[Any]], /) -> Any:
        """One statement for each row of `params` (in PostgreSQL, pipelined: one round trip)."""
        ...

    def close(self) -> None: ...


def describe(exc: Exception) -> str:
    """A database error in one line: its first (libpq's messages go on over several)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class Connection:
    """An open inventory file. Safe to share between threads (one connection, one lock).

    The PostgreSQL store runs these same statements over its own connection (see
    `store/postgres`): SQL here sticks to what both dialects share, and what differs is a hook
    (`DB_ERRORS`, `_label_glob`)."""

    DB_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, path: Path, connection: Database, *, where: str | None = None) -> None:
        self.path = path
        self.where = str(path) if where is None else where  # for messages: no secret in it
        self._db = connection
        self._lock = threading.RLock()
        self.warnings: list[str] = []  # what opening it found and fixed (a loose file mode)
        # Whether this connection changed which keys name live resources (the key index's cue).
        self.keys_changed = False

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Database]:
        """One write transaction, taken at once so that concurrent writers queue on the busy
        timeout instead of failing on a lock upgrade."""
        with self._lock:
            self._begin()
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _begin(self) -> None:
        """Start a write transaction that holds the store's write lock from its start: writers
        queue one after another, so a read-then-write in one transaction is atomic."""
        self._db.execute("BEGIN IMMEDIATE")

    @contextmanager
    def _translated(self, doing: str) -> Iterator[None]:
        try:
            yield
        except self.DB_ERRORS as exc:
            raise InventoryError(
                f"cannot {doing} inventory {self.where}: {describe(exc)}", path=self.where
            ) from None

    def _label_glob(self, glob: str) -> tuple[str, str]:
        """The condition (and its parameter) for a room name or username matching `glob`."""
        return "r.label GLOB ?", glob

    # -- record rows -------------------------------------------------------------------------

    def _upsert(
        self,
        db: Database,
        account: Account,
        kind: Kind,
        resource: Mapping[str, Any],
        now: float,
    ) -> None:
        db.execute(UPSERT, record_values(account, kind, resource, now))

    def _upsert_many(self, db: Database, rows: Sequence[Sequence[Any]]) -> None:
        """Many `record_values` rows at once (in PostgreSQL one pipeline, not a round trip each)."""
        if rows:
            db.executemany(UPSERT, rows)

    def _by_ids(self, account: Account, kind: Kind, ids: Sequence[str]) -> list[Record]:
        found: dict[str, Record] = {}
        with self._lock:
            self._fetch_into(found, account, kind, ids)
        return [found[i] for i in ids if i in found]

    def _fetch_into(
        self, found: dict[str, Record], account: Account, kind: Kind, ids: Sequence[str]
    ) -> None:
        for start in range(0, len(ids), 500):  # SQLite bounds the number of parameters
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"{SELECT} WHERE r.base_url = ? AND r.key_fp = ? AND r.kind = ?"
                f" AND r.id IN ({marks})",
                (*acct(account), kind, *chunk),
            )
            found.update((row[0], record_of(row)) for row in rows.fetchall())

    def get(self, account: Account, kind: Kind, id: str) -> Record | None:
        """The record of one id, gone or not; None if vcctl never saw it."""
        found = self._by_ids(account, kind, [id])
        return found[0] if found else None


def record_values(
    account: Account, kind: Kind, resource: Mapping[str, Any], now: float
) -> tuple[Any, ...]:
    """The parameters of UPSERT for one resource the API returned."""
    room_id = resource.get("room_id") if kind == "participant" else None
    label = resource.get("name" if kind == "room" else "username")
    return (
        *acct(account),
        kind,
        str(resource["id"]),
        None if room_id is None else str(room_id),
        label if isinstance(label, str) else None,
        json.dumps(resource, separators=(",", ":"), ensure_ascii=False),
        created_at_ts(resource) or now,
        now,
        now,
    )


def acct(account: Account) -> tuple[str, str]:
    return (account.base_url, account.key_fingerprint)


def record_of(row: Sequence[Any]) -> Record:
    return Record(*row)
