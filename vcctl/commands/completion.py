"""`vcctl completion bash|zsh|fish`: print the static completion script."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from vcctl.commands.examples import examples

EXAMPLES = examples(
    ("Turn on completion in bash, in ~/.bashrc:", "source <(vcctl completion bash)"),
    ("Install it for zsh:", 'vcctl completion zsh > "${fpath[1]}/_vcctl"'),
)


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def completion(
    shell: Annotated[Shell, typer.Argument(help="The shell to print the script for.")],
) -> None:
    """Print the shell completion script.

    bash: add `source <(vcctl completion bash)` to ~/.bashrc.
    zsh: save it as _vcctl in a folder of $fpath.
    fish: save it as ~/.config/fish/completions/vcctl.fish.
    The script is static (as in completions/ of the source): TAB never starts vcctl.
    """
    # Generated from the command tree on the spot, so it always matches this vcctl; it needs no
    # credentials and no config file. Only this shell's renderer and template are loaded.
    from vcctl.docs import completion_script
    from vcctl.streams import write_stdout

    write_stdout(completion_script(shell.value))
