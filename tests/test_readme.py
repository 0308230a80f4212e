"""The README's shell examples run as written, in order, inside `vcctl emulator exec`.

Every ```sh block runs, except where an HTML comment just before it says otherwise:
`<!-- not run: reason -->` skips the whole block; when the reason names commands in backticks
(`<!-- not run: `vcctl auth login` (asks) -->`), only the lines starting with them are skipped.
The blocks run as one bash script (set -euo pipefail), so a variable set in the tour is there
for the scripting examples, as it would be for a reader following along. HOME is a fresh folder,
so the completion install lines are then checked in real shells reading that HOME.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import clean_environment
from vcctl.docgen.tree import Tree, load_tree

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.S | re.M)
NOT_RUN = re.compile(r"<!-- not run: (.*?) -->\s*\Z", re.S)
BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")


@dataclass(frozen=True)
class Line:
    number: int  # in README.md
    text: str


def runnable_lines(readme: str) -> tuple[list[Line], list[str]]:
    """The lines of the ```sh blocks the runner runs, and the skipped blocks' first lines."""
    lines: list[Line] = []
    skipped: list[str] = []
    for match in BLOCK.finditer(readme):
        before = readme[: match.start()].rstrip("\n")
        marker = NOT_RUN.search(before.rsplit("\n", 1)[-1] + "\n")
        skip_prefixes: list[str] = []
        if marker:
            skip_prefixes = re.findall(r"`([^`]+)`", marker.group(1))
            if not skip_prefixes:
                skipped.append(match.group(1).split("\n", 1)[0])
                continue
        first = readme.count("\n", 0, match.start(1)) + 1
        for offset, text in enumerate(match.group(1).rstrip("\n").split("\n")):
            if any(text.startswith(prefix) for prefix in skip_prefixes):
                continue
            lines.append(Line(first + offset, text))
    return lines, skipped


def bash_script(lines: list[Line]) -> str:
    """One script; a failing line names its README line number on stderr."""
    parts = [
        "set -euo pipefail",
        "readme_line=0; trap 'echo \"README.md line $readme_line failed\" >&2' ERR",
    ]
    continued = False
    for line in lines:
        if not continued:
            parts.append(f"readme_line={line.number}")
        parts.append(line.text)
        continued = line.text.rstrip().endswith(("\\", "|"))
    return "\n".join(parts) + "\n"


def test_the_runner_reads_markers_and_line_numbers() -> None:
    readme = (
        "text\n\n```sh\necho one\n```\n\n<!-- not run: illustrative -->\n```sh\nexit 1\n```\n"
        "<!-- not run: `vcctl auth login` (asks) -->\n```sh\nvcctl auth login\necho two \\\n"
        "  three\n```\n```console\n$ not sh\n```\n"
    )
    lines, skipped = runnable_lines(readme)
    assert lines == [Line(4, "echo one"), Line(14, "echo two \\"), Line(15, "  three")]
    assert skipped == ["exit 1"]
    script = bash_script(lines)
    assert "readme_line=14\necho two \\\n  three\n" in script
    assert "readme_line=15" not in script


@pytest.fixture(scope="module")
def readme_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Runs the README's examples; the HOME they ran in, for the completion checks."""
    if shutil.which("jq") is None:
        if os.environ.get("CI"):
            pytest.fail("jq is not installed, and CI must run the README (install it in .ci/run)")
        pytest.skip("jq is not installed")
    tmp_path = tmp_path_factory.mktemp("readme")
    lines, skipped = runnable_lines(README.read_text(encoding="utf-8"))
    assert len(lines) > 15, lines  # the runner still finds the examples
    assert len(skipped) < 8, skipped
    (tmp_path / "home").mkdir()
    work = tmp_path / "work"
    work.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "vcctl"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m vcctl "$@"\n')
    shim.chmod(0o755)
    script = work / "readme.sh"
    script.write_text(bash_script(lines), encoding="utf-8")
    env = clean_environment(tmp_path)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "BASH_COMPLETION_USER_DIR"):
        env.pop(name, None)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    completed = subprocess.run(
        [str(shim), "emulator", "exec", "--", "bash", str(script)],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, (completed.stdout, completed.stderr)
    assert "README.md line" not in completed.stderr
    return tmp_path / "home"


def test_the_readme_examples_run_as_written(readme_home: Path) -> None:
    # What the examples left behind: the completion scripts, where a user's shell looks.
    assert (readme_home / ".local/share/bash-completion/completions/vcctl").read_text().strip()
    assert (readme_home / ".zfunc/_vcctl").read_text().startswith("#compdef vcctl")
    assert (readme_home / ".config/fish/completions/vcctl.fish").read_text().strip()


def _shell(command: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    # vcctl on PATH, as after the README's setup (fish completes only commands it can find).
    path = f"{home.parent / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {"HOME": str(home), "PATH": path, "TERM": "dumb"}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_bash_loads_the_readme_completion_install_for_a_user(readme_home: Path) -> None:
    if not BASH_COMPLETION.exists():
        pytest.skip("bash-completion is not installed")
    completed = _shell(
        [
            "bash",
            "--norc",
            "-c",
            f"source {BASH_COMPLETION}; __load_completion vcctl; complete -p vcctl",
        ],
        readme_home,
    )
    assert completed.returncode == 0, completed
    assert completed.stdout.strip().endswith(" vcctl"), completed
    assert "-F _vcctl" in completed.stdout, completed


def test_zsh_loads_the_readme_completion_install_for_a_user(readme_home: Path) -> None:
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed")
    # The README's ~/.zshrc line, before compinit.
    zshrc = "fpath=(~/.zfunc $fpath)\nautoload -Uz compinit && compinit -u -D\n"
    (readme_home / ".zshrc").write_text(zshrc)
    completed = _shell(["zsh", "-i", "-c", "print -r -- $_comps[vcctl]"], readme_home)
    assert completed.stdout.strip() == "_vcctl", completed


def test_fish_loads_the_readme_completion_install_for_a_user(readme_home: Path) -> None:
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed")
    completed = _shell(["fish", "-c", "complete -C 'vcctl emul'"], readme_home)
    assert completed.stdout.split("\t")[0] == "emulator", completed


# -- the commands block: every command and option in it exists, every command is in it ----------

COMMANDS_BLOCK = re.compile(r"The commands:\n\n```\n(.*?)^```$", re.S | re.M)


def synopsis_uses(tree: Tree, block: str) -> dict[tuple[str, ...], set[str]]:
    """Command path -> the options its synopses in the block use. ValueError for a command or an
    option vcctl lacks. A synopsis starts at `vcctl`; `a | b` after a group names sibling
    commands (`vcctl auth login | status`), `--[no-]x` both spellings."""
    uses: dict[tuple[str, ...], set[str]] = {}
    for line in block.splitlines():
        for synopsis in re.split(r"\s+(?=vcctl )", line.strip()):
            if not synopsis.startswith("vcctl "):
                raise ValueError(f"not a synopsis: {synopsis!r} in {line!r}")
            _synopsis(tree, synopsis, uses)
    return uses


def _synopsis(tree: Tree, synopsis: str, uses: dict[tuple[str, ...], set[str]]) -> None:
    text = re.sub(r"--\[no-\]([\w-]+)", r"--\1 --no-\1", synopsis)
    words = text.replace("[", " ").replace("]", " ").replace("|", " | ").split()[1:]
    command = tree.root
    for position, word in enumerate(words):
        if word == "--":  # the command line emulator exec runs
            break
        previous = words[position - 1] if position else ""
        parent = tree.find(command.path[:-1]) if command.path else None
        sub = tree.find((*command.path, word)) if command.is_group else None
        if sub is not None:
            command = sub
        elif previous == "|" and parent is not None and tree.find((*parent.path, word)):
            command = tree.find((*parent.path, word)) or command  # a sibling command
        elif word.startswith("-") and word != "-":
            known = {name for option in tree.options_at(command) for name in option.all_names}
            if word not in known:
                raise ValueError(f"{command.full_name} has no option {word}: {synopsis}")
            uses.setdefault(command.path, set()).add(word)
            continue
        elif command.is_group and not word.isupper():
            raise ValueError(f"{command.full_name} has no command {word}: {synopsis}")
        else:
            continue
        if not command.is_group:
            uses.setdefault(command.path, set())


def commands_block() -> str:
    found = COMMANDS_BLOCK.search(README.read_text(encoding="utf-8"))
    assert found, "the README's commands block (after 'The commands:') is gone"
    return found.group(1)


def test_the_commands_block_names_only_commands_and_options_that_exist() -> None:
    tree = load_tree()
    uses = synopsis_uses(tree, commands_block())
    assert uses[("participants", "list")] >= {"--room"}
    for wrong in ("vcctl rooms frobnicate ID", "vcctl rooms get ID --colour X"):
        with pytest.raises(ValueError, match="has no"):
            synopsis_uses(tree, wrong)
    assert set(synopsis_uses(tree, "vcctl auth login | status | switch NAME")) == {
        ("auth", "login"),
        ("auth", "status"),
        ("auth", "switch"),
    }


def test_every_command_of_the_cli_is_in_the_commands_block() -> None:
    tree = load_tree()
    listed = set(synopsis_uses(tree, commands_block()))
    commands = {c.path for c in tree.root.walk() if not c.is_group and not c.hidden}
    assert sorted(commands - listed) == []
