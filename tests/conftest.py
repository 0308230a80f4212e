"""Shared fixtures: a real emulator on 127.0.0.1 and the real `vcctl` run as a user runs it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.helpers import API_KEY, API_TOKEN, Result, Runner, clean_environment, run_vcctl
from tests.postgres_server import PostgresServer, find_bin_dir
from vcctl.emulator.server import Emulator, EmulatorConfig


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(api_key=API_KEY, api_token=API_TOKEN)) as server:
        yield server


@pytest.fixture
def env(tmp_path: Path, emulator: Emulator) -> dict[str, str]:
    """Environment for a CI-style user: credentials and base URL in VCCTL_* variables."""
    environment = clean_environment(tmp_path)
    environment.update(
        VCCTL_BASE_URL=emulator.base_url, VCCTL_API_KEY=API_KEY, VCCTL_API_TOKEN=API_TOKEN
    )
    return environment


@pytest.fixture
def vcctl(env: dict[str, str]) -> Runner:
    """`vcctl(*args, input=None, env=None)` -> Result, against the `emulator` fixture."""

    def run(*args: str, input: str | None = None, env: Mapping[str, str] | None = None) -> Result:
        return run_vcctl(args, env if env is not None else _env, input=input)

    _env = env
    return run


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL server per test process (see tests/postgres_server.py)."""
    if find_bin_dir() is None:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    with PostgresServer() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A libpq URL of a fresh, empty database on the test process's server."""
    return postgres_server.url(postgres_server.new_database())


@pytest.fixture(params=["sqlite", "postgres"])
def store_place(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's inventory lives, once per backend: an SQLite file's path (not created
    yet), then the URL of a fresh PostgreSQL database (tests/stores.py opens either)."""
    if request.param == "sqlite":
        return str(tmp_path / "data" / "inventory.sqlite3")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.url(server.new_database())
