"""`vcctl inventory ...`: where the local inventory lives, and forgetting what it holds."""

from __future__ import annotations

from typing import Annotated

import typer

from vcctl.cli.examples import examples
from vcctl.errors import UsageError

app = typer.Typer(
    help="The local inventory of the rooms and participants vcctl created or saw.",
    no_args_is_help=True,
)


@app.command(
    "path",
    epilog=examples(
        ("Show where the inventory is kept:", "vcctl inventory path"),
        ("Query it with sqlite3:", 'sqlite3 "$(vcctl inventory path)" .tables'),
    ),
)
def path(ctx: typer.Context) -> None:
    """Print where the inventory is: the file's path (VCCTL_DATA_DIR, or the user data folder),
    or the shared database's URL (VCCTL_INVENTORY_URL), its password masked."""
    from vcctl.cli.context import context_of
    from vcctl.output.streams import write_stdout

    write_stdout(f"{context_of(ctx).inventory().location.shown}\n")


@app.command(
    "forget",
    epilog=examples(
        ("Forget two rooms (nothing is sent to the API):", "vcctl inventory forget abc123 def456"),
        (
            "Release a stack's key whose create had an unknown outcome, once checked:",
            "vcctl inventory forget --key board --stack weekly",
        ),
    ),
)
def forget(
    ctx: typer.Context,
    ids: Annotated[
        list[str] | None,
        typer.Argument(help="Ids of rooms or participants to forget.", metavar="ID..."),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option("--key", help="Release this key (the record it named stays).", metavar="KEY"),
    ] = None,
    stack: Annotated[
        str | None,
        typer.Option(
            "--stack",
            help="With --key: the key of this stack (of its room, with --room).",
            metavar="NAME",
        ),
    ] = None,
    room: Annotated[
        str | None,
        typer.Option(
            "--room",
            help="With --key: the participant key of this room (its id; its key with --stack).",
            metavar="ROOM",
        ),
    ] = None,
    no_stack: Annotated[
        bool,
        typer.Option("--no-stack", help="With --key: the room key of no stack (--key alone)."),
    ] = False,
) -> None:
    """Forget records or a key of the current account. Nothing is sent to the API.

    Forgetting ids drops their records and the keys that named them.
    Forgetting a key (after checking what an unknown outcome created)
    lets the next create with that key create again.
    """
    from vcctl.cli.context import context_of
    from vcctl.output.streams import notice_on_terminal, warn

    if (key is None) == (not ids):
        raise UsageError("give ids to forget, or --key KEY (not both)")
    if key is None and (room is not None or stack is not None or no_stack):
        raise UsageError("--stack, --room and --no-stack go with --key")
    if no_stack and stack is not None:
        raise UsageError("--no-stack and --stack exclude each other")
    recorder = context_of(ctx).inventory()
    inventory = recorder.require()
    if key is not None:
        from vcctl.inventory.key_listing import forget_key

        forgotten = forget_key(
            inventory, recorder.account, key, stack=stack, room=room, no_stack=no_stack
        )
        if not forgotten:
            warn(f"no key {key!r} in the inventory of this account")
        else:
            notice_on_terminal(f"forgot {forgotten[0].describe()}")
        return
    assert ids is not None
    known = set(inventory.forget_ids(recorder.account, ids))
    for item in ids:
        if item not in known:
            warn(f"{item} is not in the inventory of this account")


@app.command(
    "keys",
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
    """List the keys of the current account: scope, state, id, since when, owner.

    A key is pending while a create with it is in flight (its owner
    named), created once it names a resource, unknown when a create's
    outcome is unknown: each unknown key is listed with the command
    that frees exactly it.
    """
    from vcctl.cli.context import context_of
    from vcctl.inventory.key_listing import key_table, list_keys, release_commands
    from vcctl.output.streams import print_json_line, stderr_line, write_stdout
    from vcctl.output.table import plain_table

    recorder = context_of(ctx).inventory()
    inventory = recorder.require()
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
