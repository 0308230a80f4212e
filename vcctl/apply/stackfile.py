"""Read a stack file (TOML, JSON of the same shape, or TOML text from stdin) and validate it all.

Every problem is collected before anything is reported, so one run shows them all: syntax errors
with line and column, unknown fields with the closest known name, values checked by the same rules
as the commands, wrong types, bad or duplicate keys. Each names the file, the table path and, when
it can be found, the line. Nothing here sends a request.

The top-level `stack` is optional: without it the file's keys are the inventory's plain keys (the
ones `--key` uses). `--prune` needs it, because only a named stack knows what it created earlier.
"""

from __future__ import annotations

import datetime
import difflib
import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vcctl import validate
from vcctl.apply.desired import (
    KEY_PATTERN,
    KEY_RULE,
    RESOURCE_OF,
    DesiredParticipant,
    DesiredRoom,
    DesiredStack,
    managed_fields,
)
from vcctl.apply.locate import line_of, toml_lines
from vcctl.errors import UsageError
from vcctl.resources import Field, Kind

STDIN_SOURCE = "<stdin>"
STACK_FIELD = "stack"
ROOMS_FIELD = "rooms"
PARTICIPANTS_FIELD = "participants"  # a room's table of participants
# Where the file's JSON Schema is (`vcctl apply --schema`), for editors (JSON's usual key, and a
# root key taplo reads): accepted, never used.
SCHEMA_FIELD = "$schema"
TOP_LEVEL_FIELDS = (STACK_FIELD, ROOMS_FIELD, SCHEMA_FIELD)
# The schema-error hint: where the fields are described.
FIELDS_HINT = (
    "the fields are listed under STACK FILE in 'vcctl apply --help'; 'vcctl apply --schema' "
    "prints them as a JSON Schema for editors"
)
_TOML_POSITION = re.compile(r"^(?P<message>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)$")

TablePath = tuple[str, ...]

_VALUE_CHECKS: dict[str, Callable[[str, str], str]] = {
    "name": validate.name,
    "color": validate.color,
    "language": validate.language,
    "identifier": validate.identifier,
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a stack file; its message names the table path."""

    source: str
    message: str
    path: str = ""  # dotted table path, such as rooms.board.participants.ada.language
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


class StackFileError(UsageError):
    """The stack file is not valid: exit 2, nothing sent. `problems` lists each one."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        if len(problems) == 1:
            message = f"invalid stack file {problems[0]}"
        else:
            details = "; ".join(str(problem) for problem in problems)
            message = f"{len(problems)} problems in stack file {source}: {details}"
        super().__init__(message, hint=FIELDS_HINT)


def load(path: str, *, stdin_text: str | None = None) -> DesiredStack:
    """Read and validate FILE; `-` means TOML text the caller read from standard input."""
    if path == "-":
        if stdin_text is None:
            raise ValueError("path '-' needs the text read from standard input")
        return parse_toml(stdin_text, STDIN_SOURCE)
    suffix = Path(path).suffix.lower()
    if suffix not in (".toml", ".json"):
        raise UsageError(
            f"cannot tell the format of {path}: a stack file ends in .toml or .json",
            hint="use '-f -' to read TOML from standard input",
        )
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise StackFileError(path, [Problem(path, "not valid UTF-8 text", line=line)]) from None
    return parse_json(text, path) if suffix == ".json" else parse_toml(text, path)


def parse_toml(text: str, source: str) -> DesiredStack:
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StackFileError(source, [_toml_syntax_problem(source, str(exc))]) from None
    lines = toml_lines(text)
    return _Validator(source, lambda path: line_of(lines, path)).stack(data)


def parse_json(text: str, source: str) -> DesiredStack:
    text = text.removeprefix("\ufeff")
    try:
        data = json.loads(text, object_pairs_hook=_JsonObject.from_pairs)
    except json.JSONDecodeError as exc:
        problem = Problem(source, f"invalid JSON: {exc.msg}", line=exc.lineno, column=exc.colno)
        raise StackFileError(source, [problem]) from None
    return _Validator(source, lambda path: None).stack(data)


def parse_data(data: Any, source: str) -> DesiredStack:
    """Validate an already parsed document (a dict shaped like the TOML file)."""
    return _Validator(source, lambda path: None).stack(data)


class _JsonObject(dict[str, Any]):
    """A JSON object that remembers the keys it was given more than once."""

    duplicates: tuple[str, ...] = ()

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, Any]]) -> _JsonObject:
        obj = cls()
        seen: list[str] = []
        for key, value in pairs:
            if key in obj and key not in seen:
                seen.append(key)
            obj[key] = value
        obj.duplicates = tuple(seen)
        return obj


def _toml_syntax_problem(source: str, error: str) -> Problem:
    match = _TOML_POSITION.match(error)
    if match is None:
        return Problem(source, f"invalid TOML: {error}")
    return Problem(
        source,
        f"invalid TOML: {match['message']}",
        line=int(match["line"]),
        column=int(match["column"]),
    )


def value_problem(field: Field, value: Any, where: str) -> str | None:
    """What is wrong with `value` for `field` (named `where` in the message), by the commands'
    own rules; None when it is fine."""
    if field.is_boolean:
        return (
            None
            if isinstance(value, bool)
            else f"{where} must be true or false, not {describe(value)}"
        )
    if not isinstance(value, str):
        return f"{where} must be a string, not {describe(value)}"
    try:
        _VALUE_CHECKS[field.kind](value, where)
    except UsageError as exc:
        return exc.message
    return None


def dotted(path: TablePath) -> str:
    """A table path as people read it; a part that is not a bare key is quoted."""
    return ".".join(
        part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else json.dumps(part) for part in path
    )


def describe(value: Any) -> str:
    """The TOML/JSON type of a value, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime.date | datetime.time):
        return "a date or time"
    return type(value).__name__


class _Validator:
    def __init__(self, source: str, locate: Callable[[TablePath], int | None]) -> None:
        self.source = source
        self.locate = locate
        self.problems: list[Problem] = []

    def problem(self, path: TablePath, message: str) -> None:
        self.problems.append(Problem(self.source, message, dotted(path), self.locate(path)))

    def stack(self, data: Any) -> DesiredStack:
        self.duplicates(data, ())
        if not isinstance(data, dict):
            self.problem((), f"expected a table of rooms at the top, not {describe(data)}")
            raise StackFileError(self.source, self.problems)
        self.unknown_fields(data, (), TOP_LEVEL_FIELDS)
        where = data.get(SCHEMA_FIELD)
        if where is not None and not isinstance(where, str):
            self.problem((SCHEMA_FIELD,), f"{SCHEMA_FIELD} must be a string, not {describe(where)}")
        stack = data.get("stack")
        if stack is not None and not isinstance(stack, str):
            self.problem(("stack",), f"stack must be a string, not {describe(stack)}")
            stack = None
        elif isinstance(stack, str) and not KEY_PATTERN.fullmatch(stack):
            self.problem(("stack",), f"invalid stack name {stack!r}: {KEY_RULE}")
        rooms: dict[str, DesiredRoom] = {}
        for key, table in self.tables(data.get(ROOMS_FIELD, {}), (ROOMS_FIELD,)):
            rooms[key] = self.room(key, table)
        if self.problems:
            raise StackFileError(self.source, sorted(self.problems, key=_position))
        return DesiredStack(stack=stack, rooms=rooms, source=self.source)

    def room(self, key: str, table: dict[str, Any]) -> DesiredRoom:
        path = ("rooms", key)
        fields = self.fields("room", table, path, extra=(PARTICIPANTS_FIELD,))
        participants: dict[str, DesiredParticipant] = {}
        for participant_key, participant in self.tables(
            table.get(PARTICIPANTS_FIELD, {}), (*path, PARTICIPANTS_FIELD)
        ):
            participant_path = (*path, PARTICIPANTS_FIELD, participant_key)
            participants[participant_key] = DesiredParticipant(
                key=participant_key,
                fields=self.fields("participant", participant, participant_path),
                line=self.locate(participant_path),
            )
        return DesiredRoom(key, fields, participants, line=self.locate(path))

    def tables(self, value: Any, path: TablePath) -> list[tuple[str, dict[str, Any]]]:
        """The keyed tables under `path` (rooms, or a room's participants) with valid keys."""
        if not isinstance(value, dict):
            self.problem(
                path, f"{dotted(path)} must be a table of keyed tables, not {describe(value)}"
            )
            return []
        found = []
        for key, table in value.items():
            child = (*path, key)
            if not KEY_PATTERN.fullmatch(key):
                self.problem(child, f"invalid key {key!r} in {dotted(path)}: {KEY_RULE}")
            if not isinstance(table, dict):
                self.problem(child, f"{dotted(child)} must be a table, not {describe(table)}")
            else:  # checked even under a bad key, so that one run reports every problem
                found.append((key, table))
        return found

    def fields(
        self, kind: Kind, table: dict[str, Any], path: TablePath, extra: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        resource = RESOURCE_OF[kind]
        known = managed_fields(kind)
        self.unknown_fields(table, path, known + extra)
        fields: dict[str, Any] = {}
        for name in known:  # the resource's own order: the order requests send them in
            if name in table:
                checked = self.value(resource.field(name), table[name], (*path, name))
                if checked is not None:
                    fields[name] = checked
            elif resource.field(name).required_on_create:
                self.problem(path, f"{dotted(path)} has no {name}: a {kind} needs one")
        return fields

    def value(self, field: Field, value: Any, path: TablePath) -> Any:
        problem = value_problem(field, value, dotted(path))
        if problem is not None:
            self.problem(path, problem)
            return None
        # '#FFF' or 'EN' in the file is sent, and compared, in the API's spelling.
        return value if field.is_boolean else _VALUE_CHECKS[field.kind](value, dotted(path))

    def unknown_fields(
        self, table: dict[str, Any], path: TablePath, known: tuple[str, ...]
    ) -> None:
        for name in table:
            if name in known:
                continue
            where = dotted((*path, name))
            # $schema is for editors: never what someone who mistyped a field meant.
            shown = tuple(field for field in known if field != SCHEMA_FIELD)
            close = difflib.get_close_matches(name, shown, n=1)
            suggestion = f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(shown)
            self.problem((*path, name), f"unknown field {where} ({suggestion})")

    def duplicates(self, value: Any, path: TablePath) -> None:
        if isinstance(value, dict):
            for key in getattr(value, "duplicates", ()):
                self.problem((*path, key), f"duplicate key {dotted((*path, key))}")
            for key, child in value.items():
                self.duplicates(child, (*path, key))
        elif isinstance(value, list):
            for child in value:
                self.duplicates(child, path)


def _position(problem: Problem) -> int:
    return problem.line if problem.line is not None else 0
