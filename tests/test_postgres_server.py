"""The suite's own PostgreSQL server: it starts, serves fresh databases, survives a kill."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.postgres_server import PostgresServer


def test_each_test_gets_an_empty_database_of_its_own(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    assert postgres_server.psql("SELECT current_database()", database).strip() == database
    tables = postgres_server.psql(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", database
    )
    assert tables.strip() == "0"
    assert postgres_server.new_database() != database


def test_the_server_does_not_run_as_root(postgres_server: PostgresServer) -> None:
    assert postgres_server.process is not None
    owner = os.stat(f"/proc/{postgres_server.process.pid}").st_uid
    assert owner != 0


def test_a_killed_server_comes_back_with_its_data() -> None:
    with PostgresServer() as server:
        server.psql("CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)")
        server.kill()
        with pytest.raises(subprocess.CalledProcessError):
            server.psql("SELECT 1")
        server.start()
        assert server.psql("SELECT n FROM kept").strip() == "7"
