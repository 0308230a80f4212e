"""`vcctl events ...`: send events into a live meeting."""

from __future__ import annotations

import shlex
from typing import Annotated

import typer

from vcctl.cli.commands.common import JsonOption
from vcctl.cli.examples import examples
from vcctl.errors import UsageError

app = typer.Typer(help="Send events into a live meeting.", no_args_is_help=True)

RoomOption = Annotated[str, typer.Option("--room", help="Id of the room.", metavar="ROOM_ID")]
ParticipantOption = Annotated[
    str, typer.Option("--participant", help="Id of the participant.", metavar="PARTICIPANT_ID")
]


def _send_event(
    ctx: typer.Context, event: str, room: str, participant: str | None, json_out: bool
) -> None:
    from vcctl.cli.context import context_of
    from vcctl.cli.references import resolve_id
    from vcctl.output import streams, views

    context = context_of(ctx)
    room = resolve_id(context, room, "room", "--room")
    if participant is not None:  # required by the per-participant events' options
        participant = resolve_id(context, participant, "participant", "--participant", room_id=room)
    answer = context.api().send_event(event, room, participant)
    if json_out:
        if answer is not None:
            streams.print_json(answer)
        return
    target = f"participant {participant} in room {room}" if participant else f"room {room}"
    views.show_message(f"sent {event} to {target}")


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
    _send_event(ctx, "activate-video-and-audio", room, participant, json_out)


DEACTIVATE_EXAMPLES = examples(
    (
        "Turn one participant's video and audio off:",
        "vcctl events deactivate-video-and-audio --room abc123 --participant xyz789",
    ),
)


@app.command("deactivate-video-and-audio", epilog=DEACTIVATE_EXAMPLES)
def deactivate(
    ctx: typer.Context,
    room: RoomOption,
    participant: ParticipantOption,
    json_out: JsonOption = False,
) -> None:
    """Turn a participant's video and audio off (sent as the API's desactivate-video-and-audio)."""
    _send_event(ctx, "desactivate-video-and-audio", room, participant, json_out)


app.command("desactivate-video-and-audio", hidden=True, epilog=DEACTIVATE_EXAMPLES)(deactivate)


# -- short names: the same events, named as a host says them ----------------------------------

ON_HELP = "Turn a participant's video and audio on (activate-video-and-audio)."
OFF_HELP = "Turn a participant's video and audio off (deactivate-video-and-audio)."


def on_examples(name: str) -> str:
    return examples(
        (
            "Mute everyone, then let one speaker in:",
            "vcctl events mute-all --room abc123",
            f"vcctl events {name} --room abc123 --participant xyz789",
        ),
    )


def off_examples(name: str) -> str:
    return examples(
        (
            "Turn one participant's video and audio off:",
            f"vcctl events {name} --room abc123 --participant xyz789",
        ),
    )


app.command("on", help=ON_HELP, epilog=on_examples("on"))(activate)
app.command("unmute", help="Same as on.", epilog=on_examples("unmute"))(activate)
app.command("activate", hidden=True, help=ON_HELP, epilog=on_examples("activate"))(activate)
app.command("off", help=OFF_HELP, epilog=off_examples("off"))(deactivate)
app.command("deactivate", hidden=True, help=OFF_HELP, epilog=off_examples("deactivate"))(deactivate)


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
    _send_event(ctx, "desactivate-video-and-audio", room, participant, json_out)


@app.command(
    "mute-all",
    epilog=examples(
        ("Mute everyone in a room:", "vcctl events mute-all --room abc123"),
    ),
)
def mute_all(ctx: typer.Context, room: RoomOption, json_out: JsonOption = False) -> None:
    """Mute every participant of a room."""
    _send_event(ctx, "mute-all", room, None, json_out)
