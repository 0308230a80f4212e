"""`vcctl events off` (deactivate, hidden): a participant's video and audio off, named as a host
says it."""

import typer

from vcctl.cli.commands.events.deactivate_video_and_audio import deactivate
from vcctl.cli.examples import examples

app = typer.Typer()

OFF_HELP = "Turn a participant's video and audio off (deactivate-video-and-audio)."


def off_examples(name: str) -> str:
    return examples(
        (
            "Turn one participant's video and audio off:",
            f"vcctl events {name} --room abc123 --participant xyz789",
        ),
    )


app.command("off", help=OFF_HELP, epilog=off_examples("off"))(deactivate)
app.command("deactivate", hidden=True, help=OFF_HELP, epilog=off_examples("deactivate"))(deactivate)
