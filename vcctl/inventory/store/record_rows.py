"""Records in the inventory file: remembering what the API returned, marking what is gone,
listing with filters. (Forgetting records drops the keys naming them: `key_rows`.)"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from vcctl.inventory.records import Account, ListedColumn, Record
from vcctl.inventory.store.connection import (
    KEY_JOIN,
    LISTED,
    SELECT,
    Connection,
    acct,
    record_of,
    record_values,
)
from vcctl.resources import Kind


class Records(Connection):
    """Writing, listing and forgetting records."""

    def record(self, account: Account, kind: Kind, resource: Mapping[str, Any]) -> Record:
        """Remember what the API returned (creates, gets, updates, listings) and return it as
        stored. A room's embedded `participants` are recorded too. (Keys are the key
        protocol's: `vcctl.inventory.claims`.)"""
        return self.record_many(account, kind, [resource])[0]

    def record_many(
        self,
        account: Account,
        kind: Kind,
        resources: Sequence[Mapping[str, Any]],
        *,
        fetch: bool = True,
    ) -> list[Record]:
        """`record` for many resources in ONE transaction (a batch's rows). `fetch=False`
        returns [] instead of reading the records back (recording only)."""
        now = time.time()
        rows, nested_rows = [], []
        for resource in resources:
            rows.append(record_values(account, kind, resource, now))
            nested = resource.get("participants") if kind == "room" else None
            if isinstance(nested, list):
                nested_rows += [
                    record_values(account, "participant", participant, now)
                    for participant in nested
                    if isinstance(participant, Mapping) and "id" in participant
                ]
        with self._translated("write"), self._write() as db:
            self._upsert_many(db, rows)
            self._upsert_many(db, nested_rows)
            if not fetch:
                return []
            ids = [str(resource["id"]) for resource in resources]
            return self._by_ids(account, kind, ids)

    def mark_gone(self, account: Account, kind: Kind, id: str) -> bool:
        """A delete or a 404: the record (and a room's participants) no longer exist.
        False if vcctl had no live record of it."""
        now = time.time()
        with self._translated("write"), self._write() as db:
            changed = db.execute(
                "UPDATE records SET gone = ? WHERE base_url = ? AND key_fp = ? AND kind = ?"
                " AND id = ? AND gone IS NULL",
                (now, *acct(account), kind, id),
            ).rowcount
            if kind == "room":
                db.execute(
                    "UPDATE records SET gone = ? WHERE base_url = ? AND key_fp = ?"
                    " AND kind = 'participant' AND room_id = ? AND gone IS NULL",
                    (now, *acct(account), id),
                )
        self.keys_changed = self.keys_changed or changed > 0
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
        where, params = self._listing_filter(
            account, kind, name_glob, created_before, created_after, include_gone, room_id
        )
        query = f"{SELECT} WHERE {where} ORDER BY r.created DESC, r.id"
        with self._translated("read"), self._lock:
            records = [record_of(row) for row in self._db.execute(query, params).fetchall()]
            if with_participants and kind == "room":
                self._attach_participants(account, records)
        return records

    def list_rows(
        self,
        account: Account | None,
        kind: Kind,
        columns: Sequence[ListedColumn],
        *,
        name_glob: str | None = None,
        created_before: datetime | None = None,
        created_after: datetime | None = None,
        include_gone: bool = False,
        room_id: str | None = None,
    ) -> list[tuple[Any, ...]]:
        """The named `columns` of the records `list_records` would return, in its order, as
        plain tuples (see `records.ListedColumn`): no JSON, no Record objects, and the keys
        table joined only when a key is asked for."""
        where, params = self._listing_filter(
            account, kind, name_glob, created_before, created_after, include_gone, room_id
        )
        joined = KEY_JOIN if "key" in columns else ""
        selected = ", ".join(LISTED[column] for column in columns)
        query = f"SELECT {selected} FROM records r {joined} WHERE {where}"
        with self._translated("read"), self._lock:
            rows: list[tuple[Any, ...]] = self._db.execute(
                f"{query} ORDER BY r.created DESC, r.id", params
            ).fetchall()
        return rows

    def participant_counts(self, account: Account | None) -> dict[tuple[str, str], int]:
        """How many live participants each room has, by (base URL, room id): the count
        `list_records(..., with_participants=True)` gives a room, without reading them."""
        query = (
            "SELECT base_url, room_id, count(*) FROM records"
            " WHERE kind = 'participant' AND gone IS NULL AND room_id IS NOT NULL"
        )
        params: list[Any] = []
        if account is not None:
            query += " AND base_url = ? AND key_fp = ?"
            params += acct(account)
        query += " GROUP BY base_url, room_id"
        with self._translated("read"), self._lock:
            rows = self._db.execute(query, params).fetchall()
        return {(base_url, room): count for base_url, room, count in rows}

    def _listing_filter(
        self,
        account: Account | None,
        kind: Kind,
        name_glob: str | None,
        created_before: datetime | None,
        created_after: datetime | None,
        include_gone: bool,
        room_id: str | None,
    ) -> tuple[str, list[Any]]:
        """The WHERE condition of a listing (over `records r`), and its parameters."""
        where = ["r.kind = ?"]
        params: list[Any] = [kind]
        if account is not None:
            where.append("r.base_url = ? AND r.key_fp = ?")
            params += acct(account)
        if name_glob is not None:
            condition, pattern = self._label_glob(name_glob)
            where.append(condition)
            params.append(pattern)
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
        return " AND ".join(where), params

    def _attach_participants(self, account: Account | None, rooms: list[Record]) -> None:
        by_room: dict[tuple[str, str], list[Record]] = {}
        for room in rooms:
            room.participants = []
            by_room[(room.base_url, room.id)] = room.participants
        query = f"{SELECT} WHERE r.kind = 'participant' AND r.gone IS NULL"
        params: list[Any] = []
        if account is not None:
            query += " AND r.base_url = ? AND r.key_fp = ?"
            params += acct(account)
        for row in self._db.execute(query + " ORDER BY r.created, r.id", params).fetchall():
            participant = record_of(row)
            bucket = by_room.get((participant.base_url, participant.room_id or ""))
            if bucket is not None:
                bucket.append(participant)
