"""Opening the inventory file: create it or migrate an older schema (one process at a time), and
refuse, without modifying it, a file that is newer, foreign or unreadable.

The schema version lives in `PRAGMA user_version`; `MIGRATIONS[n]` takes a file from version n
to n + 1: SQL statements, or Python steps for what SQL cannot say (parsing a time, normalising
a URL).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Self

from vcctl.errors import InventoryError
from vcctl.inventory.records import created_at_ts, normal_base_url, prepare_file
from vcctl.inventory.store.connection import Connection, describe
from vcctl.inventory.store.key_rows import migrate_key_accounts

SCHEMA_VERSION = 6
BUSY_TIMEOUT = 10.0  # seconds a writer waits for another process's transaction
SETUP_HINT = "move the file aside (vcctl starts a new inventory), or set VCCTL_INVENTORY=off"

Step = str | Callable[[sqlite3.Connection], None]


def _created_from_the_api(db: sqlite3.Connection) -> None:
    """`created` is the API's created_at where the record's JSON has a readable one (the first
    version's migration took first_seen for every record)."""
    db.create_function("vcctl_created_at", 1, _created_at, deterministic=True)
    db.execute("UPDATE records SET created = coalesce(vcctl_created_at(data), created, first_seen)")


def _created_at(data: str) -> float | None:
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return created_at_ts(value) if isinstance(value, dict) else None


def _normal_accounts(db: sqlite3.Connection) -> None:
    """Records and keys under another spelling of a base URL (`HTTP://Host:80/`) move to its
    normal one (`http://host`): one server, one account. Where two spellings recorded the same
    resource, the latest sighting stays."""
    urls = [url for (url,) in db.execute("SELECT DISTINCT base_url FROM records")]
    urls += [url for (url,) in db.execute("SELECT DISTINCT base_url FROM keys")]
    renames = {url: normal_base_url(url) for url in set(urls) if normal_base_url(url) != url}
    for old, new in renames.items():
        same = (
            "s.base_url = ? AND s.key_fp = records.key_fp AND s.kind = records.kind"
            " AND s.id = records.id"
        )
        # Of two records of one resource, drop the one seen less recently.
        db.execute(
            f"DELETE FROM records WHERE base_url = ? AND EXISTS (SELECT 1 FROM records s"
            f" WHERE {same} AND s.last_seen >= records.last_seen)",
            (old, new),
        )
        db.execute(
            f"DELETE FROM records WHERE base_url = ? AND EXISTS (SELECT 1 FROM records s"
            f" WHERE {same} AND s.last_seen > records.last_seen)",
            (new, old),
        )
        db.execute("UPDATE records SET base_url = ? WHERE base_url = ?", (new, old))
    migrate_key_accounts(db, renames)


MIGRATIONS: tuple[tuple[Step, ...], ...] = (
    (
        """CREATE TABLE records (
            base_url TEXT NOT NULL, key_fp TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
            room_id TEXT, label TEXT, data TEXT NOT NULL,
            first_seen REAL NOT NULL, last_seen REAL NOT NULL, gone REAL,
            PRIMARY KEY (base_url, key_fp, kind, id))""",
    ),
    (
        "ALTER TABLE records ADD COLUMN created REAL",
        _created_from_the_api,
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
    (
        # The start time of a pending claim's process, so that a recycled pid is not its owner.
        "ALTER TABLE keys ADD COLUMN started REAL",
        _created_from_the_api,
        _normal_accounts,
    ),
    (
        # A listing's order, newest first and then by id, read off the index as it stands: with
        # records_by_created the id tie-break sorted every row in a temporary B-tree first.
        "CREATE INDEX records_newest_first ON records (base_url, key_fp, kind, created DESC, id)",
        "DROP INDEX records_by_created",  # its columns lead the new one
    ),
    (
        # What the last apply set on a key's resource (a JSON object), so that a plan can tell
        # a field changed outside vcctl from one the file changed. None for older keys.
        "ALTER TABLE keys ADD COLUMN applied TEXT",
    ),
    (
        # The same order, now also holding every column a listing's table shows
        # (`connection.LISTED`; the key is the keys table's), so that a table of 10,000 rooms
        # is read off the index alone, without a lookup into the table's rows for each.
        "DROP INDEX records_newest_first",
        """CREATE INDEX records_newest_first ON records (base_url, key_fp, kind, created DESC, id,
            gone, label, room_id, first_seen, last_seen)""",
    ),
)
assert len(MIGRATIONS) == SCHEMA_VERSION


class Schema(Connection):
    """Opening, creating and migrating the file."""

    _db: sqlite3.Connection  # the file's own connection (its migrations are SQLite's)

    @classmethod
    def open(cls, path: Path) -> Self:
        """Open (creating it 0600 in a 0700 folder) and migrate the file at `path`."""
        where = str(path)
        warnings = prepare_file(path)
        try:
            db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise InventoryError(
                f"cannot open inventory {path}: {describe(exc)}", path=where, hint=SETUP_HINT
            ) from None
        inventory = cls(path, db)
        inventory.warnings = warnings
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
                f"cannot set up inventory {self.path}: {describe(exc)}", path=str(self.path)
            ) from None

    def _migrate(self) -> None:
        """Create or upgrade the schema, one process at a time: switching the journal to WAL
        needs the file to itself, which SQLite's busy timeout does not always wait for."""
        from vcctl.config import files

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
                            if callable(statement):
                                statement(self._db)
                            else:
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
                hint=SETUP_HINT,
            )
        return version

    def _unreadable(self, exc: sqlite3.Error) -> InventoryError:
        return InventoryError(
            f"inventory {self.path} is unreadable ({describe(exc)}); vcctl will not modify it",
            path=str(self.path),
            hint=SETUP_HINT,
        )
