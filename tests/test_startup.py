"""Start-up cost is paid on every TAB and every loop iteration: a run loads what it uses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import clean_environment

PROBE = """
import contextlib, io, json, sys
sys.argv = ["vcctl", *json.loads(sys.argv[1])]
from vcctl.cli.main import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        main()
    except SystemExit:
        pass
print(json.dumps(sorted(sys.modules)))
"""


def loaded_modules(args: list[str], tmp_path: Path) -> set[str]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        env=clean_environment(tmp_path),
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(completed.stdout))


def test_a_group_command_builds_only_its_group(tmp_path: Path) -> None:
    modules = loaded_modules(["rooms", "update", "--help"], tmp_path)
    assert "vcctl.cli.commands.rooms" in modules
    others = {"auth", "participants", "events", "emulator", "api_call", "completion"}
    assert not {f"vcctl.cli.commands.{name}" for name in others} & modules
    assert "requests" not in modules


def test_the_root_help_lists_every_group(tmp_path: Path) -> None:
    modules = loaded_modules(["--help"], tmp_path)
    assert {"vcctl.cli.commands.auth", "vcctl.cli.commands.emulator"} <= modules
    assert "requests" not in modules
