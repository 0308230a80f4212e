"""Shared fixtures: a real emulator on 127.0.0.1 and the real `vcctl` run as a user runs it."""

from __future__ import annotations

import signal
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.helpers import API_KEY, API_TOKEN, Result, Runner, clean_environment, run_vcctl
from tests.postgres_server import PostgresServer, find_bin_dir
from vcctl.emulator.server import Emulator, EmulatorConfig


def pytest_configure(config: pytest.Config) -> None:
    _children_start_with_ctrl_c_at_its_default()


def _children_start_with_ctrl_c_at_its_default() -> None:
    """The tests that send Ctrl-C to a vcctl play a user at a terminal, whose shell starts the
    command with SIGINT at its default. A test run started in the background of a script
    (`pytest &`, or any `&` in a shell without job control) has SIGINT ignored, and so would
    every child it starts: vcctl keeps an inherited SIG_IGN, as Python does (that is what
    `nohup` and `&` ask for; tests/test_stop_signals.py checks it), so each Ctrl-C test saw a
    child that ignored its signal and finished its work. A handler, unlike SIG_IGN, is not
    inherited across exec: the children start at the default."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


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
