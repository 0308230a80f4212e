"""The inventory in a shared PostgreSQL database (a `postgresql://` URL in VCCTL_INVENTORY_URL):
the same store as the SQLite file, for a team and its CI runners on different machines.

Its tables live in their own schema, `vcctl`, created on first use; `vcctl.meta` carries its
version, migrated like the file's (`MIGRATIONS[n]` takes it from n to n + 1). A newer version,
or a `vcctl` schema vcctl did not make, is refused and never modified. The record and key
operations are the SQLite store's own (`Records`, `KeyStore`), run through `Session`, which
translates their SQL; only opening, the write lock and the glob differ.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

from vcctl.errors import InventoryError
from vcctl.inventory.claims import KeyRef, KeyRow
from vcctl.inventory.records import Account
from vcctl.inventory.store.connection import UPSERT, Connection, describe, record_values
from vcctl.inventory.store.key_rows import KeyStore, swap_statement_pg
from vcctl.inventory.store.postgres import stack_locks
from vcctl.inventory.store.postgres.connection import (
    CONNECT_TIMEOUT,
    LOCK_TIMEOUT,
    WRITE_LOCK,
    Session,
    driver,
    glob_to_regex,
    translate,
)
from vcctl.inventory.store.postgres.pool import Pool
from vcctl.inventory.store.record_rows import Records
from vcctl.inventory.store.transfer import Transfer
from vcctl.text import mask_url

SCHEMA = "vcctl"
SCHEMA_VERSION = 4
SETUP_LOCK = WRITE_LOCK + 1  # held while one process creates or migrates the schema
LOCK_WRITES = f"SELECT pg_advisory_xact_lock({WRITE_LOCK})"
BEGIN_LOCKED = f"BEGIN; {LOCK_WRITES}"
SESSION_SETTINGS = f"SET lock_timeout = '{LOCK_TIMEOUT}'; SET search_path TO {SCHEMA}"
DOWN_HINT = (
    "check that the database server is up and the URL right (VCCTL_INVENTORY_URL, or "
    "inventory_url in the profile), or set VCCTL_INVENTORY=off"
)

# Text compares byte by byte, as in SQLite (ids, keys and globs must not follow a locale).
T = 'text COLLATE "C"'
REAL = "double precision"
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        f"CREATE TABLE {SCHEMA}.meta (version integer NOT NULL)",
        f"INSERT INTO {SCHEMA}.meta (version) VALUES (0)",
        f"""CREATE TABLE {SCHEMA}.records (
            base_url {T} NOT NULL, key_fp {T} NOT NULL, kind {T} NOT NULL, id {T} NOT NULL,
            room_id {T}, label {T}, data text NOT NULL,
            first_seen {REAL} NOT NULL, last_seen {REAL} NOT NULL, gone {REAL}, created {REAL},
            PRIMARY KEY (base_url, key_fp, kind, id))""",
        f"CREATE INDEX records_by_created ON {SCHEMA}.records (base_url, key_fp, kind, created)",
        f"CREATE INDEX records_by_room ON {SCHEMA}.records (base_url, key_fp, room_id)",
        f"""CREATE TABLE {SCHEMA}.keys (
            base_url {T} NOT NULL, key_fp {T} NOT NULL, kind {T} NOT NULL,
            scope {T} NOT NULL, key {T} NOT NULL,
            state text NOT NULL CHECK (state IN ('pending', 'created', 'unknown')),
            id {T}, since {REAL} NOT NULL, pid integer, host text, claim text, started {REAL},
            PRIMARY KEY (base_url, key_fp, kind, scope, key))""",
        f"CREATE INDEX keys_by_id ON {SCHEMA}.keys (base_url, key_fp, kind, id)",
    ),
    # 2: who holds each stack's lock (see stack_locks.py)
    tuple(statement.format(schema=SCHEMA) for statement in stack_locks.CREATE_TABLE),
    # 3: what the last apply set on a key's resource (as in the file's schema version 5)
    (f"ALTER TABLE {SCHEMA}.keys ADD COLUMN applied text",),
    # 4: a listing's order (newest first, then by id) read off an index, as in the file's
    # schema version 4: with records_by_created the id tie-break sorted every row first.
    # (IF [NOT] EXISTS: a step run again, say after a version set back by hand, still works.)
    (
        f"CREATE INDEX IF NOT EXISTS records_newest_first ON {SCHEMA}.records"
        " (base_url, key_fp, kind, created DESC, id)",
        f"DROP INDEX IF EXISTS {SCHEMA}.records_by_created",  # its columns lead the new one
    ),
)
assert len(MIGRATIONS) == SCHEMA_VERSION


class PostgresInventory(Records, KeyStore, Transfer, Connection):
    """An open shared inventory (`PostgresInventory.open(url)`). Safe to share between threads,
    like the file: each thread of a run gets a connection of its own (up to `POOL_SIZE`)."""

    def __init__(self, url: str, session: Session) -> None:
        self.url = url
        super().__init__(Path(SCHEMA), session, where=mask_url(url))
        self.DB_ERRORS = (driver().Error,)

    # Each thread its own connection (see pool.py): `_db` and `_lock` are the current thread's.
    @property  # type: ignore[override]
    def _db(self) -> Session:
        return self._pool.current()

    @_db.setter
    def _db(self, session: Session) -> None:
        self._pool = Pool(session, self._connect_worker)

    @property
    def _lock(self) -> threading.RLock:
        return self._pool.current().lock

    @_lock.setter
    def _lock(self, lock: threading.RLock) -> None:
        pass  # each session has its own

    def close(self) -> None:
        self._pool.close()

    @classmethod
    def open(cls, url: str) -> Self:
        inventory = cls(url, _connect(url))
        try:
            with inventory._translated("set up"):
                inventory._prepare()
        except BaseException:
            inventory.close()
            raise
        return inventory

    def _connect_worker(self) -> Session:
        session = _connect(self.url)
        try:
            session.execute_native(SESSION_SETTINGS)
        except BaseException:
            session.close()
            raise
        return session

    def stack_lock(self, account: Account, scope: str) -> stack_locks.AdvisoryLock:
        """The lock of one account's stack (apply), held in the database: it holds between
        processes on every machine that shares the inventory."""
        return stack_locks.AdvisoryLock(
            self._db,
            self._lock,
            self._translated,
            self.DB_ERRORS,
            schema=SCHEMA,
            account=account,
            scope=scope,
        )

    # -- what differs from SQLite ----------------------------------------------------------

    def _begin(self) -> None:
        # One round trip: without parameters, several statements go in one simple query.
        self._db.execute_native(BEGIN_LOCKED)

    def swap_key(
        self,
        ref: KeyRef,
        expected: KeyRow | None,
        new: KeyRow | None,
        *,
        resource: Mapping[str, Any] | None = None,
    ) -> bool:
        """The shared compare-and-set, as one transaction in one message (see key_rows.py)."""
        statements: list[tuple[str, Sequence[Any]]] = [(LOCK_WRITES, ())]
        if resource is not None:
            values = record_values(ref.account, ref.kind, resource, time.time())
            statements.append((translate(UPSERT), values))
        statements.append(swap_statement_pg(ref, expected, new))
        with self._translated("write"), self._lock:
            row = self._db.execute_script(statements).fetchone()
        return bool(row and row[0])

    @contextlib.contextmanager
    def _translated(self, doing: str) -> Iterator[None]:
        """As the file's, and a failure that left the connection lost (the server killed or
        unreachable mid-run) says what the failure to open it says: check the server."""
        try:
            with super()._translated(doing):
                yield
        except InventoryError as exc:
            if exc.hint is None and self._db.connection.closed:
                exc.hint = DOWN_HINT
            raise

    def _label_glob(self, glob: str) -> tuple[str, str]:
        return "r.label ~ ?", glob_to_regex(glob)

    # -- the schema ------------------------------------------------------------------------

    def _prepare(self) -> None:
        db = self._db
        db.execute_native(SESSION_SETTINGS)
        if self._current_version() == SCHEMA_VERSION or self._version() >= SCHEMA_VERSION:
            return
        with self._lock:
            db.execute_native("BEGIN")
            try:
                db.execute_native("SELECT pg_advisory_xact_lock(%s)", (SETUP_LOCK,))
                db.execute_native(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
                version = self._version()  # another process may have done it meanwhile
                for step in range(version, SCHEMA_VERSION):
                    for statement in MIGRATIONS[step]:
                        db.execute_native(statement)
                db.execute_native(f"UPDATE {SCHEMA}.meta SET version = %s", (SCHEMA_VERSION,))
            except BaseException:
                db.execute_native("ROLLBACK")
                raise
            db.execute_native("COMMIT")

    def _current_version(self) -> int | None:
        """The version in vcctl.meta, in one round trip; None when there is no such table (then
        `_version` looks closer)."""
        try:
            row = self._db.execute_native(f"SELECT max(version) FROM {SCHEMA}.meta").fetchone()
        except driver().errors.UndefinedTable:
            return None
        return int(row[0] or 0) if row is not None else 0

    def _version(self) -> int:
        """The schema's version (0: none yet), refusing one this vcctl must not touch."""
        db = self._db
        tables = {
            row[0]
            for row in db.execute_native(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (SCHEMA,),
            )
        }
        if "meta" not in tables:
            if tables:
                raise InventoryError(
                    f"inventory {self.where}: schema {SCHEMA} holds tables vcctl did not make "
                    f"({', '.join(sorted(tables))}); vcctl will not modify it",
                    path=self.where,
                    hint="use another database, or set VCCTL_INVENTORY=off",
                )
            return 0
        row = db.execute_native(f"SELECT max(version) FROM {SCHEMA}.meta").fetchone()
        version = int(row[0] or 0) if row is not None else 0
        if version > SCHEMA_VERSION:
            raise InventoryError(
                f"inventory {self.where} was written by a newer vcctl (schema version "
                f"{version}; this vcctl knows up to {SCHEMA_VERSION}); vcctl will not modify it",
                path=self.where,
                hint="upgrade vcctl, or set VCCTL_INVENTORY_URL to another database",
            )
        return version


def _connect(url: str) -> Session:
    psycopg = driver()
    try:
        connection = psycopg.connect(url, autocommit=True, **_connect_options(psycopg, url))
    except psycopg.Error as exc:
        where = mask_url(url)
        raise InventoryError(
            f"cannot open inventory {where}: {_first_line(exc)}", path=where, hint=DOWN_HINT
        ) from None
    return Session(connection)


def _connect_options(psycopg: Any, url: str) -> dict[str, Any]:
    import os

    options: dict[str, Any] = {"application_name": "vcctl"}
    try:
        given = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        given = {}
    if "connect_timeout" not in given and not os.environ.get("PGCONNECT_TIMEOUT"):
        options["connect_timeout"] = CONNECT_TIMEOUT
    return options


def _first_line(exc: Exception) -> str:
    return describe(exc)


__all__ = ["SCHEMA", "SCHEMA_VERSION", "PostgresInventory"]
