"""`vcctl events mute-all`: every participant of a room muted."""

import typer

from vcctl.cli.commands.common import JsonOption
from vcctl.cli.commands.events.send import RoomOption, send_event
from vcctl.cli.examples import examples

app = typer.Typer()


@app.command(
    "mute-all",
    epilog=examples(
        ("Mute everyone in a room:", "vcctl events mute-all --room abc123"),
    ),
)
def mute_all(ctx: typer.Context, room: RoomOption, json_out: JsonOption = False) -> None:
    """Mute every participant of a room."""
    send_event(ctx, "mute-all", room, None, json_out)
