"""What the last apply set, kept on the inventory's key rows (both backends), and the schema step
that added it to files and databases made before."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.postgres_server import PostgresServer
from tests.stores import open_place
from vcctl.inventory import claims
from vcctl.inventory.claims import Claim, KeyRef
from vcctl.inventory.records import account_for
from vcctl.inventory.store import SCHEMA_VERSION, Inventory
from vcctl.inventory.store.postgres import SCHEMA_VERSION as PG_VERSION

ME = account_for("http://127.0.0.1:8000", "key-of-me-0000000001")
BOARD = KeyRef(ME, "room", "stack:ci", "board")


@pytest.fixture
def inv(store_place: str) -> Any:
    with open_place(store_place) as opened:
        yield opened


def create(inv: Inventory, ref: KeyRef, id: str) -> None:
    held = claims.claim(inv, ref)
    assert isinstance(held, Claim)
    held.created({"id": id, "name": "Board", "created_at": "2024-05-01T10:00:00Z"})


def applied_of(inv: Inventory, ref: KeyRef) -> Any:
    return inv.list_applied(ref.account, [ref.scope]).get((ref.kind, ref.scope, ref.key))


def test_a_created_key_keeps_what_apply_set_until_it_names_another_resource(
    inv: Inventory,
) -> None:
    create(inv, BOARD, "aaaaaa")
    assert applied_of(inv, BOARD) is None
    fields = {"name": "Board", "color": "#1e90ff", "é": "ü"}
    assert inv.set_applied([(BOARD, "aaaaaa", fields)]) == 1
    assert applied_of(inv, BOARD) == fields
    assert inv.list_applied(ME, ["stack:other", ""]) == {}  # by scope
    # Only for the id the key names: a key created again meanwhile is another resource.
    assert inv.set_applied([(BOARD, "zzzzzz", {"name": "Other"})]) == 0
    assert applied_of(inv, BOARD) == fields
    # Created again (its room gone): no past.
    inv.mark_gone(ME, "room", "aaaaaa")
    create(inv, BOARD, "bbbbbb")
    assert applied_of(inv, BOARD) is None


def test_what_apply_set_is_not_part_of_a_rows_compare_and_set(inv: Inventory) -> None:
    create(inv, BOARD, "aaaaaa")
    before = inv.read_key(BOARD)
    inv.set_applied([(BOARD, "aaaaaa", {"name": "Board"})])
    assert before is not None
    # A release of the row as read before still matches it.
    assert claims.release(inv, BOARD, expected=before)
    assert inv.read_key(BOARD) is None


def test_a_version_4_file_gains_the_column_and_keeps_its_keys(tmp_path: Path) -> None:
    path = tmp_path / "inventory.sqlite3"
    with Inventory.open(path) as inv:
        create(inv, BOARD, "aaaaaa")
    with sqlite3.connect(path) as db:  # the file as the vcctl before this step left it
        db.execute("ALTER TABLE keys DROP COLUMN applied")
        db.execute("PRAGMA user_version = 4")
    with Inventory.open(path) as inv:
        row = inv.read_key(BOARD)
        assert row is not None
        assert (row.state, row.id, applied_of(inv, BOARD)) == ("created", "aaaaaa", None)
        assert inv.set_applied([(BOARD, "aaaaaa", {"name": "Board"})]) == 1
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_version_2_database_gains_the_column_and_keeps_its_keys(
    postgres_server: PostgresServer,
) -> None:
    database = postgres_server.new_database()
    url = postgres_server.url(database)
    with open_place(url) as inv:
        create(inv, BOARD, "aaaaaa")
    postgres_server.psql(
        "ALTER TABLE vcctl.keys DROP COLUMN applied; UPDATE vcctl.meta SET version = 2", database
    )
    with open_place(url) as inv:
        row = inv.read_key(BOARD)
        assert row is not None
        assert (row.state, row.id, applied_of(inv, BOARD)) == ("created", "aaaaaa", None)
        assert inv.set_applied([(BOARD, "aaaaaa", {"name": "Board"})]) == 1
        assert applied_of(inv, BOARD) == {"name": "Board"}
    assert postgres_server.psql("SELECT version FROM vcctl.meta", database) == f"{PG_VERSION}\n"


def test_inventory_migrate_copies_what_apply_set(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    with Inventory.open(tmp_path / "inventory.sqlite3") as local:
        create(local, BOARD, "aaaaaa")
        local.set_applied([(BOARD, "aaaaaa", {"name": "Board"})])
        dump = local.dump()
    with open_place(postgres_server.url(postgres_server.new_database())) as shared:
        assert shared.load(dump).keys == 1
        assert applied_of(shared, BOARD) == {"name": "Board"}
