"""`vcctl completion bash|zsh|fish`: print the static completion script."""

import os
from enum import StrEnum
from typing import Annotated

import typer

from vcctl.cli.examples import examples
from vcctl.docgen import completion_script
from vcctl.docgen.install import install as install_script
from vcctl.output.streams import write_stdout

app = typer.Typer()

EXAMPLES = examples(
    (
        "Install it for your shell, for your user (prints the line to add if one is needed):",
        "vcctl completion --install bash",
    ),
    (
        "Save the bash script yourself, where bash-completion looks for your user's:",
        "vcctl completion bash > ~/.local/share/bash-completion/completions/vcctl",
    ),
)


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


@app.command(
    "completion",
    help=(
        "Print the shell completion script, or install it for your user (--install).\n\n"
        "Installed for your user, without root (run again after upgrading vcctl):\n\n"
        "bash (with bash-completion): save it as "
        "~/.local/share/bash-completion/completions/vcctl. zsh: save it as ~/.zfunc/_vcctl, "
        "and in ~/.zshrc, before compinit: fpath=(~/.zfunc $fpath). fish: save it as "
        "~/.config/fish/completions/vcctl.fish. Or, in ~/.bashrc only: source <(vcctl "
        "completion bash). The script is static (as in completions/ of the source): TAB never "
        "starts vcctl."
    ),
    epilog=EXAMPLES,
)
def completion(
    shell: Annotated[Shell, typer.Argument(help="The shell to print the script for.")],
    install: Annotated[
        bool,
        typer.Option(
            "--install",
            help="Write the script where SHELL looks for your user's completions (no root), say "
            "where, and print the one line to add to the shell's start-up file if it will not "
            "load it by itself.",
        ),
    ] = False,
) -> None:
    # Generated from the command tree on the spot, so it always matches this vcctl; it needs no
    # credentials and no config file. Only this shell's renderer and template are loaded.
    script = completion_script(shell.value)
    if not install:
        write_stdout(script)
        return
    done = install_script(shell.value, script, os.environ)
    report = f"vcctl: wrote the {shell.value} completion script to {done.path}\n"
    if done.line_to_add is None:
        report += f"vcctl: the next {shell.value} you start loads it\n"
    else:
        before_compinit = shell.value == "zsh" and "compinit" not in done.line_to_add
        where = " (before its compinit)" if before_compinit else ""
        rc = f"~/{done.rc_file.name}" if done.rc_file else "its start-up file"
        report += (
            f"vcctl: {shell.value} will not load it by itself: add this line to {rc}{where}:\n"
            f"  {done.line_to_add}\n"
        )
    write_stdout(report)
