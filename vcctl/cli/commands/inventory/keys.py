"""`vcctl inventory keys`: the keys of the current account, and how to free a blocked one."""

from typing import Annotated

import typer

from vcctl.cli.context import context_of
from vcctl.cli.examples import examples
from vcctl.inventory.key_listing import key_table, list_keys, release_commands
from vcctl.output.streams import print_json_line, stderr_line, write_stdout
from vcctl.output.table import plain_table

app = typer.Typer()


@app.command(
    "keys",
    help=(
        "List the keys of the current account: scope, state, id, since when, owner.\n\n"
        "A key is pending while a create with it is in flight (its owner named), created once "
        "it names a resource, unknown when a create's outcome is unknown: each unknown key is "
        "listed with the command that frees exactly it. It also brings up to date the key "
        "index that shell completion reads after @ (with a shared inventory, keys other "
        "machines made appear there after it)."
    ),
    epilog=examples(
        ("The blocked keys (an unknown outcome):", "vcctl inventory keys --unknown"),
        ("The keys of one stack, as JSON Lines:", "vcctl inventory keys --stack weekly --json"),
    ),
)
def keys(
    ctx: typer.Context,
    unknown: Annotated[
        bool, typer.Option("--unknown", help="Only keys whose create has an unknown outcome.")
    ] = False,
    stack: Annotated[
        str | None,
        typer.Option("--stack", help="Only the keys of this stack.", metavar="NAME"),
    ] = None,
    json_mode: Annotated[bool, typer.Option("--json", help="JSON Lines, one key a line.")] = False,
) -> None:
    recorder = context_of(ctx).inventory()
    inventory = recorder.require()
    recorder.index_wanted = True  # the shell completion's key index is brought up to date
    views = list_keys(inventory, recorder.account, unknown_only=unknown, stack=stack)
    frees = release_commands(inventory, recorder.account, views)
    if json_mode:
        for view, command in zip(views, frees, strict=True):
            print_json_line({**view.to_json(), "forget": command})
        return
    if views:
        write_stdout(plain_table(key_table(views)))
    for view, command in zip(views, frees, strict=True):
        if view.state == "unknown":
            stderr_line(
                f"{view.row.describe()}: check whether it was created, then run '{command}'"
            )
