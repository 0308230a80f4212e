"""`vcctl inventory path`: where the local inventory lives."""

import typer

from vcctl.cli.context import context_of
from vcctl.cli.examples import examples
from vcctl.output.streams import write_stdout

app = typer.Typer()


@app.command(
    "path",
    help=(
        "Print where the inventory is: the file's path (VCCTL_DATA_DIR, or the user data "
        "folder), or the shared database's URL (VCCTL_INVENTORY_URL), its password masked."
    ),
    epilog=examples(
        ("Show where the inventory is kept:", "vcctl inventory path"),
        ("Query it with sqlite3:", 'sqlite3 "$(vcctl inventory path)" .tables'),
    ),
)
def path(ctx: typer.Context) -> None:
    write_stdout(f"{context_of(ctx).inventory().location.shown}\n")
