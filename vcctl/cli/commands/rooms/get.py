"""`vcctl rooms get`: rooms and their participants."""

from typing import Annotated

import typer

from vcctl.cli.commands.common import IdsConcurrencyOption, JsonPerIdOption, OutputOption
from vcctl.cli.commands.get_ids import get_ids
from vcctl.cli.examples import examples
from vcctl.output import views
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
    get_ids(
        ctx,
        room_ids,
        kind="room",
        metavar="ROOM_ID",
        resource=ROOM,
        fetch=lambda api: api.get_room,
        show=views.show_room,
        concurrency=concurrency,
        json_out=json_out,
        output=output,
    )
