"""Edges of the input: vcctl started with standard input closed, and --interval values that are
numbers only in name (nan, inf, 1e308). Each is refused up front with exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.helpers import Result, Runner, assert_refused, seed_room
from vcctl.emulator.server import Emulator


def run_with_stdin_closed(args: list[str], env: Mapping[str, str]) -> Result:
    """The real CLI started as `vcctl ... <&-`: file descriptor 0 closed in the child."""
    completed = subprocess.run(
        [sys.executable, "-m", "vcctl", *args],
        preexec_fn=lambda: os.close(0),
        stdin=None,
        capture_output=True,
        text=True,
        env=dict(env),
        timeout=60,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def test_delete_with_stdin_closed_is_the_documented_refusal(
    env: dict[str, str], emulator: Emulator
) -> None:
    room = seed_room(emulator)
    result = run_with_stdin_closed(["rooms", "delete", room["id"]], env)
    assert_refused(result, "refusing to delete without confirmation")
    assert emulator.recorded() == []


@pytest.mark.parametrize(
    "args",
    [
        ["auth", "login"],
        ["rooms", "create", "--from-file", "-"],
        ["participants", "create", "--from-file", "-", "--room", "abc123"],
        ["api", "POST", "/fr/api/v1/rooms", "--input", "-"],
    ],
)
def test_reading_a_closed_stdin_is_a_clear_error(
    env: dict[str, str], emulator: Emulator, tmp_path: Path, args: list[str]
) -> None:
    result = run_with_stdin_closed(args, env)
    assert_refused(result, "standard input is closed: nothing to read")
    assert emulator.recorded() == []
    assert not (tmp_path / "config" / "config.toml").exists()


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e308", "3601"])
def test_watch_refuses_an_interval_that_is_not_a_usable_number_before_any_request(
    vcctl: Runner, emulator: Emulator, value: str
) -> None:
    room = seed_room(emulator)
    result = vcctl("rooms", "watch", room["id"], "--interval", value)
    assert_refused(result, "--interval")
    assert emulator.recorded() == []
