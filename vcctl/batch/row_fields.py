"""One batch row's fields: a CSV row's cells or a JSON Lines object turned into checked API
fields, and the create body made from them (`vcctl.batch.rows` reads the file and its header).

An empty CSV cell and a JSON null are a field not given; booleans in CSV are words
(`resources.BOOLEAN_TRUE`/`BOOLEAN_FALSE`); errors name the file's column.
"""

from __future__ import annotations

import json
from typing import Any

from vcctl import validate
from vcctl.errors import UsageError
from vcctl.resources import (
    BOOLEAN_FALSE,
    BOOLEAN_TRUE,
    KEY_COLUMN,
    RESOURCES,
    Noun,
    boolean_spellings,
)


def row_key(record: dict[str, Any]) -> str | None:
    """Take the key out of a row (it is not sent); an empty cell is no key."""
    key = record.pop(KEY_COLUMN, None)
    if key is None or key == "":
        return None
    if not isinstance(key, str):
        raise UsageError("key must be a string")
    return key


def csv_record(noun: Noun, columns: list[str], cells: list[str]) -> dict[str, Any]:
    """A CSV row as API fields: an empty cell is a field not given; booleans are words."""
    booleans = RESOURCES[noun].boolean_fields
    record: dict[str, Any] = {}
    for name, cell in zip(columns, cells, strict=True):
        if not name:
            continue  # a column left out (a note, --ignore-columns)
        validate.text(cell, name)
        if cell == "":
            continue
        record[name] = _csv_boolean(name, cell) if name in booleans else cell
    return record


def _csv_boolean(name: str, cell: str) -> bool:
    word = cell.strip().lower()
    if word in BOOLEAN_TRUE:
        return True
    if word in BOOLEAN_FALSE:
        return False
    raise UsageError(f"invalid {name} {cell!r}: expected {boolean_spellings()}")


def jsonl_record(noun: Noun, text: str, known: tuple[str, ...]) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except RecursionError:
        raise UsageError("not valid JSON: nested too deeply") from None
    except ValueError as exc:
        reason = getattr(exc, "msg", str(exc))
        column = getattr(exc, "colno", None)
        raise UsageError(
            f"not valid JSON: {reason}" + (f" (column {column})" if column else "")
        ) from None
    if not isinstance(data, dict):
        raise UsageError(f"expected a JSON object, not {_json_type(data)}")
    booleans = RESOURCES[noun].boolean_fields
    unknown = [str(key) for key in data if key not in known]
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        raise UsageError(
            f"unknown field{'s' if len(unknown) > 1 else ''} {names} for {noun} "
            f"(known: {', '.join(known)})"
        )
    record: dict[str, Any] = {}
    for name, value in data.items():
        if value is None:
            continue  # like an empty CSV cell: not given
        expected = bool if name in booleans else str
        if not isinstance(value, expected):
            wanted = "true or false" if expected is bool else "a string"
            raise UsageError(f"{name} must be {wanted}, not {_json_type(value)}")
        if isinstance(value, str):
            validate.text(value, name)
        record[name] = value
    return record


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        int: "a number",
        float: "a number",
    }.get(type(value), "null")


def row_body(noun: Noun, record: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """The create body for one row, checked by the single-row command's rules.

    For participants, the command-line defaults (--room, --language, --[no-]video-and-audio)
    fill the fields a row leaves out; a row's own value wins.
    """
    resource = RESOURCES[noun]
    as_named = {name: name for name in resource.field_names}  # errors name the file's column
    given = validate.body(resource, record, labels=as_named)
    merged = {**defaults, **given}
    missing = [name for name in resource.required if name not in merged]
    if missing:
        raise UsageError(f"missing {' and '.join(missing)}")
    return {name: merged[name] for name in resource.field_names if name in merged}
