"""`vcctl participants list`: a room's participants from the API, or those of the inventory."""

from typing import Annotated, Any

import typer

from vcctl.cli.commands.common import OneOption, OutputOption
from vcctl.cli.context import context_of
from vcctl.cli.examples import examples
from vcctl.cli.references import resolve_id
from vcctl.errors import InvalidResponseError, UsageError
from vcctl.inventory.listing import Filters, list_inventory
from vcctl.output import formats, streams, views
from vcctl.resources import PARTICIPANT
from vcctl.text import printable

app = typer.Typer()


@app.command(
    "list",
    help=(
        "List participants: a room's from the API (--room), or those in the local inventory.\n\n"
        "The API has no list call: with --room alone the room's GET is used; without it, or "
        "with --room and an inventory filter (--name, --created-before/--created-after, "
        "--include-gone), the participants vcctl created or saw are listed, newest first, and "
        "no request is sent."
    ),
    epilog=examples(
        ("List the participants vcctl created or saw:", "vcctl participants list"),
        (
            "Print the ids of those whose video and audio are on:",
            "vcctl participants list --room abc123 --json |",
            "  jq -r 'select(.video_and_audio_on) | .id'",
        ),
    ),
)
def list_(
    ctx: typer.Context,
    room: Annotated[
        str | None,
        typer.Option("--room", help="Ask the API for this room's participants.", metavar="ROOM_ID"),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="Without --room: only usernames matching this shell pattern.",
            metavar="GLOB",
        ),
    ] = None,
    created_before: Annotated[
        str | None,
        typer.Option(
            "--created-before",
            help="Without --room: created before WHEN (30d, 2024-05-01; age units s m h d w).",
            metavar="WHEN",
        ),
    ] = None,
    created_after: Annotated[
        str | None,
        typer.Option("--created-after", help="Without --room: created after WHEN.", metavar="WHEN"),
    ] = None,
    include_gone: Annotated[
        bool, typer.Option("--include-gone", help="Without --room: also those deleted or missing.")
    ] = False,
    all_accounts: Annotated[
        bool, typer.Option("--all-accounts", help="Without --room: those of every account.")
    ] = False,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print JSON Lines, one participant per line: as the API lists them with --room, "
            "as last seen plus a vcctl member without it.",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the ids.")] = False,
    one: OneOption = False,
    output: OutputOption = None,
) -> None:
    chosen = formats.choose(output, json_mode=json_out, quiet=quiet, one=one)
    context = context_of(ctx)
    if room is not None and all_accounts:
        # A room id belongs to one account: every account's inventory has no more of it.
        raise UsageError("--all-accounts: all accounts list the inventory: drop --room")
    filtered = bool(name or created_before or created_after or include_gone)
    if room is None or filtered:
        room_id = None if room is None else resolve_id(context, room, "room", "--room")
        list_inventory(
            context.inventory(),
            lambda workers: context.api(pool_size=workers),
            "participant",
            Filters(name, created_before, created_after, include_gone, all_accounts, room_id),
            json_mode=json_out,
            quiet=quiet,
            one=one,
            output=chosen,
        )
        return
    room = resolve_id(context, room, "room", "--room")
    data = context.api().get_room(room)
    if not isinstance(data, dict):
        raise InvalidResponseError("the API's answer for the room is not a JSON object")
    # An API may leave the key out of an empty room's answer.
    participants = data.get("participants", [])
    if not isinstance(participants, list):
        raise InvalidResponseError("the room's participants are not a list")
    if chosen is not None:
        formats.Renderer(chosen, PARTICIPANT).add_all(participants)
    elif one:
        found = [p for p in participants if isinstance(p, dict)]
        streams.write_stdout(_only_one(found) + "\n")
    elif quiet:
        streams.write_stdout(
            "".join(f"{printable(str(p.get('id')))}\n" for p in participants if isinstance(p, dict))
        )
    elif json_out:
        # A list is JSON Lines with or without --room: one rule for `jq` and `while read`.
        streams.write_stdout("".join(streams.json_result_line(p) for p in participants))
    else:
        views.show_participants(participants)


def _only_one(participants: list[dict[str, Any]]) -> str:
    """`--one` over a room's participants as the API listed them."""
    if len(participants) == 1:
        return str(participants[0].get("id"))
    if not participants:
        raise UsageError("--one: the room has no participants")
    shown = ", ".join(
        printable(f'{p.get("id")} ("{p.get("username")}")') for p in participants[:10]
    )
    raise UsageError(
        f"--one: the room has {len(participants)} participants: {shown}",
        hint="add --name GLOB to pick one from the inventory",
    )
