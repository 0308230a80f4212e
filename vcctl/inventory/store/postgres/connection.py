"""The PostgreSQL connection under the store: the driver loaded on demand, and the few spellings
in which the store's shared SQL differs between SQLite and PostgreSQL.

The record and key modules (`store/record_rows`, `store/key_rows`) write their statements once,
in SQLite's spelling; `translate` turns one into PostgreSQL's: `?` placeholders become `%s`, and
`INSERT OR REPLACE` (replace the whole row) becomes an upsert that sets every column of the
table. Writers take one transaction-scoped advisory lock first (`_begin`), which is what SQLite's
`BEGIN IMMEDIATE` gives: a read-then-write in one transaction cannot interleave with another
process's, on any machine.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from vcctl.errors import InventoryError
from vcctl.inventory.store.connection import TABLE_COLUMNS as COLUMNS

EXTRA_HINT = "install it with: pip install 'vcctl[postgres]' (or unset VCCTL_INVENTORY_URL)"
# Any bigint, the same in every vcctl: the lock a write transaction holds until it ends. Apply's
# stack locks use the two-integer form of advisory locks, a separate key space.
WRITE_LOCK = 0x76636374_6C000001  # "vcctl" + 1
CONNECT_TIMEOUT = 10  # seconds, unless the URL or PGCONNECT_TIMEOUT says otherwise
LOCK_TIMEOUT = "10s"  # how long a writer waits for another's transaction (SQLite: busy timeout)

# Each table's key: `INSERT OR REPLACE` rewrites every other column (COLUMNS).
PRIMARY_KEYS = {
    "records": ("base_url", "key_fp", "kind", "id"),
    "keys": ("base_url", "key_fp", "kind", "scope", "key"),
}

_QUIET = logging.NullHandler()
_REPLACE = re.compile(r"^\s*INSERT OR REPLACE INTO (\w+)(.*)$", re.DOTALL)


def driver() -> Any:
    """psycopg, or an InventoryError naming the extra that brings it."""
    try:
        import psycopg
    except ImportError:
        raise InventoryError(
            "the inventory URL names a PostgreSQL database, but the PostgreSQL driver "
            "(psycopg) is not installed",
            path="VCCTL_INVENTORY_URL",
            hint=EXTRA_HINT,
        ) from None
    # The driver logs what it gives up on when a connection dies (a pipeline it cannot end):
    # vcctl reports the failure itself, in its own words, so nothing of that reaches stderr.
    logging.getLogger("psycopg").addHandler(_QUIET)
    return psycopg


@functools.lru_cache(maxsize=256)
def translate(sql: str) -> str:
    """One statement of the shared store SQL, in PostgreSQL's spelling."""
    text = sql.replace("%", "%%").replace("?", "%s")
    replace = _REPLACE.match(text)
    if replace is not None:
        table, rest = replace.groups()
        key = PRIMARY_KEYS[table]
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[table] if c not in key)
        text = f"INSERT INTO {table}{rest} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    return text


class Session:
    """A psycopg connection (autocommit: transactions are explicit, as with the SQLite store)
    that speaks the store's SQL."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.lock = threading.RLock()  # held around every statement and transaction on it
        self._trace: Callable[[str], object] | None = None

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self.execute_native(translate(sql), params or None)

    def executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> None:
        """The statement for each row, sent in one pipeline (psycopg's executemany): one round
        trip for the lot instead of one a row."""
        text = translate(sql)
        if self._trace is not None:
            self._trace(text)
        with self.connection.cursor() as cursor:
            cursor.executemany(text, params)

    def execute_native(self, sql: str, params: Any = None) -> Any:
        """A statement already in PostgreSQL's spelling (the schema's, the locks')."""
        if self._trace is not None:
            self._trace(sql)
        return self.connection.execute(sql, params)

    def execute_script(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> Any:
        """Several statements (PostgreSQL's spelling) in one message and one round trip: their
        parameters bound here, in the client, the server runs them as one transaction (an
        implicit one: it commits after the last, and an error rolls back all of them). Returns
        the cursor at the last statement's result.

        A write transaction sent this way holds the write lock only while the server runs it:
        sent statement by statement, it held it while the client, one thread of a busy process,
        got round to sending the next (and all other writers waited meanwhile)."""
        text = "; ".join(sql for sql, _ in statements)
        if self._trace is not None:
            self._trace(text)
        cursor = driver().ClientCursor(self.connection)
        cursor.execute(text, [value for _, params in statements for value in params])
        while cursor.nextset():
            pass
        return cursor

    def set_trace_callback(self, trace: Callable[[str], object] | None) -> None:
        """Like sqlite3's: `trace(sql)` for every statement sent (tests count transactions)."""
        self._trace = trace

    def close(self) -> None:
        self.connection.close()


def glob_to_regex(glob: str) -> str:
    """A shell-style pattern (`*`, `?`, `[...]`, `[!...]`) as an anchored POSIX regex, the way
    SQLite's GLOB reads it (case-sensitive)."""
    out = ["^"]
    index = 0
    while index < len(glob):
        char = glob[index]
        index += 1
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            end = glob.find("]", index + 1 if glob[index : index + 1] in ("!", "^") else index)
            if end < 0:
                out.append(r"\[")
                continue
            body = glob[index:end]
            index = end + 1
            if body.startswith(("!", "^")):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
        else:
            out.append(re.escape(char) if not char.isalnum() else char)
    out.append("$")
    return "".join(out)
