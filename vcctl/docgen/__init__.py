"""vcctl's generated documentation: completion scripts and man pages, from the command tree.

    python -m vcctl.docgen [--check] [OUTDIR]

Modules: `model` reads the Typer tree; `bash`, `zsh`, `fish` and `man` each render one kind of
file (the shell scripts from templates/, shipped as package data); `files` writes and checks
them. `completion_script` loads only the renderer of the shell asked for, for `vcctl completion`.
"""

from __future__ import annotations

import importlib

SHELLS = ("bash", "zsh", "fish")
COMPLETION_FILES = {"bash": "vcctl.bash", "zsh": "_vcctl", "fish": "vcctl.fish"}
REGENERATE_COMMAND = "python -m vcctl.docgen"


def completion_script(shell: str) -> str:
    """The completion script for `shell`, exactly as committed in completions/."""
    from vcctl.docgen.tree import load_tree

    if shell not in SHELLS:
        raise ValueError(f"no completion script for {shell!r}")
    renderer = importlib.import_module(f"vcctl.docgen.{shell}")
    text: str = renderer.render(load_tree())
    return text
