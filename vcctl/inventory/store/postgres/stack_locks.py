"""Apply's stack locks in a shared PostgreSQL inventory: one session advisory lock per stack, and
a row naming its holder.

The lock is the two-integer form of `pg_try_advisory_lock`, keyed by a hash of the account and
the stack's scope: a key space apart from the bigint lock every write transaction takes
(`WRITE_LOCK`), and one lock per stack, so two stacks never wait for each other. It is held by
the store's own connection (session-scoped: held across its transactions until released, and
released by the server when the connection ends, whatever ended it: a crash, a pulled cable).

Its holder writes `stack_locks` (host, pid, since, and its backend's pid) once it has the lock. A
waiter reads the row joined with `pg_locks` on that backend pid, so a row left by a holder that
died is never taken for the lock's present holder.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from vcctl.inventory.locks import Holder, lock_digest
from vcctl.inventory.records import Account

TABLE = "stack_locks"
# The migration that adds the table (schema version 2).
CREATE_TABLE = (
    """CREATE TABLE {schema}.stack_locks (
        base_url text COLLATE "C" NOT NULL, key_fp text COLLATE "C" NOT NULL,
        scope text COLLATE "C" NOT NULL, host text NOT NULL, pid integer NOT NULL,
        since double precision NOT NULL, backend integer NOT NULL,
        PRIMARY KEY (base_url, key_fp, scope))""",
)


def lock_keys(account: Account, scope: str) -> tuple[int, int]:
    """The two integers of a stack's advisory lock, each below 2**31, so that they read the
    same as int4 arguments and as pg_locks' oid columns."""
    digest = lock_digest(account, scope)
    return (
        int.from_bytes(digest[:4], "big") & 0x7FFFFFFF,
        int.from_bytes(digest[4:8], "big") & 0x7FFFFFFF,
    )


class AdvisoryLock:
    """One stack's lock over the store's session (`session`: the store's connection, shared
    with its other users under `guard`). `translated(doing)` turns the driver's errors into the
    store's InventoryError; releasing ignores them (`errors`): a connection that is gone has
    released the lock with it."""

    poll_seconds = 0.1  # a round trip each: a freed lock is taken within this

    def __init__(
        self,
        session: Any,
        guard: threading.RLock,
        translated: Callable[[str], AbstractContextManager[None]],
        errors: tuple[type[Exception], ...],
        *,
        schema: str,
        account: Account,
        scope: str,
    ) -> None:
        self._db = session
        self._guard = guard
        self._translated = translated
        self._errors = errors
        self._schema = schema
        self._row = (account.base_url, account.key_fingerprint, scope)
        self._keys = lock_keys(account, scope)
        self._held = False

    def try_take(self) -> bool:
        with self._translated("lock a stack in"), self._guard:
            row = self._db.execute_native(
                "SELECT pg_try_advisory_lock(%s, %s)", self._keys
            ).fetchone()
            if not (row and row[0]):
                return False
            self._held = True
            me = Holder.this_process()
            self._db.execute_native(
                f"INSERT INTO {self._schema}.{TABLE}"
                " (base_url, key_fp, scope, host, pid, since, backend)"
                " VALUES (%s, %s, %s, %s, %s, %s, pg_backend_pid())"
                " ON CONFLICT (base_url, key_fp, scope) DO UPDATE SET host = EXCLUDED.host,"
                " pid = EXCLUDED.pid, since = EXCLUDED.since, backend = EXCLUDED.backend",
                (*self._row, me.host, me.pid, me.since),
            )
        return True

    def holder(self) -> Holder | None:
        with self._translated("read"), self._guard:
            row = self._db.execute_native(
                f"SELECT h.host, h.pid, h.since FROM {self._schema}.{TABLE} h"
                " JOIN pg_locks l ON l.pid = h.backend AND l.locktype = 'advisory'"
                " AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid"
                " AND l.objsubid = 2 AND l.granted"
                " WHERE h.base_url = %s AND h.key_fp = %s AND h.scope = %s",
                (*self._keys, *self._row),
            ).fetchone()
        return None if row is None else Holder(str(row[0]), int(row[1]), float(row[2]))

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        with contextlib.suppress(*self._errors), self._guard:
            self._db.execute_native(
                f"DELETE FROM {self._schema}.{TABLE} WHERE base_url = %s AND key_fp = %s"
                " AND scope = %s AND backend = pg_backend_pid()",
                self._row,
            )
            self._db.execute_native("SELECT pg_advisory_unlock(%s, %s)", self._keys)
