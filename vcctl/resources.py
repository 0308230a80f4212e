"""What vcctl knows about each kind of API resource, written once.

Validation (single commands, batch rows, apply files), batch input columns, the output views, the
watch view, the inventory and apply all read their field knowledge from here: which fields a
resource has, in which order they are sent, which a create requires, which are booleans, what the
API assumes for one left out, which one names the resource for people, and which columns a table
shows. The `--from-file` columns are described from here too (in `--help`, the man pages and the
README), so that what the help says and what the batch reader accepts cannot drift apart.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Noun = Literal["rooms", "participants"]
# What a resource is, in the singular: the inventory's records and keys and apply's entries say it.
Kind = Literal["room", "participant"]
FieldKind = Literal["name", "identifier", "color", "language", "boolean"]


class Field(NamedTuple):
    """One field of a resource's body, as the API names it."""

    name: str
    kind: FieldKind
    option: str  # how the command line spells it
    help: str
    required_on_create: bool = False
    default_on_create: str | bool | None = None  # what the API assumes when it is left out
    fills_rows: bool = False  # with --from-file, the option fills the rows that leave it out

    @property
    def is_boolean(self) -> bool:
        return self.kind == "boolean"


class Column(NamedTuple):
    """One column of a table of this resource: the API field and its header."""

    field: str
    header: str


class Resource(NamedTuple):
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
        Field(
            "color",
            "color",
            "--color",
            "Colour, such as '#1e90ff' or '#fff'.",
            default_on_create="#5f5f5f",
        ),
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
        Field(
            "room_id",
            "identifier",
            "--room",
            "The room's id.",
            required_on_create=True,
            fills_rows=True,
        ),
        Field("username", "name", "--username", "The participant's name.", required_on_create=True),
        Field(
            "language",
            "language",
            "--language",
            "Two-letter language code, such as 'fr'.",
            default_on_create="fr",
            fills_rows=True,
        ),
        Field(
            "video_and_audio_on",
            "boolean",
            "--video-and-audio/--no-video-and-audio",
            "Whether video and audio are on.",
            default_on_create=True,
            fills_rows=True,
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
RESOURCE_OF_KIND: dict[Kind, Resource] = {"room": ROOM, "participant": PARTICIPANT}


# -- `--from-file` input: the columns of a CSV header, the fields of a JSON Lines object

KEY_COLUMN = "key"  # not an API field: the row's key in the inventory, as --key gives it
BOOLEAN_TRUE = ("true", "1", "yes")  # how a CSV cell spells a boolean (in any case)
BOOLEAN_FALSE = ("false", "0", "no")


def boolean_spellings() -> str:
    """The accepted CSV spellings of a boolean, for help and error messages."""
    pairs = [f"{yes}/{no}" for yes, no in zip(BOOLEAN_TRUE, BOOLEAN_FALSE, strict=True)]
    return ", ".join(pairs[:-1]) + " or " + pairs[-1]


def _listed(items: list[str]) -> str:
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def _shown(value: str | bool) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else value


def _when_left_out(field: Field, code: str = "") -> str:
    """What a row that leaves `field` out gets: the option's value, else the API's default
    (`code` quotes option names and values, as Markdown does)."""
    option = f"{code}{field.option}{code}"
    if field.required_on_create:
        return f"{option}, else the row is refused" if field.fills_rows else "the row is refused"
    default = field.default_on_create
    api = "" if default is None else f"the API uses {code}{_shown(default)}{code}"
    if field.fills_rows:
        return f"{option}, else {api}" if api else option
    return api or "not sent"


def _key_note(resource: Resource) -> str:
    scope = "; participant keys are scoped by room" if resource.parent_field else ""
    return f"the row's key in the inventory, as --key gives it{scope}; once per file"


def from_file_help(noun: Noun) -> str:
    """Paragraphs for `NOUN create --help` and its man page: the columns `--from-file` takes."""
    resource = RESOURCES[noun]
    described = []
    for field in resource.fields:
        if field.required_on_create:
            note = f"required unless {field.option} is given" if field.fills_rows else "required"
        else:
            note = f"if left out: {_when_left_out(field)}"
        described.append(f"{field.name} ({note})")
    described.append(f"{KEY_COLUMN} (optional: {_key_note(resource)})")
    text = (
        "--from-file reads a .csv file whose header row names the columns, or JSON Lines "
        "(.jsonl, .ndjson, or - for standard input) whose objects name the same fields: "
        + "; ".join(described)
        + ". An empty cell or a JSON null leaves a field out. CSV header names are matched in "
        "any case, the delimiter (comma, semicolon or tab) is the header row's, columns starting "
        "with # are not read; every row is checked before the first is sent."
    )
    filled = [field.option for field in resource.fields if field.fills_rows]
    if filled:
        text += f" {_listed(filled)} fill what a row leaves out; a row's own value wins."
    if resource.boolean_fields:
        text += f"\n\nIn CSV a boolean is {boolean_spellings()} (any case); in JSON, true or false."
    return text


def from_file_markdown() -> str:
    """The README's tables of `--from-file` columns (a test checks the README holds this text)."""
    blocks = []
    for resource in RESOURCES.values():
        rows = [
            f"`vcctl {resource.noun} create --from-file`:",
            "",
            "| column or field | required | when a row leaves it out |",
            "|---|---|---|",
        ]
        for field in resource.fields:
            required = "yes" if field.required_on_create else "no"
            if field.required_on_create and field.fills_rows:
                required = f"yes, unless `{field.option}` is given"
            rows.append(f"| `{field.name}` | {required} | {_when_left_out(field, '`')} |")
        rows.append(f"| `{KEY_COLUMN}` | no | no inventory key |")
        blocks.append("\n".join(rows))
    participant = RESOURCES["participants"]
    filled = [f"`{field.option}`" for field in participant.fields if field.fills_rows]
    notes = [
        f"`{KEY_COLUMN}` is {_key_note(participant).replace('--key', '`--key`')}.",
        f"{_listed(filled)} fill what a participants row leaves out; a row's own value wins.",
        "An empty cell or a JSON null leaves a field out.",
        f"A CSV boolean is {boolean_spellings()} (any case); a JSON one, true or false.",
    ]
    blocks.append("\n".join(notes))
    return "\n\n".join(blocks)
