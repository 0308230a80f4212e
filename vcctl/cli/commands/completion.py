"""`vcctl completion bash|zsh|fish`: print the static completion script."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from vcctl.cli.examples import examples

EXAMPLES = examples(
    (
        "Install it for bash, for your user (no root needed):",
        "mkdir -p ~/.local/share/bash-completion/completions",
        "vcctl completion bash > ~/.local/share/bash-completion/completions/vcctl",
    ),
    (
        "Install it for zsh; ~/.zshrc has fpath=(~/.zfunc $fpath) before compinit:",
        "mkdir -p ~/.zfunc && vcctl completion zsh > ~/.zfunc/_vcctl",
    ),
)


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def completion(
    shell: Annotated[Shell, typer.Argument(help="The shell to print the script for.")],
) -> None:
    """Print the shell completion script.

    Installed for your user, without root (run again after upgrading vcctl):

    bash (with bash-completion): save it as ~/.local/share/bash-completion/completions/vcctl.
    zsh: save it as ~/.zfunc/_vcctl, and in ~/.zshrc, before compinit: fpath=(~/.zfunc $fpath).
    fish: save it as ~/.config/fish/completions/vcctl.fish.
    Or, in ~/.bashrc only: source <(vcctl completion bash).
    The script is static (as in completions/ of the source): TAB never starts vcctl.
    """
    # Generated from the command tree on the spot, so it always matches this vcctl; it needs no
    # credentials and no config file. Only this shell's renderer and template are loaded.
    from vcctl.docgen import completion_script
    from vcctl.output.streams import write_stdout

    write_stdout(completion_script(shell.value))
