"""`vcctl completion bash|zsh|fish`: print the static completion script."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def completion(
    shell: Annotated[Shell, typer.Argument(help="The shell to print the script for.")],
) -> None:
    """Print the shell completion script (see the README to install it)."""
    from vcctl.errors import UsageError

    raise UsageError(f"completion for {shell.value} is not available yet")
