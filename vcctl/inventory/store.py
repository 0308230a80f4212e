"""The inventory's SQLite file: the only module that speaks SQL.

WAL journal and a busy timeout, so that many vcctl processes (`xargs -P 8`) share it and none
loses a record; every write is one short `BEGIN IMMEDIATE` transaction (a batch records all its
rows in one). The schema version lives in `PRAGMA user_version`: an older file is migrated in
place, a newer or unreadable one is reported with its path and never modified.

Keys: a row in `keys` per (account, kind, scope, key), in one of three states: `pending` (a
create is in flight; pid and host of the process sending it), `created` (the id it made), or
`unknown` (sent, outcome unknown: blocked until forgotten or retried on purpose).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from vcctl.errors import InventoryError
from vcctl.inventory import keys
from vcctl.inventory.keys import CLAIM_WAIT, Claim, KeyRow
from vcctl.inventory.model import Account, Kind, Record, created_at_ts, prepare_file

SCHEMA_VERSION = 2
BUSY_TIMEOUT = 10.0  # seconds a writer waits for another process's transaction
_SETUP_HINT = "move the file aside (vcctl starts a new inventory), or set VCCTL_INVENTORY=off"

# MIGRATIONS[n] takes a file from version n to n + 1.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE records (
            base_url TEXT NOT NULL, key_fp TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
            room_id TEXT, label TEXT, data TEXT NOT NULL,
            first_seen REAL NOT NULL, last_seen REAL NOT NULL, gone REAL,
            PRIMARY KEY (base_url, key_fp, kind, id))""",
    ),
    (
        "ALTER TABLE records ADD COLUMN created REAL",
        "UPDATE records SET created = first_seen",
        "CREATE INDEX records_by_created ON records (base_url, key_fp, kind, created)",
        "CREATE INDEX records_by_room ON records (base_url, key_fp, room_id)",
        """CREATE TABLE keys (
            base_url TEXT NOT NULL, key_fp TEXT NOT NULL, kind TEXT NOT NULL,
            scope TEXT NOT NULL, key TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'created', 'unknown')),
            id TEXT, since REAL NOT NULL, pid INTEGER, host TEXT, claim TEXT,
            PRIMARY KEY (base_url, key_fp, kind, scope, key))""",
        "CREATE INDEX keys_by_id ON keys (base_url, key_fp, kind, id)",
    ),
)
assert len(MIGRATIONS) == SCHEMA_VERSION

_UPSERT = """INSERT INTO records
    (base_url, key_fp, kind, id, room_id, label, data, created, first_seen, last_seen, gone)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
    ON CONFLICT (base_url, key_fp, kind, id) DO UPDATE SET
        room_id = coalesce(excluded.room_id, room_id), label = excluded.label,
        data = excluded.data, created = coalesce(excluded.created, created),
        last_seen = excluded.last_seen, gone = NULL"""
# Columns in Record's field order: a row becomes a Record positionally (10,000 rows: cheap).
_SELECT = """SELECT r.id, r.kind, r.room_id, k.key, r.data, coalesce(r.created, r.first_seen),
    r.first_seen, r.last_seen, r.gone, r.base_url, r.label FROM records r
    LEFT JOIN keys k ON k.state = 'created' AND k.base_url = r.base_url
    AND k.key_fp = r.key_fp AND k.kind = r.kind AND k.id = r.id"""


def _describe(exc: sqlite3.Error) -> str:
    return str(exc) or type(exc).__name__


class Inventory:
    """An open inventory file. Safe to share between threads (one connection, one lock)."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection
        self._lock = threading.RLock()

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> Inventory:
        """Open (creating it 0600 in a 0700 folder) and migrate the file at `path`."""
        where = str(path)
        prepare_file(path)
        try:
            db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise InventoryError(
                f"cannot open inventory {path}: {_describe(exc)}", path=where, hint=_SETUP_HINT
            ) from None
        inventory = cls(path, db)
        try:
            inventory._prepare()
        except BaseException:
            db.close()
            raise
        return inventory

    def _prepare(self) -> None:
        try:
            version = self._version()
            if version < SCHEMA_VERSION:
                self._migrate()
            # A process crash loses no commit in WAL mode; only a power cut could lose the last.
            self._db.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise InventoryError(
                f"cannot set up inventory {self.path}: {_describe(exc)}", path=str(self.path)
            ) from None

    def _migrate(self) -> None:
        """Create or upgrade the schema, one process at a time: switching the journal to WAL
        needs the file to itself, which SQLite's busy timeout does not always wait for."""
        from vcctl import files

        setup_lock = self.path.with_name(f".{self.path.name}.lock")
        try:
            with files.locked(setup_lock, timeout=BUSY_TIMEOUT):
                if self._version() >= SCHEMA_VERSION:
                    return  # another process did it while we waited
                # Persistent in the file; set before the transaction that creates the schema.
                self._db.execute("PRAGMA journal_mode = WAL")
                with self._write():
                    version = self._version()
                    for step in range(version, SCHEMA_VERSION):
                        for statement in MIGRATIONS[step]:
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except OSError as exc:
            raise InventoryError(
                f"cannot set up inventory {self.path}: {exc.strerror or exc}", path=str(self.path)
            ) from None

    def _version(self) -> int:
        """The file's schema version, refusing anything this vcctl must not touch."""
        try:
            # One statement, one snapshot: another process may be creating the schema now.
            version, names = self._db.execute(
                "SELECT (SELECT user_version FROM pragma_user_version),"
                " (SELECT group_concat(name, ',') FROM sqlite_master WHERE type = 'table')"
            ).fetchone()
            version = int(version)
            tables = set(names.split(",")) if names else set()
        except sqlite3.Error as exc:
            raise self._unreadable(exc) from None
        if version > SCHEMA_VERSION:
            raise InventoryError(
                f"inventory {self.path} was written by a newer vcctl (schema version {version}; "
                f"this vcctl knows up to {SCHEMA_VERSION}); vcctl will not modify it",
                path=str(self.path),
                hint="upgrade vcctl, or set VCCTL_DATA_DIR to use another inventory",
            )
        if version == 0 and tables:
            raise InventoryError(
                f"inventory {self.path} is an SQLite file vcctl did not make (tables: "
                f"{', '.join(sorted(tables))}); vcctl will not modify it",
                path=str(self.path),
                hint=_SETUP_HINT,
            )
        return version

    def _unreadable(self, exc: sqlite3.Error) -> InventoryError:
        return InventoryError(
            f"inventory {self.path} is unreadable ({_describe(exc)}); vcctl will not modify it",
            path=str(self.path),
            hint=_SETUP_HINT,
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Inventory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once so that concurrent writers queue on the busy
        timeout instead of failing on a lock upgrade."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def _translated(self, doing: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise InventoryError(
                f"cannot {doing} inventory {self.path}: {_describe(exc)}", path=str(self.path)
            ) from None

    # -- records -----------------------------------------------------------------------------

    def record(
        self, account: Account, kind: Kind, resource: Mapping[str, Any], *, key: str | None = None
    ) -> Record:
        """Remember what the API returned (creates, gets, updates, listings) and return it as
        stored. With `key`, the resource is the one that key names (scoped by its room for a
        participant). A room's embedded `participants` are recorded too."""
        return self.record_many(account, kind, [resource], keys=[key])[0]

    def record_many(
        self,
        account: Account,
        kind: Kind,
        resources: Sequence[Mapping[str, Any]],
        *,
        keys: Sequence[str | None] | None = None,
        fetch: bool = True,
    ) -> list[Record]:
        """`record` for many resources in ONE transaction (a batch's rows). `fetch=False`
        returns [] instead of reading the records back (recording only)."""
        now = time.time()
        keys = keys if keys is not None else [None] * len(resources)
        with self._translated("write"), self._write() as db:
            for resource, key in zip(resources, keys, strict=True):
                self._upsert(db, account, kind, resource, now)
                if key is not None:
                    scope = _default_scope(kind, resource)
                    db.execute(
                        "INSERT OR REPLACE INTO keys (base_url, key_fp, kind, scope, key, state,"
                        " id, since) VALUES (?, ?, ?, ?, ?, 'created', ?, ?)",
                        (*_acct(account), kind, scope, key, str(resource["id"]), now),
                    )
                nested = resource.get("participants") if kind == "room" else None
                if isinstance(nested, list):
                    for participant in nested:
                        if isinstance(participant, Mapping) and "id" in participant:
                            self._upsert(db, account, "participant", participant, now)
            if not fetch:
                return []
            ids = [str(resource["id"]) for resource in resources]
            return self._by_ids(account, kind, ids)

    def _upsert(
        self,
        db: sqlite3.Connection,
        account: Account,
        kind: Kind,
        resource: Mapping[str, Any],
        now: float,
    ) -> None:
        room_id = resource.get("room_id") if kind == "participant" else None
        label = resource.get("name" if kind == "room" else "username")
        db.execute(
            _UPSERT,
            (
                *_acct(account),
                kind,
                str(resource["id"]),
                None if room_id is None else str(room_id),
                label if isinstance(label, str) else None,
                json.dumps(resource, separators=(",", ":"), ensure_ascii=False),
                created_at_ts(resource) or now,
                now,
                now,
            ),
        )

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
                f"{_SELECT} WHERE r.base_url = ? AND r.key_fp = ? AND r.kind = ?"
                f" AND r.id IN ({marks})",
                (*_acct(account), kind, *chunk),
            )
            found.update((row[0], _record(row)) for row in rows)

    def mark_gone(self, account: Account, kind: Kind, id: str) -> bool:
        """A delete or a 404: the record (and a room's participants) no longer exist.
        False if vcctl had no live record of it."""
        now = time.time()
        with self._translated("write"), self._write() as db:
            changed = db.execute(
                "UPDATE records SET gone = ? WHERE base_url = ? AND key_fp = ? AND kind = ?"
                " AND id = ? AND gone IS NULL",
                (now, *_acct(account), kind, id),
            ).rowcount
            if kind == "room":
                db.execute(
                    "UPDATE records SET gone = ? WHERE base_url = ? AND key_fp = ?"
                    " AND kind = 'participant' AND room_id = ? AND gone IS NULL",
                    (now, *_acct(account), id),
                )
        return changed > 0

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
    ) -> list[Record]:
        """Records of one account (None: every account), newest first. `name_glob` matches a
        room's name or a participant's username, shell-style and case-sensitive."""
        where = ["r.kind = ?"]
        params: list[Any] = [kind]
        if account is not None:
            where.append("r.base_url = ? AND r.key_fp = ?")
            params += _acct(account)
        if name_glob is not None:
            where.append("r.label GLOB ?")
            params.append(name_glob)
        if created_before is not None:
            where.append("r.created < ?")
            params.append(created_before.timestamp())
        if created_after is not None:
            where.append("r.created > ?")
            params.append(created_after.timestamp())
        if not include_gone:
            where.append("r.gone IS NULL")
        if room_id is not None:
            where.append("r.room_id = ?")
            params.append(room_id)
        query = f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY r.created DESC, r.id"
        with self._translated("read"), self._lock:
            records = [_record(row) for row in self._db.execute(query, params)]
            if with_participants and kind == "room":
                self._attach_participants(account, records)
        return records

    def _attach_participants(self, account: Account | None, rooms: list[Record]) -> None:
        by_room: dict[tuple[str, str], list[Record]] = {}
        for room in rooms:
            room.participants = []
            by_room[(room.base_url, room.id)] = room.participants
        query = f"{_SELECT} WHERE r.kind = 'participant' AND r.gone IS NULL"
        params: list[Any] = []
        if account is not None:
            query += " AND r.base_url = ? AND r.key_fp = ?"
            params += _acct(account)
        for row in self._db.execute(query + " ORDER BY r.created, r.id", params):
            participant = _record(row)
            bucket = by_room.get((participant.base_url, participant.room_id or ""))
            if bucket is not None:
                bucket.append(participant)

    def forget_ids(self, account: Account, ids: Iterable[str]) -> list[str]:
        """Drop the records (any kind) and the keys naming them; returns the ids it knew."""
        forgotten: list[str] = []
        with self._translated("write"), self._write() as db:
            for id in ids:
                rows = db.execute(
                    "DELETE FROM records WHERE base_url = ? AND key_fp = ? AND id = ?",
                    (*_acct(account), id),
                ).rowcount
                db.execute(
                    "DELETE FROM keys WHERE base_url = ? AND key_fp = ? AND id = ?",
                    (*_acct(account), id),
                )
                if rows:
                    forgotten.append(id)
        return forgotten

    def forget_key(self, account: Account, key: str, scope: str | None = None) -> int:
        """Release a key in every state (any scope unless given); the records stay, without
        it. Returns how many keys were released."""
        query = "DELETE FROM keys WHERE base_url = ? AND key_fp = ? AND key = ?"
        params: list[Any] = [*_acct(account), key]
        if scope is not None:
            query += " AND scope = ?"
            params.append(scope)
        with self._translated("write"), self._write() as db:
            return db.execute(query, params).rowcount

    # -- keys --------------------------------------------------------------------------------

    def claim_key(
        self,
        account: Account,
        kind: Kind,
        scope: str,
        key: str,
        *,
        retry_unknown: bool = False,
        wait: float = CLAIM_WAIT,
    ) -> Record | Claim:
        """Hold `key` before sending a create, or find what it already names.

        Returns the live Record the key created (the caller GETs it; on a 404 it calls
        `mark_gone` and claims again, which then creates anew), or a `Claim` the caller resolves
        with `created`, `failed` or `unknown`. While another live process holds the key, waits
        (up to `wait` seconds, then KeyPendingError) for its outcome. A key whose create had an
        unknown outcome, or whose holder died, raises KeyBlockedError unless `retry_unknown`.
        """
        deadline = time.monotonic() + wait
        pause = 0.01
        while True:
            with self._translated("write"), self._write() as db:
                outcome = self._try_claim(db, account, kind, scope, key, retry_unknown)
            if isinstance(outcome, Record | Claim):
                return outcome
            if isinstance(outcome, float):
                raise keys.blocked_error(self.path, key, outcome)
            if time.monotonic() >= deadline:
                raise keys.pending_error(self.path, key, outcome, wait)
            time.sleep(pause)
            pause = min(pause * 1.5, 0.2)

    def _try_claim(
        self,
        db: sqlite3.Connection,
        account: Account,
        kind: Kind,
        scope: str,
        key: str,
        retry_unknown: bool,
    ) -> Record | Claim | keys.Holder | float:
        """One look at the key in a write transaction: the live record, a new claim, the
        holder to wait for, or the time of the create whose outcome is unknown."""
        ident = (*_acct(account), kind, scope, key)
        where = " WHERE base_url = ? AND key_fp = ? AND kind = ? AND scope = ? AND key = ?"
        row = db.execute(f"SELECT state, id, since, pid, host FROM keys{where}", ident).fetchone()
        if row is not None:
            state, id, since, pid, host = row
            holder = keys.Holder(pid, host, since)
            if state == "pending" and not holder.is_gone():
                return holder
            if state == "created":
                found = self._by_ids(account, kind, [id])
                if found and not found[0].gone:
                    return found[0]
            elif not retry_unknown:
                if state == "pending":  # its process died mid-create: outcome unknown
                    db.execute(
                        "UPDATE keys SET state = 'unknown', pid = NULL, host = NULL, claim = NULL"
                        + where,
                        ident,
                    )
                return float(since)
        token = os.urandom(16).hex()
        db.execute(
            "INSERT OR REPLACE INTO keys (base_url, key_fp, kind, scope, key, state, id, since,"
            " pid, host, claim) VALUES (?, ?, ?, ?, ?, 'pending', NULL, ?, ?, ?, ?)",
            (*ident, time.time(), os.getpid(), keys.HOST, token),
        )
        return Claim(self, account, kind, scope, key, token)

    def keys_in_scopes(self, account: Account, kind: Kind, scopes: Sequence[str]) -> list[KeyRow]:
        """Every key of `kind` in any of `scopes`, in every state, by scope then key."""
        found: list[KeyRow] = []
        with self._translated("read"), self._lock:
            for start in range(0, len(scopes), 500):  # SQLite bounds the number of parameters
                chunk = list(scopes[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    "SELECT kind, scope, key, state, id, since, pid, host FROM keys"
                    f" WHERE base_url = ? AND key_fp = ? AND kind = ? AND scope IN ({marks})",
                    (*_acct(account), kind, *chunk),
                )
                found.extend(KeyRow(*row) for row in rows)
        return sorted(found, key=lambda row: (row.scope, row.key))

    def set_key(
        self,
        account: Account,
        kind: Kind,
        scope: str,
        key: str,
        *,
        id: str | None,
        since: float | None = None,
        expect: KeyRow | Literal["any"] | None = "any",
    ) -> bool:
        """Make `key` created (naming `id`) or, with id None, unknown (a create was sent at
        `since`; blocked until forgotten or retried). With `expect` (a row read earlier, or None
        for no row) it is a compare-and-set: False, nothing written, when the key changed since
        or another live process holds it pending."""
        ident = (*_acct(account), kind, scope, key)
        where = " WHERE base_url = ? AND key_fp = ? AND kind = ? AND scope = ? AND key = ?"
        with self._translated("write"), self._write() as db:
            if expect != "any":
                row = db.execute(
                    f"SELECT kind, scope, key, state, id, since, pid, host FROM keys{where}", ident
                ).fetchone()
                current = None if row is None else KeyRow(*row)
                held = current is not None and current.state == "pending"
                if held and current is not None and not current.holder.is_gone():
                    return False
                if (current is None) != (expect is None) or (
                    current is not None and not current.same_as(expect)
                ):
                    return False
            db.execute(
                "INSERT OR REPLACE INTO keys (base_url, key_fp, kind, scope, key, state, id,"
                " since) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*ident, "created" if id is not None else "unknown", id, since or time.time()),
            )
        return True

    def forget_keys(
        self, account: Account, kind: Kind, scope: str, keys: Sequence[str] | None = None
    ) -> int:
        """Release `keys` of `kind` in `scope` (all of the scope's when None), in every state;
        the records stay. Returns how many were released."""
        query = "DELETE FROM keys WHERE base_url = ? AND key_fp = ? AND kind = ? AND scope = ?"
        params: list[Any] = [*_acct(account), kind, scope]
        if keys is not None:
            query += f" AND key IN ({','.join('?' * len(keys))})"
            params += keys
        with self._translated("write"), self._write() as db:
            return db.execute(query, params).rowcount

    def get(self, account: Account, kind: Kind, id: str) -> Record | None:
        """The record of one id, gone or not; None if vcctl never saw it."""
        found = self._by_ids(account, kind, [id])
        return found[0] if found else None

    def resolve_claim(
        self, claim: Claim, state: str | None, resource: Mapping[str, Any] | None
    ) -> None:
        """Claim's `created`/`failed`/`unknown`: only while the claim is still the key's (an
        `inventory forget --key` meanwhile wins)."""
        ident = (*_acct(claim.account), claim.kind, claim.scope, claim.key, claim.token)
        match = (
            " WHERE base_url = ? AND key_fp = ? AND kind = ? AND scope = ? AND key = ?"
            " AND claim = ?"
        )
        with self._translated("write"), self._write() as db:
            if resource is not None:
                self._upsert(db, claim.account, claim.kind, resource, time.time())
                db.execute(
                    "UPDATE keys SET state = 'created', id = ?, since = ?, pid = NULL,"
                    f" host = NULL, claim = NULL{match}",
                    (str(resource["id"]), time.time(), *ident),
                )
            elif state == "unknown":
                db.execute(
                    f"UPDATE keys SET state = 'unknown', pid = NULL, host = NULL, claim = NULL"
                    f"{match}",
                    ident,
                )
            else:
                db.execute(f"DELETE FROM keys{match}", ident)


def _acct(account: Account) -> tuple[str, str]:
    return (account.base_url, account.key_fingerprint)


def _default_scope(kind: Kind, resource: Mapping[str, Any]) -> str:
    """Participant keys are scoped by their room; room keys have no scope."""
    room_id = resource.get("room_id")
    return str(room_id) if kind == "participant" and room_id is not None else ""


def _record(row: Sequence[Any]) -> Record:
    return Record(*row)
