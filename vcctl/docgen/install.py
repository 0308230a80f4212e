"""`vcctl completion --install SHELL`: the completion script written where the user's shell looks
for it, and the one line to add when that shell will not look there by itself.

bash loads ~/.local/share/bash-completion/completions/vcctl only when bash-completion is loaded,
which Debian leaves to ~/.bashrc (its /etc/bash.bashrc has the loader commented out, and a HOME
made without /etc/skel has no ~/.bashrc). zsh looks only in the folders of its fpath, set before
compinit. fish always reads ~/.config/fish/completions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

BASH_LOADER = re.compile(r"^[ \t]*(\.|source)[ \t]+\S*bash_completion\b", re.M)


@dataclass(frozen=True)
class Installed:
    path: Path
    line_to_add: str | None  # None: the shell loads it by itself
    rc_file: Path | None  # where that line goes


def install_path(shell: str, env: Mapping[str, str]) -> Path:
    home = Path(env.get("HOME") or Path.home())
    data = Path(env.get("XDG_DATA_HOME") or home / ".local/share")
    config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    if shell == "bash":
        user_dir = env.get("BASH_COMPLETION_USER_DIR")
        base = Path(user_dir) if user_dir else data / "bash-completion"
        return base / "completions" / "vcctl"
    if shell == "zsh":
        return home / ".zfunc" / "_vcctl"
    return config / "fish" / "completions" / "vcctl.fish"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _tilde(path: Path, home: Path) -> str:
    try:
        return "~/" + str(path.relative_to(home))
    except ValueError:
        return str(path)


def install(shell: str, script: str, env: Mapping[str, str]) -> Installed:
    """Write the script (atomically, private folders made as needed); say what is missing."""
    from vcctl.config.files import atomic_write

    home = Path(env.get("HOME") or Path.home())
    path = install_path(shell, env)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, script.encode("utf-8"), mode=0o644)
    if shell == "bash":
        rc = home / ".bashrc"
        loaded = BASH_LOADER.search(_read(rc)) or BASH_LOADER.search(
            _read(Path("/etc/bash.bashrc"))
        )
        if loaded and path == install_path("bash", {"HOME": str(home)}):
            return Installed(path, None, None)
        return Installed(path, f"source {_tilde(path, home)}", rc)
    if shell == "zsh":
        rc = Path(env.get("ZDOTDIR") or home) / ".zshrc"
        text = _read(rc)
        if re.search(r"^[ \t]*fpath=\(~/\.zfunc\b", text, re.M):
            return Installed(path, None, None)
        if re.search(r"^[^#\n]*\bcompinit\b", text, re.M):
            return Installed(path, "fpath=(~/.zfunc $fpath)", rc)  # before its compinit
        return Installed(path, "fpath=(~/.zfunc $fpath); autoload -Uz compinit && compinit", rc)
    return Installed(path, None, None)
