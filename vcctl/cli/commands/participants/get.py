"""`vcctl participants get`: participants by id."""

from typing import Annotated

import typer

from vcctl.cli.commands.common import IdsConcurrencyOption, JsonPerIdOption, OutputOption
from vcctl.cli.commands.get_ids import get_ids
from vcctl.cli.examples import examples
from vcctl.output import views
from vcctl.resources import PARTICIPANT

app = typer.Typer()

ParticipantIds = Annotated[
    list[str], typer.Argument(help="One or more participant ids.", metavar="PARTICIPANT_ID...")
]


@app.command(
    "get",
    epilog=examples(
        ("Show two participants:", "vcctl participants get xyz789 uvw456"),
    ),
)
def get(
    ctx: typer.Context,
    participant_ids: ParticipantIds,
    concurrency: IdsConcurrencyOption = 8,
    json_out: JsonPerIdOption = False,
    output: OutputOption = None,
) -> None:
    """Show participants."""
    get_ids(
        ctx,
        participant_ids,
        kind="participant",
        metavar="PARTICIPANT_ID",
        resource=PARTICIPANT,
        fetch=lambda api: api.get_participant,
        show=views.show_participant,
        concurrency=concurrency,
        json_out=json_out,
        output=output,
    )
