"""What vcctl knows about each kind of API resource, written once.

Validation (single commands, batch rows, apply files), batch input columns, the output views, the
watch view, the inventory and apply all read their field knowledge from here: which fields a
resource has, in which order they are sent, which a create requires, which are booleans, which one
names the resource for people, and which columns a table shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Noun = Literal["rooms", "participants"]
FieldKind = Literal["name", "identifier", "color", "language", "boolean"]


@dataclass(frozen=True)
class Field:
    """One field of a resource's body, as the API names it."""

    name: str
    kind: FieldKind
    option: str  # how the command line spells it
    help: str
    required_on_create: bool = False
    default_on_create: str | bool | None = None  # what the API assumes when it is left out

    @property
    def is_boolean(self) -> bool:
        return self.kind == "boolean"


@dataclass(frozen=True)
class Column:
    """One column of a table of this resource: the API field and its header."""

    field: str
    header: str


@dataclass(frozen=True)
class Resource:
    noun: Noun  # the command group and the API path segment: rooms, participants
    singular: str  # room, participant
    fields: tuple[Field, ...]  # in the order they are sent
    label_field: str  # the field that names one for people: a room's name, a participant's username
    columns: tuple[Column, ...]  # a table of several, as `participants list` shows them
    parent_field: str | None = None  # the field holding the id of the resource this one lives in

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.fields)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.fields if field.required_on_create)

    @property
    def boolean_fields(self) -> frozenset[str]:
        return frozenset(field.name for field in self.fields if field.is_boolean)

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(column.header for column in self.columns)

    @property
    def label_headers(self) -> tuple[str, ...]:
        """The header of the column showing the label field (the one a table lets wrap)."""
        return tuple(column.header for column in self.columns if column.field == self.label_field)

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    def label(self, resource: object) -> str:
        """The resource's human name, or '' when the answer has none."""
        if isinstance(resource, dict):
            value = resource.get(self.label_field)
            if isinstance(value, str):
                return value
        return ""


ROOM = Resource(
    noun="rooms",
    singular="room",
    fields=(
        Field("name", "name", "--name", "The room's name.", required_on_create=True),
        Field("color", "color", "--color", "Colour, such as '#1e90ff' or '#fff'."),
    ),
    label_field="name",
    columns=(
        Column("id", "ID"),
        Column("name", "NAME"),
        Column("color", "COLOR"),
        Column("created_at", "CREATED"),
    ),
)

PARTICIPANT = Resource(
    noun="participants",
    singular="participant",
    fields=(
        Field("room_id", "identifier", "--room", "The room's id.", required_on_create=True),
        Field("username", "name", "--username", "The participant's name.", required_on_create=True),
        Field("language", "language", "--language", "Two-letter language code, such as 'fr'."),
        Field(
            "video_and_audio_on",
            "boolean",
            "--video-and-audio/--no-video-and-audio",
            "Whether video and audio are on.",
        ),
    ),
    label_field="username",
    columns=(
        Column("id", "ID"),
        Column("username", "USERNAME"),
        Column("language", "LANGUAGE"),
        Column("video_and_audio_on", "VIDEO/AUDIO"),
        Column("created_at", "CREATED"),
    ),
    parent_field="room_id",
)

RESOURCES: dict[Noun, Resource] = {"rooms": ROOM, "participants": PARTICIPANT}
