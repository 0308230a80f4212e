"""`vcctl rooms delete`: rooms, after asking on a terminal."""

from typing import Annotated

import typer

from vcctl.cli.commands.common import (
    IdsConcurrencyOption,
    IgnoreMissingOption,
    JsonPerIdOption,
    YesOption,
)
from vcctl.cli.commands.delete_ids import delete_ids
from vcctl.cli.examples import examples

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
    delete_ids(
        ctx,
        room_ids,
        kind="room",
        metavar="ROOM_ID",
        name_field="name",
        look_up=lambda api: api.get_room,
        delete=lambda api: api.delete_room,
        yes=yes,
        ignore_missing=ignore_missing,
        concurrency=concurrency,
        json_out=json_out,
    )
