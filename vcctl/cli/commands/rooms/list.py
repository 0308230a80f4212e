"""`vcctl rooms list`: the rooms of the local inventory."""

from typing import Annotated

import typer

from vcctl.cli.commands.common import OneOption, OutputOption
from vcctl.cli.context import context_of
from vcctl.cli.examples import examples
from vcctl.inventory.listing import Filters, list_inventory
from vcctl.output import formats

app = typer.Typer()


@app.command(
    "list",
    help=(
        "List the rooms in the local inventory (the API has no list call).\n\n"
        "The inventory holds every room vcctl created or saw, per account. No request is sent "
        "unless --refresh is given."
    ),
    epilog=examples(
        (
            "Delete the rooms created more than 30 days ago:",
            "vcctl rooms list -q --created-before 30d | vcctl rooms delete --yes -",
        ),
        (
            "Rename rooms in a spreadsheet: export them, edit the names, send what changed:",
            "vcctl rooms list -o csv > rooms.csv",
            "vcctl rooms update --from-file rooms.csv",
        ),
    ),
)
def list_(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="Only names matching this shell pattern (case-sensitive).",
            metavar="GLOB",
        ),
    ] = None,
    created_before: Annotated[
        str | None,
        typer.Option(
            "--created-before",
            help="Only rooms created before WHEN (2024-05-01, 30d, 12h; age units s m h d w).",
            metavar="WHEN",
        ),
    ] = None,
    created_after: Annotated[
        str | None,
        typer.Option("--created-after", help="Only rooms created after WHEN.", metavar="WHEN"),
    ] = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="GET each listed room first; a 404 marks it gone.")
    ] = False,
    include_gone: Annotated[
        bool, typer.Option("--include-gone", help="Also rooms deleted or found missing.")
    ] = False,
    all_accounts: Annotated[
        bool, typer.Option("--all-accounts", help="Rooms of every account (base URL and key).")
    ] = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=64, help="GETs in flight with --refresh.")
    ] = 8,
    json_out: Annotated[
        bool,
        typer.Option("--json", help="JSON Lines: each room as last seen, plus a vcctl member."),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the ids.")] = False,
    one: OneOption = False,
    output: OutputOption = None,
) -> None:
    chosen = formats.choose(output, json_mode=json_out, quiet=quiet, one=one)
    context = context_of(ctx)
    list_inventory(
        context.inventory(),
        lambda workers: context.api(pool_size=workers),
        "room",
        Filters(name, created_before, created_after, include_gone, all_accounts),
        refresh=refresh,
        concurrency=concurrency,
        json_mode=json_out,
        quiet=quiet,
        one=one,
        output=chosen,
    )
