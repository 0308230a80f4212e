"""`vcctl rooms update`: a room's name or colour."""

from typing import Annotated

import typer

from vcctl import validate
from vcctl.cli.commands.common import (
    ColorOption,
    ConcurrencyOption,
    DelimiterOption,
    IgnoreColumnsOption,
    JsonOption,
    SkipInvalidOption,
    UpdateDryRunOption,
    UpdateFromFileOption,
)
from vcctl.cli.commands.from_file import reading_options, update_from_file
from vcctl.cli.context import context_of
from vcctl.cli.examples import examples
from vcctl.cli.references import resolve_id
from vcctl.errors import UsageError
from vcctl.output import views

app = typer.Typer()


@app.command(
    "update",
    help=(
        "Change a room's name or colour (only the fields given are sent), or each room a "
        "file's rows name (--from-file: only the fields that differ are sent)."
    ),
    epilog=examples(
        (
            "Rename a room and change its color:",
            'vcctl rooms update abc123 --name "Weekly sync" --color "#ff8c00"',
        ),
        (
            "Fix names from a CSV file of changes (id,name), checking first:",
            "vcctl rooms update --from-file fixes.csv --dry-run",
        ),
    ),
)
def update(
    ctx: typer.Context,
    room_id: Annotated[
        str | None, typer.Argument(help="The room to change (id or @KEY).", metavar="ROOM_ID")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="New name.", metavar="NAME")] = None,
    color: ColorOption = None,
    from_file: UpdateFromFileOption = None,
    concurrency: ConcurrencyOption = 8,
    dry_run: UpdateDryRunOption = False,
    delimiter: DelimiterOption = None,
    ignore_columns: IgnoreColumnsOption = None,
    skip_invalid: SkipInvalidOption = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the ids.")] = False,
    json_out: JsonOption = False,
) -> None:
    context = context_of(ctx)
    if from_file is not None:
        if room_id is not None or name is not None or color is not None:
            raise UsageError("--from-file takes the rooms and fields from the file")
        update_from_file(
            context,
            "rooms",
            from_file,
            concurrency=concurrency,
            dry_run=dry_run,
            json_mode=json_out,
            quiet=quiet,
            reading=reading_options(delimiter, ignore_columns, skip_invalid),
        )
        return
    if dry_run:
        raise UsageError("--dry-run goes with --from-file")
    if room_id is None:
        raise UsageError("missing argument ROOM_ID (or --from-file)")
    fields = validate.room_fields(name_value=name, color_value=color)
    if not fields:
        raise UsageError("nothing to update: give --name and/or --color")
    room_id = resolve_id(context, room_id, "room", "ROOM_ID")
    room = context.api().update_room(room_id, fields)
    views.emit(room, json_mode=json_out, view=views.show_room)
