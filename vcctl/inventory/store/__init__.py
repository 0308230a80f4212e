"""The inventory's SQLite file. SQL lives only in this package; nothing else in vcctl writes it.

WAL journal and a busy timeout, so that many vcctl processes (`xargs -P 8`) share it and none
loses a record; every write is one short `BEGIN IMMEDIATE` transaction (a batch records all its
rows in one). An older file is migrated in place, a newer or unreadable one is reported with its
path and never modified.

The modules: `connection` (the connection, its lock, transactions, shared record rows),
`schema` (opening, creating and migrating the file), `records` (record, list, mark gone, forget)
and `keys` (claims and key rows). `Inventory` is all of them together.
"""

from __future__ import annotations

from vcctl.config import files
from vcctl.inventory.locks import FileLock, lock_digest
from vcctl.inventory.records import Account
from vcctl.inventory.store.key_rows import KeyStore
from vcctl.inventory.store.record_rows import Records
from vcctl.inventory.store.schema import SCHEMA_VERSION, Schema
from vcctl.inventory.store.transfer import Transfer

LOCK_FOLDER = "locks"


class Inventory(Records, KeyStore, Transfer, Schema):
    """An open inventory file (`Inventory.open(path)`). Safe to share between threads (one
    connection, one lock)."""

    def stack_lock(self, account: Account, scope: str) -> FileLock:
        """The lock of one account's stack (apply): an fcntl lock on a file in `locks/` beside
        the inventory file, for the processes of this machine that share it. OSError when the
        file cannot be made."""
        path = (
            self.path.parent / LOCK_FOLDER / f"apply-{lock_digest(account, scope).hex()[:24]}.lock"
        )
        files.make_private_dir(path.parent)
        return FileLock(path, files.FILE_MODE)


__all__ = ["SCHEMA_VERSION", "Inventory"]
