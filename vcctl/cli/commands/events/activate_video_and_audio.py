"""`vcctl events activate-video-and-audio`: a participant's video and audio on."""

import typer

from vcctl.cli.commands.common import JsonOption
from vcctl.cli.commands.events.send import ParticipantOption, RoomOption, send_event
from vcctl.cli.examples import examples

app = typer.Typer()


@app.command(
    "activate-video-and-audio",
    epilog=examples(
        (
            "Mute everyone, then let one participant speak:",
            "vcctl events mute-all --room abc123",
            "vcctl events activate-video-and-audio --room abc123 --participant xyz789",
        ),
    ),
)
def activate(
    ctx: typer.Context,
    room: RoomOption,
    participant: ParticipantOption,
    json_out: JsonOption = False,
) -> None:
    """Turn a participant's video and audio on."""
    send_event(ctx, "activate-video-and-audio", room, participant, json_out)
