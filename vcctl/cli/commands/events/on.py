"""`vcctl events on` (and unmute; activate, hidden): a participant's video and audio on, named
as a host says it."""

import typer

from vcctl.cli.commands.events.activate_video_and_audio import activate
from vcctl.cli.examples import examples

app = typer.Typer()

ON_HELP = "Turn a participant's video and audio on (activate-video-and-audio)."


def on_examples(name: str) -> str:
    return examples(
        (
            "Mute everyone, then let one speaker in:",
            "vcctl events mute-all --room abc123",
            f"vcctl events {name} --room abc123 --participant xyz789",
        ),
    )


app.command("on", help=ON_HELP, epilog=on_examples("on"))(activate)
app.command("unmute", help="Same as on.", epilog=on_examples("unmute"))(activate)
app.command("activate", hidden=True, help=ON_HELP, epilog=on_examples("activate"))(activate)
