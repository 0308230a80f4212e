"""`vcctl rooms ...`: create, get, update, delete and watch rooms."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any

import typer

from vcctl.cli.commands.common import (
    ColorOption,
    ConcurrencyOption,
    DelimiterOption,
    DryRunOption,
    FromFileOption,
    IdsConcurrencyOption,
    IgnoreColumnsOption,
    IgnoreMissingOption,
    JsonCreatedOption,
    JsonOption,
    JsonPerIdOption,
    OneOption,
    QuietOption,
    SkipInvalidOption,
    UpdateDryRunOption,
    UpdateFromFileOption,
    YesOption,
    confirm_delete,
    deleting,
    from_file_command,
    ignoring_missing,
    reading_options,
    run_many,
    update_from_file,
)
from vcctl.cli.commands.key_options import (
    KeyOption,
    RetryUnknownOption,
    create_one,
    ids_from_arguments,
)
from vcctl.cli.examples import examples
from vcctl.errors import UsageError

app = typer.Typer(help="Create, list, inspect, change and delete rooms.", no_args_is_help=True)

RoomIds = Annotated[list[str], typer.Argument(help="One or more room ids.", metavar="ROOM_ID...")]
DeleteRoomIds = Annotated[
    list[str],
    typer.Argument(
        help="One or more room ids; - reads them from standard input.", metavar="ROOM_ID..."
    ),
]


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
    from vcctl import validate
    from vcctl.cli.context import context_of
    from vcctl.output import views

    if from_file is not None:
        if name is not None or color is not None:
            raise UsageError("--from-file takes the fields from the file: drop --name and --color")
        if key is not None:
            raise UsageError("--from-file takes keys from the file's key column: drop --key")
        from vcctl.batch import create_from_file
        from vcctl.cli.context import batch_services

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


@app.command(
    "list",
    epilog=examples(
        ("List the rooms vcctl created or saw, newest first:", "vcctl rooms list"),
        (
            "Delete the rooms created more than 30 days ago:",
            "vcctl rooms list -q --created-before 30d | vcctl rooms delete --yes -",
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
) -> None:
    """List the rooms in the local inventory (the API has no list call).

    The inventory holds every room vcctl created or saw, per account. No
    request is sent unless --refresh is given.
    """
    from vcctl.cli.context import context_of
    from vcctl.inventory.listing import Filters, list_inventory

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
    )


@app.command(
    "get",
    epilog=examples(
        ("Show a room and its participants:", "vcctl rooms get abc123"),
        (
            "Count its participants with jq:",
            "vcctl rooms get abc123 --json | jq '.participants | length'",
        ),
    ),
)
def get(
    ctx: typer.Context,
    room_ids: RoomIds,
    concurrency: IdsConcurrencyOption = 8,
    json_out: JsonPerIdOption = False,
) -> None:
    """Show rooms and their participants."""
    from vcctl.cli.context import context_of
    from vcctl.cli.references import resolve_ids

    context = context_of(ctx)
    room_ids = resolve_ids(context, room_ids, "room", "ROOM_ID")
    api = context.api(pool_size=concurrency)

    def render(_: str, room: Any) -> None:
        from vcctl.output import views  # not needed for --json

        views.show_room(room)

    run_many(
        room_ids,
        api.get_room,
        json_mode=json_out,
        render=render,
        separate=True,
        concurrency=concurrency,
        stop=context.limiter().close,
    )


@app.command(
    "update",
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
    """Change a room's name or colour (only the fields given are sent), or each room a
    file's rows name (--from-file: only the fields that differ are sent)."""
    from vcctl import validate
    from vcctl.cli.context import context_of
    from vcctl.cli.references import resolve_id
    from vcctl.output import views

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
    from vcctl.cli.context import context_of
    from vcctl.output import views

    room_ids = ids_from_arguments(room_ids, "ROOM_ID")
    if not room_ids:
        return  # `-` with nothing on standard input: nothing to delete
    from vcctl.cli.references import resolve_ids

    room_ids = resolve_ids(context_of(ctx), room_ids, "room", "ROOM_ID")
    # Off a terminal the refusal comes before anything else can fail: always exit 2.
    api = None if yes or not sys.stdin.isatty() else context_of(ctx).api(pool_size=concurrency)
    confirm_delete("rooms", room_ids, yes=yes, look_up=api.get_room if api else None)
    context = context_of(ctx)
    api = api or context.api(pool_size=concurrency)

    def render(room_id: str, room: Any) -> None:
        name = room.get("name") if isinstance(room, dict) else None
        views.show_message(f"deleted room {room_id}" + (f" ({name})" if name else ""))

    run_many(
        room_ids,
        ignoring_missing(deleting(api.delete_room))
        if ignore_missing
        else deleting(api.delete_room),
        json_mode=json_out,
        render=render,
        concurrency=concurrency,
        stop=context.limiter().close,
        missing=views.note_missing("room"),
    )


# A refresh at least every hour: a longer wait is a mistake, and 1e308 would overflow a sleep.
MIN_INTERVAL = 0.2
MAX_INTERVAL = 3600.0


def _finite_interval(value: float) -> float:
    # The range check lets nan through (every comparison with nan is false).
    if value != value:
        raise typer.BadParameter(
            f"not a number; give seconds from {MIN_INTERVAL:g} to {MAX_INTERVAL:g}"
        )
    return value


class WatchSort(StrEnum):
    """The console's row orders (`s` cycles through them)."""

    on = "on"
    name = "name"
    joined = "joined"
    changed = "changed"


@app.command(
    "watch",
    epilog=examples(
        (
            "Host a meeting: the console, refreshed every 2 seconds (q to leave):",
            "vcctl rooms watch abc123 --interval 2",
        ),
        (
            "Follow three parallel sessions in one view, looking only:",
            "vcctl rooms watch abc123 def456 ghi789 --read-only",
        ),
    ),
)
def watch(
    ctx: typer.Context,
    room_ids: Annotated[
        list[str],
        typer.Argument(help="The rooms to watch (one section each).", metavar="ROOM_ID..."),
    ],
    interval: Annotated[
        float,
        typer.Option(
            "--interval",
            min=MIN_INTERVAL,
            max=MAX_INTERVAL,
            callback=_finite_interval,
            help="Seconds between refreshes.",
            metavar="S",
        ),
    ] = 2.0,
    sort: Annotated[
        WatchSort,
        typer.Option(
            "--sort",
            help="Row order: on (video/audio on first, then by name), name, joined, changed "
            "(latest change first).",
            case_sensitive=False,
        ),
    ] = WatchSort.on,
    read_only: Annotated[
        bool,
        typer.Option("--read-only", help="Keys look and move only: m and v send nothing."),
    ] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON line per change instead of a live view.")
    ] = False,
) -> None:
    """Host a meeting: who is in the room, whose video and audio is on.

    On a terminal: a console refreshed every --interval seconds. The
    header counts the participants and how many have video/audio on,
    with the last refresh time and the API's latency. A change keeps
    its mark (+ joined, ~ changed, - left) and its time for at least 30
    seconds; l shows the event log. Several rooms: one section each.

    Keys: arrows, PgUp/PgDn, Home/End scroll; / filters by name; s sorts;
    m mutes everyone in the room (asks y/n); v turns the selected
    participant's video/audio on or off; r refreshes; ? help; q or Ctrl-C
    leaves (exit 0; SIGTERM too, SIGHUP exits 129). m and v need standard
    input to be a terminal, and are off with --read-only. An action goes
    through the usual retries; its outcome, or its failure, shows in the
    log and the view goes on.

    With NO_COLOR: the same console, without colour.

    Off a terminal, with TERM=dumb or --json: one JSON object per line
    on stdout, flushed at once (AT: when vcctl saw it, ISO-8601):
      {"event": "snapshot", "room_id": R, "room": ROOM, "at": AT}  (first)
      {"event": "joined", "room_id": R, "participant": P, "at": AT}
      {"event": "changed", "room_id": R, "participant": P,
       "changes": {"FIELD": [OLD, NEW]}, "at": AT}
      {"event": "left", "room_id": R, "participant": P, "at": AT}
      {"event": "room_changed", "room_id": R, "room": ROOM,
       "changes": {...}, "at": AT}
      {"event": "room_deleted", "room_id": R, "at": AT}  (exit 0 once
       every room watched is deleted)
    ROOM and P are the API's objects as received (P as last seen for left).

    A failed refresh (network, 5xx, 429) does not end the watch: it backs off
    (on 429 as Retry-After asks), keeps the last data marked stale, and in
    JSON mode warns on stderr. If the first refresh of a room fails, the
    watch cannot start: the command ends with that error's exit code.
    """
    from vcctl.cli.context import context_of
    from vcctl.cli.references import resolve_ids
    from vcctl.watch import WatchApis, watch_rooms

    context = context_of(ctx)
    room_ids = resolve_ids(context, room_ids, "room", "ROOM_ID")
    calls_client = context.client(pool_size=2)
    # After the first refresh the watch owns the pacing: one attempt per refresh, 429s included.
    refresh_client = context.client(attempts=1, pool_size=2, rate_limited=False)
    try:
        watch_rooms(
            WatchApis(context.api_over(calls_client), context.api_over(refresh_client)),
            room_ids,
            interval=interval,
            json_mode=json_out,
            sort=sort.value,
            read_only=read_only,
            sightings=context.inventory(),
        )
    finally:
        calls_client.close()
        refresh_client.close()
