"""Keys in the inventory file: claiming one before a create (waiting for another process that
holds it), resolving the claim, and reading, setting and releasing key rows.

A row in `keys` per (account, kind, scope, key), in one of three states: `pending` (a create is
in flight; pid and host of the process sending it), `created` (the id it made), or `unknown`
(sent, outcome unknown: blocked until forgotten or retried on purpose).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from vcctl.inventory import claims as key_model
from vcctl.inventory.claims import CLAIM_WAIT, Claim, KeyRow
from vcctl.inventory.records import Account, Record
from vcctl.inventory.store.connection import Connection, acct
from vcctl.resources import Kind


class KeyStore(Connection):
    """Claims and key rows."""

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
                raise key_model.blocked_error(self.path, key, outcome)
            if time.monotonic() >= deadline:
                raise key_model.pending_error(self.path, key, outcome, wait)
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
    ) -> Record | Claim | key_model.Holder | float:
        """One look at the key in a write transaction: the live record, a new claim, the
        holder to wait for, or the time of the create whose outcome is unknown."""
        ident = (*acct(account), kind, scope, key)
        where = " WHERE base_url = ? AND key_fp = ? AND kind = ? AND scope = ? AND key = ?"
        row = db.execute(f"SELECT state, id, since, pid, host FROM keys{where}", ident).fetchone()
        if row is not None:
            state, id, since, pid, host = row
            holder = key_model.Holder(pid, host, since)
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
            (*ident, time.time(), os.getpid(), key_model.HOST, token),
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
                    (*acct(account), kind, *chunk),
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
        ident = (*acct(account), kind, scope, key)
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
        params: list[Any] = [*acct(account), kind, scope]
        if keys is not None:
            query += f" AND key IN ({','.join('?' * len(keys))})"
            params += keys
        with self._translated("write"), self._write() as db:
            return db.execute(query, params).rowcount

    def resolve_claim(
        self, claim: Claim, state: str | None, resource: Mapping[str, Any] | None
    ) -> None:
        """Claim's `created`/`failed`/`unknown`: only while the claim is still the key's (an
        `inventory forget --key` meanwhile wins)."""
        ident = (*acct(claim.account), claim.kind, claim.scope, claim.key, claim.token)
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

    def forget_key(self, account: Account, key: str, scope: str | None = None) -> int:
        """Release a key in every state (any scope unless given); the records stay, without
        it. Returns how many keys were released."""
        query = "DELETE FROM keys WHERE base_url = ? AND key_fp = ? AND key = ?"
        params: list[Any] = [*acct(account), key]
        if scope is not None:
            query += " AND scope = ?"
            params.append(scope)
        with self._translated("write"), self._write() as db:
            return db.execute(query, params).rowcount
