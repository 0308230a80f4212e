"""`vcctl participants get`: participants by id."""

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
    chosen = formats.choose(output, json_mode=json_out)
    context = context_of(ctx)
    participant_ids = resolve_ids(context, participant_ids, "participant", "PARTICIPANT_ID")
    api = context.api(pool_size=concurrency)

    def render(_: str, participant: Any) -> None:
        views.show_participant(participant)

    run_many(
        participant_ids,
        api.get_participant,
        json_mode=json_out,
        render=render,
        separate=True,
        concurrency=concurrency,
        stop=context.limiter().close,
        renderer=formats.renderer(chosen, PARTICIPANT, single=len(participant_ids) == 1),
    )
