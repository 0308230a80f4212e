"""`vcctl inventory forget`: records or a key dropped from the local inventory (nothing sent)."""

from typing import Annotated

import typer

from vcctl.cli.context import context_of
from vcctl.cli.examples import examples
from vcctl.errors import UsageError
from vcctl.inventory.key_listing import forget_key
from vcctl.output.streams import notice_on_terminal, warn

app = typer.Typer()


@app.command(
    "forget",
    help=(
        "Forget records or a key of the current account. Nothing is sent to the API.\n\n"
        "Forgetting ids drops their records and the keys that named them. Forgetting a key "
        "(after checking what an unknown outcome created) lets the next create with that key "
        "create again."
    ),
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
    if (key is None) == (not ids):
        raise UsageError("give ids to forget, or --key KEY (not both)")
    if key is None and (room is not None or stack is not None or no_stack):
        raise UsageError("--stack, --room and --no-stack go with --key")
    if no_stack and stack is not None:
        raise UsageError("--no-stack and --stack exclude each other")
    recorder = context_of(ctx).inventory()
    inventory = recorder.require()
    if key is not None:
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
