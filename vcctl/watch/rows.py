"""What the meeting console lists: each room's section (its state, markers, who left, actions
under way), the rows and headings of the list, and the orders it can sort them in.

Pure data and functions, shared by the console's state (vcctl.watch.console) and its drawing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from vcctl.watch.changes import WatchState
from vcctl.watch.story import Tone

SORTS = ("on", "name", "joined", "changed")
SORT_HELP = {
    "on": "video/audio on first, then by name",
    "name": "by name",
    "joined": "by when they joined",
    "changed": "latest change first",
}


@dataclass(frozen=True)
class Marker:
    kind: Literal["joined", "changed", "left"]
    at: datetime  # when vcctl saw the change
    fields: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LogEntry:
    at: datetime
    room_id: str | None
    text: str
    tone: Tone = "info"


@dataclass
class Section:
    """One room: its latest state (a copy, replaced on each refresh), markers, who left."""

    state: WatchState
    markers: dict[str, Marker] = field(default_factory=dict)
    departed: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> last seen
    room_marker: Marker | None = None
    pending: dict[str, str] = field(default_factory=dict)  # participant key -> "on"/"off"
    muting: int = 0  # mute-alls under way

    @property
    def room_id(self) -> str:
        return self.state.room_id

    @property
    def name(self) -> str:
        from vcctl.output.views import cell_text

        return cell_text(self.state.room.get("name")) or self.room_id


@dataclass(frozen=True)
class Row:
    section: int
    key: str
    participant: dict[str, Any]
    marker: Marker | None
    departed: bool


@dataclass(frozen=True)
class Heading:
    section: int
    kind: Literal["header", "status"]


Item = Row | Heading


def is_on(participant: dict[str, Any]) -> bool:
    return participant.get("video_and_audio_on") is True


def username(participant: dict[str, Any]) -> str:
    from vcctl.output.views import cell_text

    return cell_text(participant.get("username"))


def matches(participant: dict[str, Any], wanted: str) -> bool:
    name = participant.get("username")
    identifier = participant.get("id")
    return (isinstance(name, str) and wanted in name.casefold()) or (
        isinstance(identifier, str) and wanted in identifier.casefold()
    )


def _name_key(row: Row) -> tuple[str, str]:
    name = row.participant.get("username")
    return (name.casefold() if isinstance(name, str) else "", row.key)


def _on_key(row: Row) -> tuple[bool, str, str]:
    return (not is_on(row.participant), *_name_key(row))


def _joined_key(row: Row) -> tuple[str, str, str]:
    joined = row.participant.get("created_at")
    return (joined if isinstance(joined, str) else "", *_name_key(row))


def _changed_key(row: Row) -> tuple[float, bool, str, str]:
    latest = -row.marker.at.timestamp() if row.marker is not None else 0.0
    return (latest, *_on_key(row))


SORT_KEYS: dict[str, Any] = {
    "on": _on_key,
    "name": _name_key,
    "joined": _joined_key,
    "changed": _changed_key,
}
