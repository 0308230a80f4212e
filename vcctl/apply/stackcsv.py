"""Stacks as spreadsheets write them: a rooms CSV and a participants CSV, read and written.

`vcctl apply -f rooms.csv -f participants.csv --stack NAME` declares the same stack as the TOML
form: a rooms file has a `key` column and the room fields (`name`, `color`); a participants file
has a `room` column (the key of a room of the rooms files), its own `key` and the participant
fields (`username`, `language`, `video_and_audio_on`). Which file is which is told by its header:
a `room` column makes it a participants file, any other a rooms file. The CSV is read by the
batch reader (`vcctl.batch.rows.RowSource`), with the batch files' spreadsheet rules: header
names trimmed and matched without regard to case, `,`/`;`/tab found from the header row, columns
starting with `#` not read, a BOM and CRLF line ends accepted. An empty cell is a field the file
does not give (and so does not manage).

Every problem of every file is collected before any is reported, each with its file, line and
column (`rooms.csv:3:2: invalid color ...`); nothing here sends a request. `write_pair` is the
other way: the CSV text of an exported stack document, which reads back as the same stack.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Collection, Mapping, Sequence
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
from vcctl.apply.stackfile import Problem, StackFileError, value_problem
from vcctl.batch.rows import RowSource
from vcctl.errors import UsageError
from vcctl.resources import KEY_COLUMN, Kind

ROOM_COLUMN = "room"  # a participants file's column naming the row's room by its key
ROOM_COLUMNS = (KEY_COLUMN, *managed_fields("room"))
PARTICIPANT_COLUMNS = (ROOM_COLUMN, KEY_COLUMN, *managed_fields("participant"))
FILE_NAMES: dict[Kind, str] = {"room": "rooms.csv", "participant": "participants.csv"}


def is_csv(path: str) -> bool:
    return Path(path).suffix.lower() == ".csv"


@dataclass(frozen=True)
class _Row:
    """One checked row: its key and fields and, for a participant, its room's key; the column
    numbers are for messages."""

    line: int
    key: str
    fields: dict[str, Any]
    room: str | None
    key_column: int | None
    room_column: int | None


@dataclass
class _Read:
    path: str
    kind: Kind
    rows: list[_Row]
    declared: set[str]  # every valid key of its rows, including rows with other problems


def load(
    paths: Sequence[str],
    *,
    stack: str | None,
    delimiter: str | None = None,
    ignore_columns: Collection[str] = (),
) -> DesiredStack:
    """The stack the CSV files declare (StackFileError listing every problem; exit 2).
    `delimiter` and `ignore_columns` as for batch files (`--delimiter`, `--ignore-columns`)."""
    if stack is not None and not KEY_PATTERN.fullmatch(stack):
        raise UsageError(f"invalid --stack {stack!r}: {KEY_RULE}")
    problems: list[Problem] = []
    files = [_read(path, problems, delimiter, ignore_columns) for path in paths]
    rooms: dict[str, tuple[str, int, dict[str, Any]]] = {}
    for read in files:
        if read.kind == "room":
            for row in read.rows:
                if row.key in rooms:
                    first_path, first_line, _ = rooms[row.key]
                    problems.append(
                        Problem(
                            read.path,
                            f"duplicate room key {row.key!r} (first at {first_path}:{first_line})",
                            line=row.line,
                            column=row.key_column,
                        )
                    )
                else:
                    rooms[row.key] = (read.path, row.line, row.fields)
    people: dict[str, dict[str, DesiredParticipant]] = {key: {} for key in rooms}
    # A participant of a room whose row has a problem of its own is not reported again.
    declared = {key for read in files if read.kind == "room" for key in read.declared}
    firsts: dict[tuple[str, str], str] = {}
    for read in files:
        if read.kind != "participant":
            continue
        for row in read.rows:
            room, key = row.room, row.key
            assert room is not None
            if room in declared and room not in rooms:
                continue
            if room not in rooms:
                close = difflib.get_close_matches(room, sorted(declared), n=1)
                hint = (
                    f"did you mean {close[0]!r}?" if close else "it must be a key of a rooms file"
                )
                problems.append(
                    Problem(
                        read.path,
                        f"{ROOM_COLUMN} {room!r} names no room of the rooms files ({hint})",
                        line=row.line,
                        column=row.room_column,
                    )
                )
                continue
            if key in people[room]:
                problems.append(
                    Problem(
                        read.path,
                        f"duplicate participant key {key!r} in room {room!r} "
                        f"(first at {firsts[(room, key)]})",
                        line=row.line,
                        column=row.key_column,
                    )
                )
                continue
            firsts[(room, key)] = f"{read.path}:{row.line}"
            people[room][key] = DesiredParticipant(key, row.fields, line=row.line)
    if problems:
        order = {path: index for index, path in enumerate(paths)}
        problems.sort(key=lambda p: (order.get(p.source, 0), p.line or 0, p.column or 0))
        raise StackFileError(", ".join(paths), problems)
    return DesiredStack(
        stack=stack,
        rooms={
            key: DesiredRoom(key, fields, people[key], line=line)
            for key, (_, line, fields) in rooms.items()
        },
        source=", ".join(paths),
    )


def kind_of(columns: Sequence[str]) -> Kind:
    """What a file holds, from its header's names (as the batch reader reads them)."""
    return "participant" if ROOM_COLUMN in columns else "room"


def _read(
    path: str, problems: list[Problem], delimiter: str | None, ignore_columns: Collection[str]
) -> _Read:
    reading: dict[str, Any] = {"delimiter": delimiter, "ignore_columns": ignore_columns}
    peek = RowSource("rooms", path, {}, check_header=False, **reading)
    try:
        kind = kind_of(peek.columns)
    finally:
        peek.close()
    allowed = PARTICIPANT_COLUMNS if kind == "participant" else ROOM_COLUMNS
    source = RowSource(RESOURCE_OF[kind].noun, path, {}, columns=allowed, **reading)
    read = _Read(path, kind, [], set())
    try:
        columns = source.columns
        numbers = {name: index for index, name in enumerate(columns, start=1) if name}
        required = (KEY_COLUMN, *RESOURCE_OF[kind].required)
        required = tuple(name for name in required if name != RESOURCE_OF[kind].parent_field)
        missing = [name for name in required if name not in numbers]
        if missing:
            names = " or ".join(repr(name) for name in missing)
            problems.append(Problem(path, f"no {names} column: a {kind}s file needs one", line=1))
            return read
        for line, record in source.records():
            if isinstance(record, UsageError):
                problems.append(Problem(path, record.message, line=line))
                continue
            key = record.get(KEY_COLUMN)
            if isinstance(key, str) and KEY_PATTERN.fullmatch(key):
                read.declared.add(key)
            row = _row(path, kind, line, record, numbers, problems)
            if row is not None:
                read.rows.append(row)
    finally:
        source.close()
    return read


def _row(
    path: str,
    kind: Kind,
    line: int,
    record: dict[str, Any],
    numbers: Mapping[str, int],
    problems: list[Problem],
) -> _Row | None:
    before = len(problems)

    def problem(message: str, column: str | None) -> None:
        number = None if column is None else numbers.get(column)
        problems.append(Problem(path, message, line=line, column=number))

    key = record.pop(KEY_COLUMN, None)
    room = record.pop(ROOM_COLUMN, None) if kind == "participant" else None
    if not isinstance(key, str):
        problem(f"no {KEY_COLUMN}: every row names its {kind} by a key", KEY_COLUMN)
    elif not KEY_PATTERN.fullmatch(key):
        problem(f"invalid {kind} key {key!r}: {KEY_RULE}", KEY_COLUMN)
    if kind == "participant" and not isinstance(room, str):
        problem(f"no {ROOM_COLUMN}: the key of the participant's room", ROOM_COLUMN)
    resource = RESOURCE_OF[kind]
    fields: dict[str, Any] = {}
    for name in managed_fields(kind):
        if name not in record:
            if resource.field(name).required_on_create:
                problem(f"no {name}: a {kind} needs one", name)
            continue
        field = resource.field(name)
        found = value_problem(field, record[name], name)
        if found is not None:
            problem(found, name)
        elif field.is_boolean:
            fields[name] = record[name]
        else:  # '#FFF' or 'EN' is sent, and compared, in the API's spelling
            fields[name] = validate.CHECKS[field.kind](record[name], name)
    if len(problems) > before:
        return None
    assert isinstance(key, str)
    return _Row(
        line,
        key,
        fields,
        room if isinstance(room, str) else None,
        numbers.get(KEY_COLUMN),
        numbers.get(ROOM_COLUMN),
    )


# -- export ---------------------------------------------------------------------------------


def write_pair(document: Mapping[str, Any]) -> dict[Kind, str]:
    """The rooms and participants CSV text of a stack document (as `export_stack` builds it):
    comma-separated, a header of every column, `true`/`false` for booleans, an empty cell for a
    field the document leaves out. Both files always have their header, so the pair reads back
    as the same stack even with no participant."""
    rooms = io.StringIO()
    people = io.StringIO()
    room_writer = csv.writer(rooms, lineterminator="\n")
    people_writer = csv.writer(people, lineterminator="\n")
    room_writer.writerow(ROOM_COLUMNS)
    people_writer.writerow(PARTICIPANT_COLUMNS)
    for key, table in document.get("rooms", {}).items():
        room_writer.writerow([key, *(_cell(table.get(name)) for name in ROOM_COLUMNS[1:])])
        for person_key, person in table.get("participants", {}).items():
            people_writer.writerow(
                [key, person_key, *(_cell(person.get(name)) for name in PARTICIPANT_COLUMNS[2:])]
            )
    return {"room": rooms.getvalue(), "participant": people.getvalue()}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
