"""`vcctl version`: versions, platform and paths for a bug report, never a secret."""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path

from tests.helpers import API_KEY, API_TOKEN, clean_environment, run_vcctl
from vcctl import __version__


def test_version_names_what_a_bug_report_needs_and_no_secret(tmp_path: Path) -> None:
    env = clean_environment(tmp_path) | {"VCCTL_API_KEY": API_KEY, "VCCTL_API_TOKEN": API_TOKEN}
    result = run_vcctl(["version"], env)
    assert (result.code, result.stderr) == (0, ""), result
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert lines["vcctl"] == __version__
    assert lines["python"].startswith(platform.python_version())
    assert lines["typer"] == metadata.version("typer")
    assert lines["requests"] == metadata.version("requests")
    assert lines["platform"] == platform.platform()
    assert lines["config_file"] == str(tmp_path / "config" / "config.toml")
    assert lines["inventory"] == str(tmp_path / "data" / "inventory.sqlite3")
    assert API_KEY[-4:] not in result.stdout
    assert API_TOKEN[-4:] not in result.stdout

    as_json = run_vcctl(["version", "--json"], env | {"VCCTL_INVENTORY": "off"})
    assert as_json.code == 0, as_json
    facts = json.loads(as_json.stdout)
    assert facts["vcctl"] == __version__
    assert facts["inventory"].endswith("inventory.sqlite3 (off: VCCTL_INVENTORY)")
