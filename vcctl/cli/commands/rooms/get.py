"""`vcctl rooms get`: rooms and their participants."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from vcctl.cli.commands.common import (
    IdsConcurrencyOption,
    JsonPerIdOption,
    OutputOption,
    run_many,
)
from vcctl.cli.context import context_of
from vcctl.cli.examples import examples
from vcctl.cli.references import resolve_ids
from vcctl.output import formats, views
from vcctl.resources import ROOM

app = typer.Typer()

RoomIds = Annotated[list[str], typer.Argument(help="One or more room ids.", metavar="ROOM_ID...")]


@app.command(
    "get",
    epilog=examples(
        ("Show a room and its participants:", "vcctl rooms get abc123"),
        (
            "Count its participants with jq:",
            "vcctl rooms get abc123 --json | jq '.participants | length'",
        ),
    ),
)
def get(
    ctx: typer.Context,
    room_ids: RoomIds,
    concurrency: IdsConcurrencyOption = 8,
    json_out: JsonPerIdOption = False,
    output: OutputOption = None,
) -> None:
    """Show rooms and their participants."""
    chosen = formats.choose(output, json_mode=json_out)
    context = context_of(ctx)
    room_ids = resolve_ids(context, room_ids, "room", "ROOM_ID")
    api = context.api(pool_size=concurrency)

    def render(_: str, room: Any) -> None:
        views.show_room(room)

    run_many(
        room_ids,
        api.get_room,
        json_mode=json_out,
        render=render,
        separate=True,
        concurrency=concurrency,
        stop=context.limiter().close,
        renderer=formats.renderer(chosen, ROOM, single=len(room_ids) == 1),
    )
