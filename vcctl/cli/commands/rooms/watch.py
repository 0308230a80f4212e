"""`vcctl rooms watch`: a console to host meetings from, or their changes as JSON Lines."""

from enum import StrEnum
from typing import Annotated

import typer

from vcctl.cli.context import context_of
from vcctl.cli.examples import examples
from vcctl.cli.references import resolve_ids
from vcctl.watch import WatchApis, watch_rooms

app = typer.Typer()


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
    help=(
        "Host a meeting: who is in the room, whose video and audio is on.\n\n"
        "On a terminal: a console refreshed every --interval seconds. The header counts the "
        "participants and how many have video/audio on, with the last refresh time and the "
        "API's latency. A change keeps its mark (+ joined, ~ changed, - left) and its time "
        "for at least 30 seconds; l shows the event log. Several rooms: one section each.\n\n"
        "Keys: arrows, PgUp/PgDn, Home/End scroll; / filters by name; s sorts; m mutes "
        "everyone in the room (asks y/n); v turns the selected participant's video/audio on "
        "or off; r refreshes; ? help; q or Ctrl-C leaves (exit 0; SIGTERM too, SIGHUP exits "
        "129). m and v need standard input to be a terminal, and are off with --read-only. An "
        "action goes through the usual retries; its outcome, or its failure, shows in the log "
        "and the view goes on.\n\n"
        "With NO_COLOR: the same console, without colour.\n\n"
        "Off a terminal, with TERM=dumb or --json: one JSON object per line on stdout, "
        'flushed at once (AT: when vcctl saw it, ISO-8601): {"event": "snapshot", "room_id": '
        'R, "room": ROOM, "at": AT}  (first) {"event": "joined", "room_id": R, "participant": '
        'P, "at": AT} {"event": "changed", "room_id": R, "participant": P, "changes": '
        '{"FIELD": [OLD, NEW]}, "at": AT} {"event": "left", "room_id": R, "participant": P, '
        '"at": AT} {"event": "room_changed", "room_id": R, "room": ROOM, "changes": {...}, '
        '"at": AT} {"event": "room_deleted", "room_id": R, "at": AT}  (exit 0 once every room '
        "watched is deleted) ROOM and P are the API's objects as received (P as last seen for "
        "left).\n\n"
        "A failed refresh (network, 5xx, 429) does not end the watch: it backs off (on 429 as "
        "Retry-After asks), keeps the last data marked stale, and in JSON mode warns on "
        "stderr. If the first refresh of a room fails, the watch cannot start: the command "
        "ends with that error's exit code."
    ),
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
