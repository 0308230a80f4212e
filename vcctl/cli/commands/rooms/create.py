"""`vcctl rooms create`: one room, or one per row of a file."""

from typing import Annotated

import typer

from vcctl import validate
from vcctl.batch import create_from_file
from vcctl.cli.commands.common import (
    ColorOption,
    ConcurrencyOption,
    DelimiterOption,
    DryRunOption,
    FromFileOption,
    IgnoreColumnsOption,
    JsonCreatedOption,
    QuietOption,
    SkipInvalidOption,
    from_file_command,
)
from vcctl.cli.commands.from_file import batch_services, reading_options
from vcctl.cli.commands.key_options import (
    KeyOption,
    RetryUnknownOption,
    create_one,
)
from vcctl.cli.context import context_of
from vcctl.cli.examples import examples
from vcctl.errors import UsageError
from vcctl.output import views

app = typer.Typer()


@app.command(
    "create",
    cls=from_file_command("rooms"),
    epilog=examples(
        (
            "Create a room and keep its id:",
            'ROOM=$(vcctl rooms create --name "Board meeting" --color "#1e90ff" -q)',
        ),
        (
            "One room per row of a CSV file (name,color,key); run again, it creates only the "
            "rows still missing:",
            "vcctl rooms create --from-file rooms.csv",
        ),
    ),
)
def create(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Option("--name", help="Name of the room.", metavar="NAME")
    ] = None,
    color: ColorOption = None,
    key: KeyOption = None,
    retry_unknown: RetryUnknownOption = False,
    from_file: FromFileOption = None,
    concurrency: ConcurrencyOption = 8,
    dry_run: DryRunOption = False,
    delimiter: DelimiterOption = None,
    ignore_columns: IgnoreColumnsOption = None,
    skip_invalid: SkipInvalidOption = False,
    quiet: QuietOption = False,
    json_out: JsonCreatedOption = False,
) -> None:
    """Create a room (or one per row with --from-file)."""
    if from_file is not None:
        if name is not None or color is not None:
            raise UsageError("--from-file takes the fields from the file: drop --name and --color")
        if key is not None:
            raise UsageError("--from-file takes keys from the file's key column: drop --key")
        create_from_file(
            batch_services(context_of(ctx)),
            "rooms",
            from_file,
            defaults={},
            concurrency=concurrency,
            dry_run=dry_run,
            json_mode=json_out,
            quiet=quiet,
            retry_unknown=retry_unknown,
            reading=reading_options(delimiter, ignore_columns, skip_invalid),
        )
        return
    if dry_run:
        raise UsageError("--dry-run goes with --from-file")
    if name is None:
        raise UsageError("missing option --name (or --from-file)")
    fields = validate.room_fields(name_value=name, color_value=color)
    create_one(
        context_of(ctx),
        "room",
        fields,
        key=key,
        retry_unknown=retry_unknown,
        json_mode=json_out,
        quiet=quiet,
        view=views.show_room,
    )
