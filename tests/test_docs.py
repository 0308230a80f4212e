"""The docs package: examples in --help, the environment list against the README, the bash
template linted by shellcheck, and `vcctl completion` loading only what its shell needs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from importlib.resources import files as package_files
from pathlib import Path

import pytest

from tests.helpers import clean_environment, run_in_process
from vcctl.cli.examples import Example, examples, parse_examples
from vcctl.config.environment import ENVIRONMENT
from vcctl.docgen import tree as model

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def require(tool: str) -> str:
    """The tool's path; skip without it, except in CI (CI=true), which must have it."""
    found = shutil.which(tool)
    if found is None:
        message = f"{tool} is not installed"
        if os.environ.get("CI"):
            pytest.fail(f"{message}, and CI must run this test (install it in .ci/run)")
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def tree() -> model.Tree:
    return model.load_tree()


def test_every_command_declares_one_or_two_examples(tree: model.Tree) -> None:
    leaves = [c for c in tree.root.walk() if c.path and not c.is_group and not c.hidden]
    assert len(leaves) > 20
    for command in leaves:
        assert 1 <= len(command.examples) <= 2, command.full_name
    assert len(tree.root.examples) > 5  # vcctl --help: the tour


def test_help_of_every_command_shows_its_examples(tree: model.Tree, tmp_path: Path) -> None:
    env = clean_environment(tmp_path) | {"COLUMNS": "200"}
    for command in tree.root.walk():
        if command.hidden or (command.is_group and command.path):
            continue
        result = run_in_process([*command.path, "--help"], env)
        assert result.code == 0, (command.full_name, result)
        assert "Examples:" in result.stdout, command.full_name
        shown = [line.strip(" │") for line in result.stdout.splitlines()]
        for example in command.examples:
            assert example.description in shown, (command.full_name, example)
            for line in example.lines:
                assert line.strip() in shown, (command.full_name, line)


def test_examples_round_trip_through_the_epilog() -> None:
    epilog = examples(("Do it:", "vcctl rooms get abc123", "vcctl rooms get def456 --json"))
    assert parse_examples(epilog) == (
        Example("Do it:", ("vcctl rooms get abc123", "vcctl rooms get def456 --json")),
    )
    assert parse_examples("Some other epilog.") == ()
    with pytest.raises(ValueError, match="ending in ':'"):
        examples(("No colon", "vcctl rooms get abc123"))
    with pytest.raises(ValueError, match="rich markup"):
        examples(("Bold:", "echo [bold]x[/bold]"))


def _readme_settings_rows() -> dict[str, str]:
    """Environment variable -> the flag column of its row, from the README's settings table."""
    table = README.read_text(encoding="utf-8").split("### Where each setting comes from", 1)[1]
    rows: dict[str, str] = {}
    for line in table.split("\n\n|", 1)[1].split("\n\n", 1)[0].splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        for name in re.findall(r"`([A-Z_]+)", cells[2]):
            rows[name] = cells[1]
    return rows


def test_the_readme_settings_table_lists_every_environment_variable() -> None:
    rows = _readme_settings_rows()
    assert set(rows) == {variable.name for variable in ENVIRONMENT}
    for variable in ENVIRONMENT:
        flag = rows[variable.name]
        if variable.flag is None:
            assert flag == "—", variable.name
        else:
            assert flag.startswith(f"`{variable.flag}"), variable.name


def test_shellcheck_finds_nothing_in_the_bash_template_and_script() -> None:
    template = package_files("vcctl.docgen").joinpath("templates", "vcctl.bash")
    completed = subprocess.run(
        [require("shellcheck"), str(template), str(ROOT / "completions" / "vcctl.bash")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (completed.returncode, completed.stdout, completed.stderr) == (0, "", "")


def test_completion_loads_only_the_renderer_of_its_shell(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from vcctl.cli.main import main\n"
        "try:\n"
        "    main(['completion', 'zsh'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(name for name in sys.modules if name.startswith('vcctl.docgen'))\n"
        "sys.stderr.write(' '.join(loaded))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe],
        env=clean_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("#compdef vcctl")
    loaded = set(completed.stderr.split())
    assert {"vcctl.docgen.zsh", "vcctl.docgen.tree", "vcctl.docgen.shell"} <= loaded
    assert not loaded & {
        "vcctl.docgen.man",
        "vcctl.docgen.bash",
        "vcctl.docgen.fish",
        "vcctl.docgen.files",
    }
