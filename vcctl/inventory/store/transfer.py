"""Copying a whole inventory into another (`vcctl inventory migrate --to URL`): every record and
key of every account, read from one store in one transaction and written to the other in one.

A record already in the destination is kept, or replaced by the copy when the copy was seen more
recently (a room marked gone here stays gone there); its first sighting is the earlier one. A key
the destination holds already is left as it is: when both name the same id (or both an unknown
outcome) there is nothing to copy, otherwise it is a conflict, listed and not copied, for a
person to settle. A key whose create is pending here is copied as an unknown outcome: whatever
that create made is recorded here, not there. So copying again changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from vcctl.inventory.store.connection import TABLE_COLUMNS, Connection
from vcctl.inventory.store.key_rows import add_keys

RECORD_COLUMNS = TABLE_COLUMNS["records"]
KEY_COLUMNS = TABLE_COLUMNS["keys"]
_KEY_IDENT = 5  # base_url, key_fp, kind, scope, key
_STATE, _ID = KEY_COLUMNS.index("state"), KEY_COLUMNS.index("id")

MERGE_RECORD = f"""INSERT INTO records ({", ".join(RECORD_COLUMNS)})
    VALUES ({", ".join("?" * len(RECORD_COLUMNS))})
    ON CONFLICT (base_url, key_fp, kind, id) DO UPDATE SET
        room_id = coalesce(excluded.room_id, records.room_id), label = excluded.label,
        data = excluded.data, last_seen = excluded.last_seen, gone = excluded.gone,
        first_seen = CASE WHEN excluded.first_seen < records.first_seen
            THEN excluded.first_seen ELSE records.first_seen END,
        created = coalesce(records.created, excluded.created)
    WHERE excluded.last_seen > records.last_seen"""


class Dump(NamedTuple):
    """Every row of an inventory, columns in the order above."""

    records: list[tuple[Any, ...]]
    keys: list[tuple[Any, ...]]


class KeyConflict(NamedTuple):
    """A key both inventories hold, naming different ids (None: an unknown outcome)."""

    base_url: str
    kind: str
    scope: str
    key: str
    here: str | None
    there: str | None


class Loaded:
    """What `load` did: records written, keys added, keys already there, keys refused. (Plain
    classes and named tuples here: every run that opens the inventory imports this module, and a
    dataclass costs half a millisecond to create.)"""

    def __init__(self) -> None:
        self.records = 0
        self.keys = 0
        self.keys_present = 0
        self.conflicts: list[KeyConflict] = []


class Transfer(Connection):
    """Reading a whole store, and merging one into it."""

    def dump(self) -> Dump:
        with self._translated("read"), self._lock:
            records = [
                tuple(row)
                for row in self._db.execute(
                    f"SELECT {', '.join(RECORD_COLUMNS)} FROM records"
                ).fetchall()
            ]
            keys = [
                tuple(row)
                for row in self._db.execute(f"SELECT {', '.join(KEY_COLUMNS)} FROM keys").fetchall()
            ]
        return Dump(records, keys)

    def load(self, dump: Dump) -> Loaded:
        """Merge `dump` (another store's rows) into this store, in one write transaction."""
        loaded = Loaded()
        with self._translated("write"), self._write() as db:
            present = {
                tuple(row[:_KEY_IDENT]): (row[_STATE], row[_ID])
                for row in db.execute(f"SELECT {', '.join(KEY_COLUMNS)} FROM keys")
            }
            new_keys: list[Sequence[Any]] = []
            for row in dump.keys:
                copy = _settled(row)
                there = present.get(tuple(copy[:_KEY_IDENT]))
                if there is None:
                    new_keys.append(copy)
                elif there[1] == copy[_ID]:
                    loaded.keys_present += 1
                else:
                    base_url, _, kind, scope, key = copy[:_KEY_IDENT]
                    loaded.conflicts.append(
                        KeyConflict(base_url, kind, scope, key, copy[_ID], there[1])
                    )
            if dump.records:
                db.executemany(MERGE_RECORD, dump.records)
            add_keys(db, KEY_COLUMNS, new_keys)
            loaded.records, loaded.keys = len(dump.records), len(new_keys)
        return loaded


def _settled(row: Sequence[Any]) -> list[Any]:
    """A key row as the destination gets it: a pending claim becomes an unknown outcome."""
    copy = list(row)
    if copy[_STATE] == "pending":
        copy[_STATE] = "unknown"
        copy[KEY_COLUMNS.index("claim")] = None
    return copy
