"""The inventory store: records, listings, keys and claims, the file's safety and schema."""

from __future__ import annotations

import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from tests.stores import open_place
from vcctl.errors import InventoryError, KeyBlockedError, UsageError
from vcctl.inventory import claims
from vcctl.inventory.claims import Claim, KeyRef, KeyRow, Owner
from vcctl.inventory.records import Account, Record, account_for, inventory_enabled, inventory_path
from vcctl.inventory.store import SCHEMA_VERSION, Inventory
from vcctl.inventory.when import parse_when

ME = account_for("http://127.0.0.1:8000/", "key-of-me-0000000001")
OTHER = account_for("http://127.0.0.1:8000", "key-of-other-000000002")


def room(id: str, name: str, day: int, **extra: Any) -> dict[str, Any]:
    return {"id": id, "name": name, "created_at": f"2024-05-{day:02d}T10:00:00+00:00", **extra}


def participant(id: str, room_id: str, username: str = "Ann") -> dict[str, Any]:
    return {"id": id, "room_id": room_id, "username": username, "created_at": "2024-05-02T10:00Z"}


@pytest.fixture
def inv(store_place: str) -> Any:
    """An inventory on each backend in turn: the SQLite file, then a PostgreSQL database."""
    with open_place(store_place) as opened:
        yield opened


def ids(records: list[Record]) -> list[str]:
    return [record.id for record in records]


# -- where it lives, who it belongs to ----------------------------------------------------------


def test_the_file_lives_in_the_data_folder_and_is_private(tmp_path: Path) -> None:
    import platformdirs

    assert inventory_path({"VCCTL_DATA_DIR": str(tmp_path)}) == tmp_path / "inventory.sqlite3"
    assert inventory_path({}) == (
        Path(platformdirs.user_data_dir("vcctl", appauthor=False)) / "inventory.sqlite3"
    )
    path = tmp_path / "a" / "b" / "inventory.sqlite3"
    Inventory.open(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (tmp_path / "a", tmp_path / "a" / "b"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_accounts_are_the_base_url_and_a_fingerprint_never_the_key() -> None:
    assert Account("http://127.0.0.1:8000", ME.key_fingerprint) == ME
    assert "key-of-me" not in ME.key_fingerprint
    assert len(ME.key_fingerprint) == 16
    assert account_for("http://127.0.0.1:8000", "key-of-me-0000000001") == ME
    assert OTHER.key_fingerprint != ME.key_fingerprint


@pytest.mark.parametrize(
    ("env", "profile", "enabled"),
    [
        ({}, None, True),
        ({"VCCTL_INVENTORY": "off"}, None, False),
        ({"VCCTL_INVENTORY": "OFF"}, {"inventory": True}, False),
        ({}, {"inventory": False}, False),
        ({"VCCTL_INVENTORY": "on"}, {"inventory": False}, True),
    ],
)
def test_the_off_switch(env: dict[str, str], profile: dict[str, Any] | None, enabled: bool) -> None:
    assert inventory_enabled(env, profile) is enabled


# -- records and listings -----------------------------------------------------------------------


def test_records_are_listed_newest_first_per_account(inv: Inventory) -> None:
    inv.record(ME, "room", room("aaaaaa", "standup", 1))
    inv.record_many(ME, "room", [room("cccccc", "retro", 3), room("bbbbbb", "standup 2", 2)])
    inv.record(OTHER, "room", room("dddddd", "theirs", 4))
    assert ids(inv.list_records(ME, "room")) == ["cccccc", "bbbbbb", "aaaaaa"]
    assert ids(inv.list_records(None, "room")) == ["dddddd", "cccccc", "bbbbbb", "aaaaaa"]
    assert ids(inv.list_records(ME, "room", name_glob="standup*")) == ["bbbbbb", "aaaaaa"]
    assert ids(inv.list_records(ME, "room", name_glob="Standup*")) == []  # case-sensitive
    may_2 = datetime(2024, 5, 2, 10, tzinfo=UTC)
    assert ids(inv.list_records(ME, "room", created_before=may_2)) == ["aaaaaa"]
    assert ids(inv.list_records(ME, "room", created_after=may_2)) == ["cccccc"]
    first = inv.list_records(ME, "room")[-1]
    assert (first.kind, first.data["name"], first.base_url, first.key) == (
        "room",
        "standup",
        "http://127.0.0.1:8000",
        None,
    )
    assert first.created == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert first.local_facts()["gone"] is False


def test_seeing_again_updates_the_data_and_last_seen_but_not_first_seen(inv: Inventory) -> None:
    before = inv.record(ME, "room", room("aaaaaa", "old", 1))
    after = inv.record(ME, "room", room("aaaaaa", "new", 1, color="#000000"))
    assert after.data == room("aaaaaa", "new", 1, color="#000000")
    assert after.first_seen_ts == before.first_seen_ts
    assert after.last_seen_ts >= before.last_seen_ts


def test_gone_records_are_hidden_unless_asked_and_come_back_when_seen(inv: Inventory) -> None:
    inv.record(ME, "room", room("aaaaaa", "r", 1, participants=[participant("pppppp", "aaaaaa")]))
    assert ids(inv.list_records(ME, "participant")) == ["pppppp"]
    assert inv.mark_gone(ME, "room", "aaaaaa") is True
    assert inv.mark_gone(ME, "room", "aaaaaa") is False  # already gone
    assert inv.list_records(ME, "room") == []
    assert inv.list_records(ME, "participant") == []  # a room's participants go with it
    gone = inv.list_records(ME, "room", include_gone=True)
    assert [(r.id, r.gone) for r in gone] == [("aaaaaa", True)]
    inv.record(ME, "room", room("aaaaaa", "r", 1))
    assert ids(inv.list_records(ME, "room")) == ["aaaaaa"]


def test_rooms_carry_their_participants_as_last_seen(inv: Inventory) -> None:
    inv.record(ME, "room", room("aaaaaa", "r", 1))
    inv.record(ME, "room", room("bbbbbb", "s", 2))
    inv.record_many(
        ME, "participant", [participant("p1p1p1", "aaaaaa"), participant("p2p2p2", "aaaaaa", "Bo")]
    )
    inv.record(OTHER, "participant", participant("p3p3p3", "aaaaaa"))
    rooms = {r.id: r for r in inv.list_records(ME, "room", with_participants=True)}
    assert [p.data["username"] for p in rooms["aaaaaa"].participants or []] == ["Ann", "Bo"]
    assert rooms["bbbbbb"].participants == []
    assert inv.list_records(ME, "room")[0].participants is None  # only when asked
    assert ids(inv.list_records(ME, "participant", room_id="aaaaaa")) == ["p1p1p1", "p2p2p2"]


def test_a_table_listing_reads_the_columns_it_names_in_the_listing_order(inv: Inventory) -> None:
    inv.record(ME, "room", room("aaaaaa", "r", 1))
    inv.record(ME, "room", {"id": "bbbbbb", "created_at": "2024-05-02T10:00:00+00:00"})
    inv.record(OTHER, "room", room("cccccc", "t", 3))
    claims.adopt(inv, KeyRef(ME, "room", "", "standup"), "aaaaaa")
    inv.record_many(
        ME, "participant", [participant("p1p1p1", "aaaaaa"), participant("p2p2p2", "aaaaaa", "Bo")]
    )
    inv.mark_gone(ME, "participant", "p2p2p2")
    inv.record(OTHER, "participant", participant("p3p3p3", "cccccc"))

    rows = inv.list_rows(ME, "room", ["id", "label", "key", "room_id", "gone", "base_url"])
    records = inv.list_records(ME, "room")
    everyone = inv.list_rows(None, "room", ["id"])

    # Text is "" where a Record has None; the order is the records' (newest first).
    assert rows == [
        ("bbbbbb", "", "", "", None, ME.base_url),
        ("aaaaaa", "r", "standup", "", None, ME.base_url),
    ]
    assert [row[0] for row in rows] == ids(records)
    times = inv.list_rows(ME, "room", ["created", "last_seen"])
    assert times == [(r.created_ts, r.last_seen_ts) for r in records]
    assert everyone == [("cccccc",), ("bbbbbb",), ("aaaaaa",)]
    assert inv.list_rows(ME, "participant", ["id", "room_id"], include_gone=True) == [
        ("p1p1p1", "aaaaaa"),
        ("p2p2p2", "aaaaaa"),
    ]
    # Live participants only, by base URL and room: what list_records attaches, counted.
    assert inv.participant_counts(ME) == {(ME.base_url, "aaaaaa"): 1}
    assert inv.participant_counts(None) == {(ME.base_url, "aaaaaa"): 1, (ME.base_url, "cccccc"): 1}


def test_a_batch_records_in_one_transaction(inv: Inventory) -> None:
    statements: list[str] = []
    cast(Any, inv._db).set_trace_callback(statements.append)  # sqlite3 and the Session
    inv.record_many(ME, "room", [room(f"r{i:05d}", f"n{i}", 1) for i in range(300)])
    sent = list(statements)
    assert statements.count("COMMIT") == 1
    assert len(inv.list_records(ME, "room")) == 300
    if not isinstance(inv._db, sqlite3.Connection):
        # A database across a network: the rows go as one executemany (one pipeline), not a
        # statement, and a round trip, each: begin, write, read back, commit. (sqlite3 traces
        # each row's execution.)
        assert len(sent) == 4, sent


def test_forgetting_ids_and_keys(inv: Inventory) -> None:
    inv.record(ME, "room", room("aaaaaa", "r", 1))
    claims.adopt(inv, KeyRef(ME, "room", "", "standup"), "aaaaaa")
    inv.record(ME, "room", room("bbbbbb", "s", 2))
    assert inv.list_records(ME, "room")[-1].key == "standup"
    assert inv.forget_keys(ME, inv.list_keys(ME, key="standup")) == 1
    assert inv.list_records(ME, "room")[-1].key is None
    assert inv.forget_ids(ME, ["bbbbbb", "zzzzzz"]) == ["bbbbbb"]
    assert ids(inv.list_records(ME, "room", include_gone=True)) == ["aaaaaa"]
    assert inv.forget_ids(OTHER, ["aaaaaa"]) == []  # another account's forget touches nothing


# -- keys and claims (the state machine itself: tests/test_key_claims.py) ----------------------


def test_swap_key_writes_only_over_the_row_expected_and_records_its_resource_anyway(
    inv: Inventory,
) -> None:
    ref = KeyRef(ME, "room", "stack:w", "board")
    pending = KeyRow("room", "stack:w", "board", "pending", None, 1.5, Owner("h", 7, None), "t1")
    created = KeyRow("room", "stack:w", "board", "created", "aaaaaa", 2.25)
    assert inv.swap_key(ref, None, pending)
    assert not inv.swap_key(ref, None, created)  # a row is there: not the one expected
    other = KeyRow("room", "stack:w", "board", "pending", None, 1.5, Owner("h", 7, None), "t2")
    made = room("aaaaaa", "Board", 1)
    assert not inv.swap_key(ref, other, created, resource=made)  # another claim's token
    assert inv.read_key(ref) == pending
    assert ids(inv.list_records(ME, "room")) == ["aaaaaa"]  # recorded, matched or not
    assert inv.swap_key(ref, pending, created, resource=made)
    assert inv.read_key(ref) == created
    assert inv.list_records(ME, "room")[0].key == "board"
    assert not inv.swap_key(ref, pending, None)
    assert inv.swap_key(ref, created, None)
    assert inv.read_key(ref) is None


def test_a_new_key_is_claimed_and_created_in_one_transaction_each(inv: Inventory) -> None:
    """A fresh key is taken without being read first, and each step is one transaction: over
    a network (PostgreSQL), one message and one round trip each, not one a statement."""
    ref = KeyRef(ME, "room", "", "o'neil \\ 100%")  # quoted and escaped in one message
    statements: list[str] = []
    cast(Any, inv._db).set_trace_callback(statements.append)
    held = claims.claim(inv, ref)
    assert isinstance(held, Claim)
    claimed = list(statements)
    held.created(room("aaaaaa", "standup", 1))
    cast(Any, inv._db).set_trace_callback(None)

    row = inv.read_key(ref)
    assert row is not None
    assert (row.state, row.id, row.owner, row.token) == ("created", "aaaaaa", None, None)
    assert inv.list_records(ME, "room")[0].key == ref.key
    if isinstance(inv._db, sqlite3.Connection):
        assert claimed[0] == "BEGIN IMMEDIATE", claimed  # no read before the take
    else:
        assert len(claimed) == 1, claimed
        assert len(statements) == 2, statements


def test_a_claimed_key_once_created_names_the_live_record(inv: Inventory) -> None:
    held = claims.claim(inv, KeyRef(ME, "room", "", "standup"))
    assert isinstance(held, Claim)
    held.created(room("aaaaaa", "standup", 1))
    again = claims.claim(inv, KeyRef(ME, "room", "", "standup"))
    assert isinstance(again, Record)
    assert (again.id, again.key) == ("aaaaaa", "standup")
    assert isinstance(claims.claim(inv, KeyRef(OTHER, "room", "", "standup")), Claim)  # apart
    assert isinstance(claims.claim(inv, KeyRef(ME, "participant", "aaaaaa", "standup")), Claim)


def test_a_key_whose_record_is_gone_is_created_anew(inv: Inventory) -> None:
    ref = KeyRef(ME, "room", "", "k")
    held = claims.claim(inv, ref)
    assert isinstance(held, Claim)
    held.created(room("aaaaaa", "r", 1))
    inv.mark_gone(ME, "room", "aaaaaa")
    fresh = claims.claim(inv, ref)
    assert isinstance(fresh, Claim)
    fresh.created(room("bbbbbb", "r", 2))
    found = claims.claim(inv, ref)
    assert isinstance(found, Record)
    assert found.id == "bbbbbb"


def test_a_blocked_key_names_the_command_that_frees_exactly_it(inv: Inventory) -> None:
    for scope in ("", "stack:weekly"):
        held = claims.claim(inv, KeyRef(ME, "room", scope, "board"))
        assert isinstance(held, Claim)
        held.unknown()
    with pytest.raises(KeyBlockedError) as caught:
        claims.claim(inv, KeyRef(ME, "room", "stack:weekly", "board"))
    error = caught.value
    assert error.exit_code == 11
    assert (error.key, error.scope) == ("board", "stack:weekly")
    assert "room key 'board' (stack weekly): an earlier create's outcome is unknown" in (
        error.message
    )
    assert error.hint is not None
    assert "run 'vcctl inventory forget --key board --stack weekly'" in error.hint
    with pytest.raises(KeyBlockedError) as plain:
        claims.claim(inv, KeyRef(ME, "room", "", "board"))
    assert plain.value.hint is not None
    assert "run 'vcctl inventory forget --key board --no-stack'" in plain.value.hint


def test_keys_are_listed_by_account_and_stack_and_forgotten_one_scope_at_a_time(
    inv: Inventory,
) -> None:
    inv.record(ME, "room", room("r1", "Board", 1))
    claims.adopt(inv, KeyRef(ME, "room", "stack:w", "board"), "r1")
    claims.adopt(inv, KeyRef(ME, "participant", "stack:w/board", "ada"), "p1")
    claims.adopt(inv, KeyRef(ME, "room", "", "board"), "r2")
    claims.adopt(inv, KeyRef(OTHER, "room", "stack:w", "board"), "r9")
    assert [(row.kind, row.scope, row.key) for row in inv.list_keys(ME, stack="w")] == [
        ("room", "stack:w", "board"),
        ("participant", "stack:w/board", "ada"),
    ]
    assert inv.list_records(ME, "room")[0].key == "board"  # the record shows its key
    assert inv.forget_scope(ME, "participant", "stack:w/board") == 1
    assert inv.forget_keys(ME, inv.list_keys(ME, key="board", scopes=[""])) == 1
    assert [row.scope for row in inv.list_keys(ME)] == ["stack:w"]
    assert [row.id for row in inv.list_keys(OTHER)] == ["r9"]


# -- the file: schema versions, and files vcctl must not touch -----------------------------------

V1_FILE = [
    """CREATE TABLE records (
        base_url TEXT NOT NULL, key_fp TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
        room_id TEXT, label TEXT, data TEXT NOT NULL,
        first_seen REAL NOT NULL, last_seen REAL NOT NULL, gone REAL,
        PRIMARY KEY (base_url, key_fp, kind, id))""",
    "INSERT INTO records VALUES ('http://127.0.0.1:8000', '{fp}', 'room', 'aaaaaa', NULL,"
    ' \'old\', \'{{"id": "aaaaaa", "name": "old"}}\', 1700000000, 1700000100, NULL)',
    "PRAGMA user_version = 1",
]


def test_a_version_1_file_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "inventory.sqlite3"
    db = sqlite3.connect(path)
    for statement in V1_FILE:
        db.execute(statement.format(fp=ME.key_fingerprint))
    db.commit()
    db.close()
    with Inventory.open(path) as inv:
        [old] = inv.list_records(ME, "room")
        assert (old.id, old.data, old.created_ts, old.first_seen_ts) == (
            "aaaaaa",
            {"id": "aaaaaa", "name": "old"},
            1700000000,
            1700000000,
        )
        assert isinstance(claims.claim(inv, KeyRef(ME, "room", "", "k")), Claim)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_an_empty_version_0_file_becomes_an_inventory(tmp_path: Path) -> None:
    path = tmp_path / "inventory.sqlite3"
    path.touch(mode=0o600)
    with Inventory.open(path) as inv:
        inv.record(ME, "room", room("aaaaaa", "r", 1))
        assert ids(inv.list_records(ME, "room")) == ["aaaaaa"]


def _newer_file(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE future (x)")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()


def _foreign_file(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE photos (x)")
    db.commit()
    db.close()


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (_newer_file, f"was written by a newer vcctl (schema version {SCHEMA_VERSION + 1}"),
        (_foreign_file, "is an SQLite file vcctl did not make (tables: photos)"),
        (lambda p: p.write_bytes(b"not a database at all\n" * 100), "is unreadable"),
        (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200), "is unreadable"),
    ],
    ids=["newer", "foreign", "garbage", "damaged header"],
)
def test_a_file_vcctl_cannot_use_is_reported_and_never_modified(
    tmp_path: Path, make: Any, needle: str
) -> None:
    path = tmp_path / "inventory.sqlite3"
    make(path)
    before = path.read_bytes()
    with pytest.raises(InventoryError) as caught:
        Inventory.open(path)
    assert caught.value.exit_code == 2
    assert caught.value.path == str(path)
    assert f"inventory {path} " in caught.value.message
    assert needle in caught.value.message
    assert "vcctl will not modify it" in caught.value.message
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inventory.sqlite3"]


def test_a_folder_others_may_write_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    folder.chmod(0o777)
    with pytest.raises(InventoryError) as caught:
        Inventory.open(folder / "inventory.sqlite3")
    assert f"inventory folder {folder} is writable by other users" in caught.value.message
    assert list(folder.iterdir()) == []


# -- --created-before / --created-after ---------------------------------------------------------

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", NOW - timedelta(days=30)),
        ("12h", NOW - timedelta(hours=12)),
        ("90m", NOW - timedelta(minutes=90)),
        ("2w", NOW - timedelta(weeks=2)),
        ("2024-05-01T08:00:00+02:00", datetime(2024, 5, 1, 6, tzinfo=UTC)),
        ("2024-05-01T06:00Z", datetime(2024, 5, 1, 6, tzinfo=UTC)),
    ],
)
def test_when_is_an_age_or_an_iso_time(text: str, expected: datetime) -> None:
    assert parse_when(text, now=NOW) == expected


def test_a_date_without_offset_is_local_midnight() -> None:
    moment = parse_when("2024-05-01")
    assert moment.tzinfo is not None
    assert moment == datetime(2024, 5, 1).astimezone()


@pytest.mark.parametrize("text", ["yesterday", "30", "d30", "-5d", "2024-13-01", ""])
def test_a_when_that_is_neither_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_when(text)
    assert f"invalid time {text!r}: use an ISO date or time" in caught.value.message


def test_migration_fills_created_from_created_at_and_merges_spellings_of_one_url(
    tmp_path: Path,
) -> None:
    path = tmp_path / "inventory.sqlite3"
    db = sqlite3.connect(path)
    db.execute(V1_FILE[0])
    created_at = "2024-05-01T10:00:00+00:00"
    data = f'{{"id": "bbbbbb", "name": "new", "created_at": "{created_at}"}}'
    for url, id, row in (
        ("HTTP://127.0.0.1:8000/", "bbbbbb", data),
        ("http://127.0.0.1:8000", "aaaaaa", '{"id": "aaaaaa", "name": "old"}'),
    ):
        db.execute(
            "INSERT INTO records VALUES (?, ?, 'room', ?, NULL, 'x', ?, 1700000000,"
            " 1700000100, NULL)",
            (url, ME.key_fingerprint, id, row),
        )
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with Inventory.open(path) as inv:
        found = {record.id: record for record in inv.list_records(ME, "room")}
        assert sorted(found) == ["aaaaaa", "bbbbbb"]  # one account, whatever the spelling
        assert found["bbbbbb"].created_ts == datetime.fromisoformat(created_at).timestamp()
        assert found["aaaaaa"].created_ts == 1700000000  # no created_at: first seen


@pytest.mark.parametrize(
    "spelling",
    [
        "http://localhost",
        "HTTP://LOCALHOST/",
        "http://localhost:80",
        "http://LocalHost:80/",
        "http://user:secret@localhost/",
    ],
)
def test_one_server_is_one_account_however_its_url_is_spelt(spelling: str) -> None:
    assert account_for(spelling, "k").base_url == "http://localhost"
    assert account_for("https://Bücher.example:443/api/", "k").base_url == (
        "https://xn--bcher-kva.example/api"
    )
    assert account_for("https://localhost:8443", "k").base_url == "https://localhost:8443"


@pytest.mark.parametrize("start", ["new", "version 5"])
def test_a_listing_table_is_read_off_the_index_alone(tmp_path: Path, start: str) -> None:
    """What a table shows is in the listing's index: 10,000 rows are not 10,000 lookups of the
    rows themselves (and their JSON)."""
    path = tmp_path / "inventory.sqlite3"
    if start == "version 5":  # the index as that version made it: the order only
        Inventory.open(path).close()
        with sqlite3.connect(path) as db:
            db.execute("DROP INDEX records_newest_first")
            db.execute(
                "CREATE INDEX records_newest_first ON records"
                " (base_url, key_fp, kind, created DESC, id)"
            )
            db.execute("PRAGMA user_version = 5")
    statements: list[str] = []
    columns = ["id", "label", "room_id", "key", "created", "last_seen", "gone", "base_url"]
    with Inventory.open(path) as inv:
        inv.record_many(ME, "room", [room("bbbbbb", "b", 2), room("cccccc", "c", 2)])
        inv._db.set_trace_callback(statements.append)
        listed = inv.list_rows(ME, "room", cast(Any, columns), include_gone=True)
        [query] = [sql for sql in statements if sql.lstrip().startswith("SELECT")]
        plan = [row[3] for row in inv._db.execute(f"EXPLAIN QUERY PLAN {query}")]
    assert [row[0] for row in listed] == ["bbbbbb", "cccccc"]
    assert any("USING COVERING INDEX records_newest_first" in step for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan


@pytest.mark.parametrize("start", ["new", "version 1"])
def test_a_listing_reads_its_order_off_an_index(tmp_path: Path, start: str) -> None:
    """Newest first, then by id: 10,000 rows are not sorted in a temporary B-tree first."""
    path = tmp_path / "inventory.sqlite3"
    if start == "version 1":
        db = sqlite3.connect(path)
        for statement in V1_FILE:
            db.execute(statement.format(fp=ME.key_fingerprint))
        db.commit()
        db.close()
    statements: list[str] = []
    with Inventory.open(path) as inv:
        inv.record_many(ME, "room", [room("bbbbbb", "b", 2), room("cccccc", "c", 2)])
        inv._db.set_trace_callback(statements.append)
        listed = ids(inv.list_records(ME, "room"))
        [query] = [sql for sql in statements if sql.lstrip().startswith("SELECT")]
        plan = [row[3] for row in inv._db.execute(f"EXPLAIN QUERY PLAN {query}")]
    assert listed[:2] == ["bbbbbb", "cccccc"]  # same day: by id
    assert any("USING INDEX records_newest_first" in step for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan
