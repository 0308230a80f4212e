"""What the `vcctl events` commands share: their options, and sending one event."""

from __future__ import annotations

from typing import Annotated

import typer

from vcctl.cli.context import context_of
from vcctl.cli.references import resolve_id
from vcctl.output import streams, views

RoomOption = Annotated[str, typer.Option("--room", help="Id of the room.", metavar="ROOM_ID")]
ParticipantOption = Annotated[
    str, typer.Option("--participant", help="Id of the participant.", metavar="PARTICIPANT_ID")
]


def send_event(
    ctx: typer.Context, event: str, room: str, participant: str | None, json_out: bool
) -> None:
    """Send `event` (the API's name) to a room, or to one participant of it, and report it."""
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
