"""`vcctl events mute`: one participant's video and audio off; never everyone (mute-all)."""

import shlex
from typing import Annotated

import typer

from vcctl.cli.commands.common import JsonOption
from vcctl.cli.commands.events.send import RoomOption, send_event
from vcctl.cli.examples import examples
from vcctl.errors import UsageError

app = typer.Typer()


@app.command(
    "mute",
    epilog=examples(
        (
            "Mute one participant, or everyone:",
            "vcctl events mute --room abc123 --participant xyz789",
            "vcctl events mute-all --room abc123",
        ),
    ),
)
def mute(
    ctx: typer.Context,
    room: RoomOption,
    participant: Annotated[
        str | None,
        typer.Option(
            "--participant",
            help="Id of the participant (everyone: events mute-all).",
            metavar="PARTICIPANT_ID",
        ),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Same as off: one participant (everyone: mute-all)."""
    if participant is None:
        # Muting a whole meeting is not what a forgotten option should do: it is asked by name.
        raise UsageError(
            "events mute turns one participant off: give --participant PARTICIPANT_ID",
            hint=f"to mute everyone in the room: vcctl events mute-all --room {shlex.quote(room)}",
        )
    send_event(ctx, "desactivate-video-and-audio", room, participant, json_out)
