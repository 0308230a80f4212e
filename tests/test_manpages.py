"""The man pages: current with the command tree, clean for mandoc, rendered by man, complete."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from vcctl import docgen, errors
from vcctl.cli.examples import Example
from vcctl.docgen import files
from vcctl.docgen import tree as model
from vcctl.docgen.__main__ import main as generate

ROOT = Path(__file__).resolve().parent.parent
MAN = ROOT / "man"
README = ROOT / "README.md"
ROOM_PAGES = [f"vcctl-rooms-{verb}.1" for verb in ("create", "get", "update", "delete", "watch")]


def require(tool: str) -> str:
    """The tool's path; skip without it, except in CI (CI=true), which must have it."""
    found = shutil.which(tool)
    if found is None:
        message = f"{tool} is not installed"
        if os.environ.get("CI"):
            pytest.fail(f"{message}, and CI must run this test (install it in .ci/run)")
        pytest.skip(message)
    return found


def committed_pages() -> list[Path]:
    return sorted(MAN.glob("*.1"))


@pytest.fixture(scope="module")
def tree() -> model.Tree:
    return model.load_tree()


@pytest.fixture(scope="module")
def rendered_main_page() -> dict[str, str]:
    """`man -l man/vcctl.1` as a person reads it: section title -> its text."""
    completed = subprocess.run(
        [require("man"), "-l", str(MAN / "vcctl.1")],
        env={
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(ROOT),
            "LANG": "C.UTF-8",
            "MANPAGER": "cat",
            "PAGER": "cat",
            "MANWIDTH": "100",
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (completed.returncode, completed.stderr) == (0, ""), completed
    text = re.sub(r".\x08", "", completed.stdout)  # overstrike bold, if any
    sections: dict[str, str] = {}
    title = ""
    for line in text.splitlines()[1:]:
        if re.match(r"^[A-Z][A-Z ]+$", line):
            title = line
            sections[title] = ""
        elif title:
            sections[title] += line + "\n"
    return sections


def test_committed_man_pages_are_current(tmp_path: Path) -> None:
    files.write(tmp_path, files.generated_files())
    expected = {path.name: path.read_bytes() for path in (tmp_path / "man").glob("*.1")}
    committed = {path.name: path.read_bytes() for path in committed_pages()}
    stale = sorted(
        name
        for name in expected.keys() | committed.keys()
        if expected.get(name) != committed.get(name)
    )
    assert not stale, (
        f"out of date with the command tree: man/{', man/'.join(stale)}; "
        f"run `{docgen.REGENERATE_COMMAND}` and commit the result"
    )


def test_mandoc_lint_finds_no_warning_or_error() -> None:
    pages = committed_pages()
    completed = subprocess.run(
        [require("mandoc"), "-Tlint", "-W", "warning", *map(str, pages)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (completed.returncode, completed.stdout, completed.stderr) == (0, "", "")
    assert len(pages) > 20


def test_man_renders_the_main_page_with_every_section(rendered_main_page: dict[str, str]) -> None:
    for title in (
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "COMMANDS",
        "OPTIONS",
        "GLOBAL OPTIONS",
        "EXIT STATUS",
        "ENVIRONMENT",
        "FILES",
        "EXAMPLES",
        "SEE ALSO",
    ):
        assert rendered_main_page.get(title, "").strip(), f"no {title} section"
    assert rendered_main_page["NAME"].split()[:2] == ["vcctl", "-"]
    for group in ("rooms", "participants", "events", "auth", "emulator"):
        assert f"vcctl {group} " in rendered_main_page["COMMANDS"]
    for command in ("vcctl api", "vcctl completion", "vcctl rooms create"):
        assert re.search(rf"^\s+{command}$", rendered_main_page["COMMANDS"], re.M), command


def test_exit_status_lists_every_exit_code(rendered_main_page: dict[str, str]) -> None:
    listed = re.findall(r"^\s{7}(\d+)\s", rendered_main_page["EXIT STATUS"], re.M)
    codes = {value for name, value in vars(errors).items() if name.startswith("EXIT_")}
    assert sorted(map(int, listed)) == sorted(codes)
    assert re.search(r"^\s+4\s+The API answered 401", rendered_main_page["EXIT STATUS"], re.M)


def test_exit_status_follows_the_readme_table(rendered_main_page: dict[str, str]) -> None:
    section = README.read_text(encoding="utf-8").split("### Exit codes", 1)[1]
    contract_codes = re.findall(r"^\| (\d+) \|", section.split("\n## ", 1)[0], re.M)
    listed = re.findall(r"^\s{7}(\d+)\s", rendered_main_page["EXIT STATUS"], re.M)
    assert contract_codes
    assert listed == contract_codes


def _variables_the_code_reads() -> set[str]:
    names: set[str] = set()
    for source in (ROOT / "vcctl").rglob("*.py"):
        if source.name != "environment.py":  # the list itself
            names |= set(
                re.findall(r"\b(VCCTL_[A-Z_]+[A-Z]|NO_COLOR)\b", source.read_text(encoding="utf-8"))
            )
    return names


def test_environment_lists_every_variable(rendered_main_page: dict[str, str]) -> None:
    listed = set(re.findall(r"^\s{7}([A-Z_]+)$", rendered_main_page["ENVIRONMENT"], re.M))
    read = _variables_the_code_reads()
    assert {"VCCTL_API_KEY", "VCCTL_CONFIG_DIR", "NO_COLOR"} <= read
    assert read <= listed, f"undocumented: {sorted(read - listed)}"
    readme = README.read_text(encoding="utf-8")
    assert set(re.findall(r"`(VCCTL_[A-Z_]+)", readme)) <= listed


def test_files_section_names_the_config_file(rendered_main_page: dict[str, str]) -> None:
    files = rendered_main_page["FILES"]
    assert "$VCCTL_CONFIG_DIR/config.toml" in files
    assert "${XDG_CONFIG_HOME:-~/.config}/vcctl/config.toml" in files


def test_every_visible_command_has_a_page(tree: model.Tree) -> None:
    names = {path.name for path in committed_pages()}
    assert {"vcctl.1", "vcctl-rooms.1", *ROOM_PAGES, "vcctl-completion.1", "vcctl-api.1"} <= names
    for command in tree.root.walk():
        if command.path and not command.hidden:
            assert f"{command.page_name}.1" in names
    assert "vcctl-events-desactivate-video-and-audio.1" not in names  # a hidden alias


def test_command_pages_document_every_option_and_argument(tree: model.Tree) -> None:
    for command in tree.root.walk():
        if not command.path or command.hidden:
            continue
        page = (MAN / f"{command.page_name}.1").read_text(encoding="utf-8")
        assert f"vcctl {' '.join(command.path)}".replace("-", "\\-") in page
        for option in tree.options_at(command):
            for name in option.all_names:
                assert f"\\fB{name.replace('-', chr(92) + '-')}\\fR" in page, (command.path, name)
        for argument in command.arguments:
            assert argument.metavar.replace("-", "\\-") in page


def test_stable_facts_of_the_pages() -> None:
    rooms_get = (MAN / "vcctl-rooms-get.1").read_text(encoding="utf-8")
    assert "\\fB\\-\\-json\\fR" in rooms_get
    completion = (MAN / "vcctl-completion.1").read_text(encoding="utf-8")
    assert all(shell in completion for shell in ("bash", "zsh", "fish"))
    events = (MAN / "vcctl-events.1").read_text(encoding="utf-8")
    for event in ("activate", "deactivate"):
        assert f"vcctl events {event}\\-video\\-and\\-audio" in events
    assert "vcctl events mute\\-all" in events


def test_examples_run_commands_and_options_that_exist(tree: model.Tree) -> None:
    paths = {
        found.path
        for command in tree.root.walk()
        for example in command.examples
        for found in model.example_commands(tree, example)
    }
    assert ("rooms", "create") in paths
    files.check_examples(tree)  # and each command's examples run that command


def test_an_example_with_an_unknown_option_is_refused(tree: model.Tree) -> None:
    with pytest.raises(ValueError, match="unknown option --colour"):
        model.example_commands(tree, Example("Red:", ("vcctl rooms create --colour red",)))


def test_check_mode_fails_on_a_stale_file_and_says_how_to_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generated = files.generated_files()
    files.write(tmp_path, generated)
    assert files.differences(tmp_path, generated) == []
    (tmp_path / "man" / "vcctl-rooms-get.1").write_text("stale\n", encoding="utf-8")
    (tmp_path / "man" / "vcctl-rooms-gone.1").write_text("old\n", encoding="utf-8")
    capsys.readouterr()
    assert generate(["--check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "out of date: man/vcctl-rooms-get.1" in err
    assert "no longer generated: man/vcctl-rooms-gone.1" in err
    assert f"run `{docgen.REGENERATE_COMMAND}`" in err
    assert generate([str(tmp_path)]) == 0  # regenerating fixes both
    assert not (tmp_path / "man" / "vcctl-rooms-gone.1").exists()
    assert files.differences(tmp_path, generated) == []
