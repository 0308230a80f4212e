"""Options of more than one `vcctl participants` command."""

from __future__ import annotations

from typing import Annotated

import typer

UsernameOption = Annotated[
    str | None, typer.Option("--username", help="Name shown in the meeting.", metavar="NAME")
]
RoomOption = Annotated[
    str | None, typer.Option("--room", help="Id of the room.", metavar="ROOM_ID")
]
