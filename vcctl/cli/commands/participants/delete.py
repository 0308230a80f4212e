"""`vcctl participants delete`: participants, after asking on a terminal."""

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
    participant_ids = ids_from_arguments(participant_ids, "PARTICIPANT_ID")
    if not participant_ids:
        return  # `-` with nothing on standard input: nothing to delete
    participant_ids = resolve_ids(context_of(ctx), participant_ids, "participant", "PARTICIPANT_ID")
    # Off a terminal the refusal comes before anything else can fail: always exit 2.
    api = None if yes or not sys.stdin.isatty() else context_of(ctx).api(pool_size=concurrency)
    confirm_delete(
        "participants", participant_ids, yes=yes, look_up=api.get_participant if api else None
    )
    context = context_of(ctx)
    api = api or context.api(pool_size=concurrency)

    def render(participant_id: str, participant: Any) -> None:
        name = participant.get("username") if isinstance(participant, dict) else None
        views.show_message(f"deleted participant {participant_id}" + (f" ({name})" if name else ""))

    run_many(
        participant_ids,
        ignoring_missing(deleting(api.delete_participant))
        if ignore_missing
        else deleting(api.delete_participant),
        json_mode=json_out,
        render=render,
        concurrency=concurrency,
        stop=context.limiter().close,
        missing=views.note_missing("participant"),
    )
