"""`vcctl rooms watch`: placeholder until the live view lands."""

from __future__ import annotations

from vcctl.api import Api
from vcctl.errors import UsageError


def watch_room(api: Api, room_id: str, *, interval: float, json_mode: bool) -> None:
    raise UsageError("rooms watch is not available yet")
