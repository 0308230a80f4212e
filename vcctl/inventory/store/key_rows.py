"""Keys in the inventory file: the only module that writes the `keys` table.

It implements `vcctl.inventory.claims.KeyTable` (read a key's row, compare-and-set it, say what a
created key names) for the key protocol, whose state machine lives in `claims` without SQL, and
the listings and releases `vcctl inventory keys` and `forget --key` need.

A row per (account, kind, scope, key): `state` pending, created or unknown; `id` the resource a
created key names; `since`; the owner of a pending claim (`host`, `pid`, `started`) and the
claim's `claim` token; `applied`, the JSON object of the fields the last apply set on a created
key's resource (`set_applied`, `list_applied`; cleared whenever the row is swapped), which is no
part of the key's state and so not of `KeyRow`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from vcctl.inventory import scopes
from vcctl.inventory.claims import KeyRef, KeyRow, Owner
from vcctl.inventory.records import Account, Record
from vcctl.inventory.store.connection import Connection, Database, acct
from vcctl.resources import Kind

COLUMNS = "kind, scope, key, state, id, since, host, pid, started, claim"
IDENT = " base_url = ? AND key_fp = ? AND kind = ? AND scope = ? AND key = ?"


def _ident(ref: KeyRef) -> tuple[str, str, str, str, str]:
    return (*acct(ref.account), ref.kind, ref.scope, ref.key)


def row_of(values: Sequence[Any]) -> KeyRow:
    kind, scope, key, state, id, since, host, pid, started, token = values
    owner = None
    if pid is not None:
        owner = Owner(host or "", int(pid), None if started is None else float(started))
    return KeyRow(kind, scope, key, state, id, float(since), owner, token)


def _applied(text: str | None) -> dict[str, Any] | None:
    """The `applied` column: a JSON object, or None (none kept, or unreadable: no past)."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _values(row: KeyRow) -> tuple[Any, ...]:
    owner = row.owner
    return (
        row.state,
        row.id,
        row.since,
        None if owner is None else owner.host,
        None if owner is None else owner.pid,
        None if owner is None else owner.start,
        row.token,
    )


class KeyStore(Connection):
    """The key protocol's table (`claims.KeyTable`) and the key listings."""

    # -- claims.KeyTable -----------------------------------------------------------------------

    def read_key(self, ref: KeyRef) -> KeyRow | None:
        with self._translated("read"), self._lock:
            found = self._db.execute(
                f"SELECT {COLUMNS} FROM keys WHERE{IDENT}", _ident(ref)
            ).fetchone()
        return None if found is None else row_of(found)

    def swap_key(
        self,
        ref: KeyRef,
        expected: KeyRow | None,
        new: KeyRow | None,
        *,
        resource: Mapping[str, Any] | None = None,
    ) -> bool:
        with self._translated("write"), self._write() as db:
            if resource is not None:
                self._upsert(db, ref.account, ref.kind, resource, _now())
            found = db.execute(f"SELECT {COLUMNS} FROM keys WHERE{IDENT}", _ident(ref)).fetchone()
            current = None if found is None else row_of(found)
            if current != expected:
                return False
            if new is None:
                db.execute(f"DELETE FROM keys WHERE{IDENT}", _ident(ref))
            else:
                db.execute(
                    "INSERT OR REPLACE INTO keys (base_url, key_fp, kind, scope, key, state, id,"
                    " since, host, pid, started, claim)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*_ident(ref), *_values(new)),
                )
            self.keys_changed = True
            return True

    def live_target(self, ref: KeyRef, row: KeyRow) -> Record | None:
        if row.id is None:
            return None
        with self._translated("read"):
            found = self._by_ids(ref.account, ref.kind, [row.id])
        return found[0] if found and not found[0].gone else None

    def release_hint(self, ref: KeyRef) -> str:
        same_name = self.list_keys(ref.account, key=ref.key)
        alone = all((row.kind, row.scope) == (ref.kind, ref.scope) for row in same_name)
        return f"run '{scopes.forget_command(ref.kind, ref.scope, ref.key, alone=alone)}'"

    # -- what the last apply set --------------------------------------------------------------

    def set_applied(self, applied: Sequence[tuple[KeyRef, str, Mapping[str, Any]]]) -> int:
        """Keep, for each (key, id, fields), the fields the last apply set on that key's
        resource, in one transaction; only where the key still names that id (a key created
        again meanwhile is another resource). Returns how many keys took it."""
        done = 0
        with self._translated("write"), self._write() as db:
            for ref, id, fields in applied:
                text = json.dumps(dict(fields), sort_keys=True, ensure_ascii=False)
                done += db.execute(
                    f"UPDATE keys SET applied = ? WHERE{IDENT} AND state = 'created' AND id = ?",
                    (text, *_ident(ref), id),
                ).rowcount
        return done

    def list_applied(
        self, account: Account, scopes: Sequence[str]
    ) -> dict[tuple[str, str, str], dict[str, Any]]:
        """What the last apply set, for the account's created keys in these scopes: (kind,
        scope, key) -> fields. Kept apart from `KeyRow`: it is no part of a key's state."""
        found: dict[tuple[str, str, str], dict[str, Any]] = {}
        query = (
            "SELECT kind, scope, key, applied FROM keys WHERE base_url = ? AND key_fp = ?"
            " AND state = 'created' AND applied IS NOT NULL"
        )
        unique = sorted(set(scopes))
        with self._translated("read"), self._lock:
            for start in range(0, len(unique), 500):  # SQLite bounds the parameters
                chunk = unique[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"{query} AND scope IN ({marks})", [*acct(account), *chunk])
                for kind, scope, key, text in rows:
                    fields = _applied(text)
                    if fields is not None:
                        found[(kind, scope, key)] = fields
        return found

    # -- listing and releasing -------------------------------------------------------------------

    def list_keys(
        self,
        account: Account,
        *,
        kind: Kind | None = None,
        scopes: Sequence[str] | None = None,
        key: str | None = None,
        stack: str | None = None,
    ) -> list[KeyRow]:
        """The account's keys (every state), by kind, scope and key; filtered by kind, by
        scopes, by name, or by stack (its room keys and its rooms' participant keys)."""
        where = ["base_url = ? AND key_fp = ?"]
        params: list[Any] = [*acct(account)]
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if key is not None:
            where.append("key = ?")
            params.append(key)
        if stack is not None:
            prefix = scopes_prefix(stack)
            where.append("(scope = ? OR substr(scope, 1, ?) = ?)")
            params += [prefix, len(prefix) + 1, prefix + "/"]
        query = f"SELECT {COLUMNS} FROM keys WHERE {' AND '.join(where)}"
        found: list[KeyRow] = []
        with self._translated("read"), self._lock:
            if scopes is None:
                found = [row_of(row) for row in self._db.execute(query, params).fetchall()]
            for start in range(0, len(scopes or ()), 500):  # SQLite bounds the parameters
                chunk = list((scopes or ())[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"{query} AND scope IN ({marks})", [*params, *chunk])
                found.extend(row_of(row) for row in rows)
        return sorted(found, key=lambda row: (row.kind != "room", row.scope, row.key))

    def forget_keys(self, account: Account, rows: Sequence[KeyRow]) -> int:
        """Release these keys (as listed: a row changed since is left alone only if it was
        removed); the records stay. Returns how many were released."""
        released = 0
        with self._translated("write"), self._write() as db:
            for row in rows:
                released += db.execute(
                    f"DELETE FROM keys WHERE{IDENT}", (*acct(account), row.kind, row.scope, row.key)
                ).rowcount
        self.keys_changed = self.keys_changed or released > 0
        return released

    def forget_scope(self, account: Account, kind: Kind, scope: str) -> int:
        """Release every key of one scope (a room's participant keys, when the room goes)."""
        with self._translated("write"), self._write() as db:
            released: int = db.execute(
                "DELETE FROM keys WHERE base_url = ? AND key_fp = ? AND kind = ? AND scope = ?",
                (*acct(account), kind, scope),
            ).rowcount
        self.keys_changed = self.keys_changed or released > 0
        return released

    def forget_ids(self, account: Account, ids: Iterable[str]) -> list[str]:
        """Drop the records (any kind) and the keys naming them; returns the ids it knew."""
        forgotten: list[str] = []
        with self._translated("write"), self._write() as db:
            for id in ids:
                rows = db.execute(
                    "DELETE FROM records WHERE base_url = ? AND key_fp = ? AND id = ?",
                    (*acct(account), id),
                ).rowcount
                db.execute(
                    "DELETE FROM keys WHERE base_url = ? AND key_fp = ? AND id = ?",
                    (*acct(account), id),
                )
                if rows:
                    forgotten.append(id)
        self.keys_changed = self.keys_changed or bool(forgotten)
        return forgotten

    def indexed_keys(self) -> list[tuple[str, str, str]]:
        """(kind, scope, key) of every created key whose resource is not known gone, in every
        account: what the key index lists (`vcctl.inventory.key_index`)."""
        with self._translated("read"), self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT k.kind, k.scope, k.key FROM keys k JOIN records r"
                " ON r.base_url = k.base_url AND r.key_fp = k.key_fp AND r.kind = k.kind"
                " AND r.id = k.id WHERE k.state = 'created' AND r.gone IS NULL"
            )
            return [(str(kind), str(scope), str(key)) for kind, scope, key in rows]


def add_keys(db: Database, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Key rows copied from another inventory (`transfer`), each added unless the key is
    there already (the caller compared them)."""
    if rows:
        db.executemany(
            f"INSERT INTO keys ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            " ON CONFLICT (base_url, key_fp, kind, scope, key) DO NOTHING",
            rows,
        )


# -- PostgreSQL's compare-and-set in one round trip ------------------------------------------
#
# `swap_key` above runs as four steps that each wait for the server (begin and lock, read the
# key, compare in Python, write, commit): over a network, a keyed batch of 1,000 rows waited for
# some 12,000 answers on one connection. The PostgreSQL store sends instead one transaction in
# one message (the write lock, the resource's record, this statement), in which the comparison
# is the statement's own: `ok` holds when the key's row is exactly `expected` (or
# absent, when None is expected), and only then is `new` written (or the row deleted). The write
# lock makes it atomic, as above: every vcctl writer takes it first.

# The key's columns that `KeyRow` equality compares (the identity is the WHERE), in `_values`
# order, and their types (the parameters of an INSERT ... SELECT are typed by nothing else).
_PG_COMPARED = ("state", "id", "since", "host", "pid", "started", "claim")
_PG_TYPES = {"since": "double precision", "started": "double precision", "pid": "integer"}
_PG_IDENT = "base_url = %s AND key_fp = %s AND kind = %s AND scope = %s AND key = %s"


def swap_statement_pg(
    ref: KeyRef, expected: KeyRow | None, new: KeyRow | None
) -> tuple[str, tuple[Any, ...]]:
    """One statement: compare the key's row with `expected`, write `new` (or delete) if equal;
    it returns one row, whether they were."""
    if expected is None:
        ok = f"NOT EXISTS (SELECT 1 FROM keys WHERE {_PG_IDENT})"
        ok_params: tuple[Any, ...] = _ident(ref)
    else:
        same = " AND ".join(f"{column} IS NOT DISTINCT FROM %s" for column in _PG_COMPARED)
        ok = f"EXISTS (SELECT 1 FROM keys WHERE {_PG_IDENT} AND {same})"
        ok_params = (*_ident(ref), *_values(expected))
    if new is None:
        write = f"DELETE FROM keys WHERE {_PG_IDENT} AND (SELECT ok FROM m)"
        write_params: tuple[Any, ...] = _ident(ref)
    else:
        columns = ("base_url", "key_fp", "kind", "scope", "key", *_PG_COMPARED)
        # Every other column too, as INSERT OR REPLACE does: what apply set goes with the row.
        updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in _PG_COMPARED)
        updates += ", applied = NULL"
        typed = ", ".join(f"%s::{_PG_TYPES.get(column, 'text')}" for column in columns)
        write = (
            f"INSERT INTO keys ({', '.join(columns)}) SELECT {typed} FROM m WHERE m.ok"
            f" ON CONFLICT (base_url, key_fp, kind, scope, key) DO UPDATE SET {updates}"
        )
        write_params = (*_ident(ref), *_values(new))
    return (
        f"WITH m AS (SELECT {ok} AS ok), w AS ({write}) SELECT ok FROM m",
        (*ok_params, *write_params),
    )


def scopes_prefix(stack: str) -> str:
    return scopes.room_scope(stack)


def _now() -> float:
    import time

    return time.time()


def migrate_key_accounts(db: sqlite3.Connection, renames: Mapping[str, str]) -> None:
    """Schema step: key rows under an old spelling of a base URL move to the normal one. Where
    both spellings hold the same key, the most settled row stays (created, then unknown, then
    pending; the oldest first), the other is dropped (its resource keeps its record)."""
    rank = "CASE state WHEN 'created' THEN 0 WHEN 'unknown' THEN 1 ELSE 2 END"
    for old, new in renames.items():
        rows = db.execute(
            f"SELECT rowid, key_fp, kind, scope, key, {rank}, since FROM keys WHERE base_url = ?",
            (old,),
        ).fetchall()
        for rowid, fp, kind, scope, key, old_rank, since in rows:
            there = db.execute(
                f"SELECT rowid, {rank}, since FROM keys WHERE base_url = ? AND key_fp = ?"
                " AND kind = ? AND scope = ? AND key = ?",
                (new, fp, kind, scope, key),
            ).fetchone()
            if there is not None:
                if (there[1], there[2]) <= (old_rank, since):
                    db.execute("DELETE FROM keys WHERE rowid = ?", (rowid,))
                    continue
                db.execute("DELETE FROM keys WHERE rowid = ?", (there[0],))
            db.execute("UPDATE keys SET base_url = ? WHERE rowid = ?", (new, rowid))
