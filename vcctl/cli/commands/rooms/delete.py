"""`vcctl rooms delete`: rooms, after asking on a terminal."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from vcctl.cli.commands.common import (
    IdsConcurrencyOption,
    IgnoreMissingOption,
    JsonPerIdOption,
    YesOption,
    confirm_delete,
    deleting,
    ignoring_missing,
    run_many,
)
from vcctl.cli.commands.key_options import (
    ids_from_arguments,
)
from vcctl.cli.context import context_of
from vcctl.cli.examples import examples
from vcctl.cli.references import resolve_ids
from vcctl.output import views

app = typer.Typer()

DeleteRoomIds = Annotated[
    list[str],
    typer.Argument(
        help="One or more room ids; - reads them from standard input.", metavar="ROOM_ID..."
    ),
]


@app.command(
    "delete",
    epilog=examples(
        (
            "Delete two rooms from a script, without the question:",
            "vcctl rooms delete abc123 def456 --yes",
        ),
        (
            "Delete the rooms named test-* that vcctl remembers:",
            "vcctl rooms list -q --name 'test-*' | vcctl rooms delete --yes -",
        ),
    ),
)
def delete(
    ctx: typer.Context,
    room_ids: DeleteRoomIds,
    yes: YesOption = False,
    ignore_missing: IgnoreMissingOption = False,
    concurrency: IdsConcurrencyOption = 8,
    json_out: JsonPerIdOption = False,
) -> None:
    """Delete rooms (and their participants). Asks first unless --yes."""
    room_ids = ids_from_arguments(room_ids, "ROOM_ID")
    if not room_ids:
        return  # `-` with nothing on standard input: nothing to delete
    room_ids = resolve_ids(context_of(ctx), room_ids, "room", "ROOM_ID")
    # Off a terminal the refusal comes before anything else can fail: always exit 2.
    api = None if yes or not sys.stdin.isatty() else context_of(ctx).api(pool_size=concurrency)
    confirm_delete("rooms", room_ids, yes=yes, look_up=api.get_room if api else None)
    context = context_of(ctx)
    api = api or context.api(pool_size=concurrency)

    def render(room_id: str, room: Any) -> None:
        name = room.get("name") if isinstance(room, dict) else None
        views.show_message(f"deleted room {room_id}" + (f" ({name})" if name else ""))

    run_many(
        room_ids,
        ignoring_missing(deleting(api.delete_room))
        if ignore_missing
        else deleting(api.delete_room),
        json_mode=json_out,
        render=render,
        concurrency=concurrency,
        stop=context.limiter().close,
        missing=views.note_missing("room"),
    )
