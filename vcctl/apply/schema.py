"""The stack file described once: its JSON Schema (`vcctl apply --schema`, for editors) and the
STACK FILE section of `vcctl apply --help` and vcctl-apply(1).

Both are made from what the validator (`vcctl.apply.stackfile`) checks against: its top-level
and room-table field names, the fields each kind manages (`vcctl.apply.desired`, from
`vcctl.resources`) and the value rules of `vcctl.validate`. So the help, the man page, the schema
and the validator cannot disagree about which fields exist.

The schema declares draft 2020-12 but uses only keywords that mean the same since draft 4
(type, properties, patternProperties, additionalProperties, required, pattern, minLength and a
`$ref` that is a plain JSON pointer): taplo (Even Better TOML) implements draft 4, VS Code's JSON
support 2020-12. Its patterns are in the syntax all three regex engines share (no look-around).
"""

from __future__ import annotations

from typing import Any

from vcctl import validate
from vcctl.apply.desired import KEY_PATTERN, KEY_RULE, RESOURCE_OF, managed_fields
from vcctl.apply.stackfile import PARTICIPANTS_FIELD, ROOMS_FIELD, SCHEMA_FIELD, STACK_FIELD
from vcctl.resources import Field, Kind

DRAFT = "https://json-schema.org/draft/2020-12/schema"
KEY_REGEX = f"^{KEY_PATTERN.pattern}$"
# Text as validate.name accepts it: no control character, and not blank.
_NO_CONTROL = validate.CONTROL.pattern.replace("[", "[^", 1)
_NOT_BLANK = _NO_CONTROL.replace("[^", r"[^\s", 1)
NAME_REGEX = f"^{_NO_CONTROL}*{_NOT_BLANK}{_NO_CONTROL}*$"

INTRO = (
    "A stack file is TOML (or JSON of the same shape) declaring rooms and their participants, "
    "each by a key. Only the fields a file gives are managed: one left out gets the API's "
    "default when it is created and is never changed by apply. An unknown field or a bad value "
    "is refused before anything is sent. 'vcctl apply --schema > stack.schema.json' writes this "
    "description as a JSON Schema, for editors: a first line '#:schema ./stack.schema.json' "
    "makes Even Better TOML (taplo) check and complete the file."
)

# What the value rule adds to a field's own help (vcctl.resources).
_VALUE_TEXT = {
    "name": ": text, not blank, without control characters",
    "identifier": ": an id",
    "color": " (sent as '#rrggbb')",
    "language": " (any case, sent in lower case)",
    "boolean": ": true or false",
}

_VALUE_SCHEMA: dict[str, dict[str, Any]] = {
    "name": {"type": "string", "minLength": 1, "pattern": NAME_REGEX},
    "identifier": {"type": "string", "minLength": 1, "pattern": NAME_REGEX},
    "color": {"type": "string", "pattern": f"^{validate.COLOR_PATTERN.pattern}$"},
    "language": {"type": "string", "pattern": f"^{validate.LANGUAGE_PATTERN.pattern}$"},
    "boolean": {"type": "boolean"},
}


def field_description(kind: Kind, field: Field) -> str:
    """One managed field, as the help and the schema describe it."""
    need = "Required" if field.required_on_create else "Optional"
    text = f"{need}. {field.help.rstrip('.')}{_VALUE_TEXT[field.kind]}."
    default = field.default_on_create
    if default is not None and not field.required_on_create:
        shown = ("true" if default else "false") if isinstance(default, bool) else default
        text += f" Left out, a new {kind} gets the API's default, {shown}."
    return text


STACK_TEXT = (
    f"Optional. The stack's name ({KEY_RULE}), which names this set of resources; --prune "
    "needs it. Without it the file's keys are the inventory's plain keys, those --key uses."
)
ROOMS_TEXT = f"One table per room; KEY is the room's key ({KEY_RULE})."
PARTICIPANTS_TEXT = "One table per participant of the room; KEY is its key within the room."
SCHEMA_TEXT = "Optional. Where this JSON Schema is, for editors; apply ignores it."


def help_entries() -> list[tuple[str, str]]:
    """The STACK FILE section's items: (the field as the file writes it, what it is)."""
    entries = [(STACK_FIELD, STACK_TEXT), (f"[{ROOMS_FIELD}.KEY]", ROOMS_TEXT)]
    entries += [
        (f"{ROOMS_FIELD}.KEY.{name}", field_description("room", RESOURCE_OF["room"].field(name)))
        for name in managed_fields("room")
    ]
    entries.append((f"[{ROOMS_FIELD}.KEY.{PARTICIPANTS_FIELD}.KEY]", PARTICIPANTS_TEXT))
    participant = RESOURCE_OF["participant"]
    entries += [
        (
            f"{ROOMS_FIELD}.KEY.{PARTICIPANTS_FIELD}.KEY.{name}",
            field_description("participant", participant.field(name)),
        )
        for name in managed_fields("participant")
    ]
    entries.append((SCHEMA_FIELD, SCHEMA_TEXT))
    return entries


def _kind_schema(kind: Kind, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    resource = RESOURCE_OF[kind]
    properties: dict[str, Any] = {}
    for name in managed_fields(kind):
        field = resource.field(name)
        properties[name] = {
            "description": field_description(kind, field),
            **_VALUE_SCHEMA[field.kind],
        }
    properties.update(extra or {})
    return {
        "type": "object",
        "description": f"A {kind}, by its key.",
        "properties": properties,
        "required": [
            name for name in managed_fields(kind) if resource.field(name).required_on_create
        ],
        "additionalProperties": False,
    }


def _keyed(description: str, ref: str) -> dict[str, Any]:
    """A table of keyed tables: keys by the key rule, each table a `ref`."""
    return {
        "type": "object",
        "description": description,
        "patternProperties": {KEY_REGEX: {"$ref": ref}},
        "additionalProperties": False,
    }


def json_schema() -> dict[str, Any]:
    """The stack file as a JSON Schema (draft 2020-12)."""
    participants = _keyed(PARTICIPANTS_TEXT, "#/$defs/participant")
    return {
        "$schema": DRAFT,
        "title": "vcctl stack file",
        "description": INTRO,
        "type": "object",
        "properties": {
            SCHEMA_FIELD: {"type": "string", "description": SCHEMA_TEXT},
            STACK_FIELD: {"type": "string", "description": STACK_TEXT, "pattern": KEY_REGEX},
            ROOMS_FIELD: _keyed(ROOMS_TEXT, "#/$defs/room"),
        },
        "additionalProperties": False,
        "$defs": {
            "room": _kind_schema("room", {PARTICIPANTS_FIELD: participants}),
            "participant": _kind_schema("participant"),
        },
    }
