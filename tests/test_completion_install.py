"""`vcctl completion --install SHELL` in a fresh HOME made from Debian's skeleton files (or with
none): the script lands where that shell looks, and a real shell started in that HOME, plus the
one line vcctl said to add when it said so, completes vcctl."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import clean_environment, run_vcctl

SKELETON = Path("/etc/skel")
BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")


def _require(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is not installed, and CI must run this test (install it)")
        pytest.skip(f"{tool} is not installed")


def _home(tmp_path: Path, *, skeleton: bool) -> tuple[Path, dict[str, str]]:
    home = tmp_path / "home"
    if skeleton and SKELETON.is_dir():
        shutil.copytree(SKELETON, home, symlinks=True)
    else:
        home.mkdir()
    env = clean_environment(tmp_path)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "BASH_COMPLETION_USER_DIR", "ZDOTDIR"):
        env.pop(name, None)
    env["HOME"] = str(home)
    return home, env


def _install(shell: str, env: dict[str, str]) -> list[str]:
    result = run_vcctl(["completion", "--install", shell], env)
    assert (result.code, result.stderr) == (0, ""), result
    return result.stdout.splitlines()


def _shell(home: Path, command: list[str]) -> str:
    # vcctl itself need not be on PATH for bash and zsh: the scripts are static.
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", os.defpath), "TERM": "dumb"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    return done.stdout


def _added(home: Path, lines: list[str], rc: str) -> None:
    """Follow vcctl's advice: the indented line after 'add this line to ~/RC'."""
    [advice] = [n for n, line in enumerate(lines) if f"add this line to ~/{rc}" in line]
    with (home / rc).open("a") as file:
        file.write(lines[advice + 1].strip() + "\n")


def test_bash_with_debians_skeleton_loads_it_with_nothing_to_add(tmp_path: Path) -> None:
    _require("bash")
    if not BASH_COMPLETION.exists():
        pytest.skip("bash-completion is not installed")
    home, env = _home(tmp_path, skeleton=True)
    lines = _install("bash", env)
    path = home / ".local/share/bash-completion/completions/vcctl"
    assert lines[0] == f"vcctl: wrote the bash completion script to {path}"
    assert not any("add this line" in line for line in lines), lines
    # bash-completion loads a command's completion on its first TAB: __load_completion is that.
    shown = _shell(home, ["bash", "-i", "-c", "__load_completion vcctl; complete -p vcctl"])
    assert "-F _vcctl vcctl" in shown


def test_bash_in_a_bare_home_is_told_the_line_to_add(tmp_path: Path) -> None:
    _require("bash")
    home, env = _home(tmp_path, skeleton=False)
    lines = _install("bash", env)
    assert any("bash will not load it by itself" in line for line in lines), lines
    assert _shell(home, ["bash", "-i", "-c", "complete -p vcctl"]).strip() == ""
    _added(home, lines, ".bashrc")
    assert "-F _vcctl vcctl" in _shell(home, ["bash", "-i", "-c", "complete -p vcctl"])


def test_zsh_is_told_the_fpath_line_and_then_completes(tmp_path: Path) -> None:
    _require("zsh")
    home, env = _home(tmp_path, skeleton=True)
    lines = _install("zsh", env)
    assert (home / ".zfunc/_vcctl").read_text().startswith("#compdef vcctl")
    _added(home, lines, ".zshrc")
    assert _shell(home, ["zsh", "-i", "-c", "print -r -- $_comps[vcctl]"]).strip() == "_vcctl"
    again = _install("zsh", env)
    assert not any("add this line" in line for line in again), again


def test_fish_loads_it_with_nothing_to_add(tmp_path: Path) -> None:
    _require("fish")
    home, env = _home(tmp_path, skeleton=True)
    lines = _install("fish", env)
    assert not any("add this line" in line for line in lines), lines
    assert (home / ".config/fish/completions/vcctl.fish").read_text().strip()
    # fish completes only commands it can find: the README's vcctl on PATH.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "vcctl").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "vcctl").chmod(0o755)
    env_path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    done = subprocess.run(
        ["fish", "-c", "complete -C 'vcctl emul'"],
        env={"HOME": str(home), "PATH": env_path, "TERM": "dumb"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.split("\t")[0] == "emulator", done
