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
def path() -> None:
    """Print the path of the inventory file (VCCTL_DATA_DIR, or the user data folder)."""
    import os

    from vcctl.inventory import inventory_path
    from vcctl.output.streams import write_stdout

    write_stdout(f"{inventory_path(os.environ)}\n")


@app.command(
    "forget",
    epilog=examples(
        ("Forget two rooms (nothing is sent to the API):", "vcctl inventory forget abc123 def456"),
        (
            "Release a key whose create had an unknown outcome, once checked:",
            "vcctl inventory forget --key board",
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
    room: Annotated[
        str | None,
        typer.Option("--room", help="With --key: only the participant key of this room."),
    ] = None,
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
    if room is not None and key is None:
        raise UsageError("--room goes with --key")
    recorder = context_of(ctx).inventory()
    inventory = recorder.require()
    if key is not None:
        from vcctl.inventory.key_listing import forget_key

        forgotten = forget_key(inventory, recorder.account, key, room=room)
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
