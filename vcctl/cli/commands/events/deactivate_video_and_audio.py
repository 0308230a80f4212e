"""`vcctl events deactivate-video-and-audio`: a participant's video and audio off; also under
the API's spelling, desactivate-video-and-audio (hidden)."""

import typer

from vcctl.cli.commands.common import JsonOption
from vcctl.cli.commands.events.send import ParticipantOption, RoomOption, send_event
from vcctl.cli.examples import examples

app = typer.Typer()

EXAMPLES = examples(
    (
        "Turn one participant's video and audio off:",
        "vcctl events deactivate-video-and-audio --room abc123 --participant xyz789",
    ),
)


@app.command("deactivate-video-and-audio", epilog=EXAMPLES)
def deactivate(
    ctx: typer.Context,
    room: RoomOption,
    participant: ParticipantOption,
    json_out: JsonOption = False,
) -> None:
    """Turn a participant's video and audio off (sent as the API's desactivate-video-and-audio)."""
    send_event(ctx, "desactivate-video-and-audio", room, participant, json_out)


app.command("desactivate-video-and-audio", hidden=True, epilog=EXAMPLES)(deactivate)
