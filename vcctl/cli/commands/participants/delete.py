"""`vcctl participants delete`: participants, after asking on a terminal."""

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

DeleteParticipantIds = Annotated[
    list[str],
    typer.Argument(
        help="One or more participant ids; - reads them from standard input.",
        metavar="PARTICIPANT_ID...",
    ),
]


@app.command(
    "delete",
    epilog=examples(
        (
            "Delete a participant from a script, without the question:",
            "vcctl participants delete xyz789 --yes",
        ),
    ),
)
def delete(
    ctx: typer.Context,
    participant_ids: DeleteParticipantIds,
    yes: YesOption = False,
    ignore_missing: IgnoreMissingOption = False,
    concurrency: IdsConcurrencyOption = 8,
    json_out: JsonPerIdOption = False,
) -> None:
    """Delete participants. Asks first unless --yes."""
    delete_ids(
        ctx,
        participant_ids,
        kind="participant",
        metavar="PARTICIPANT_ID",
        name_field="username",
        look_up=lambda api: api.get_participant,
        delete=lambda api: api.delete_participant,
        yes=yes,
        ignore_missing=ignore_missing,
        concurrency=concurrency,
        json_out=json_out,
    )
