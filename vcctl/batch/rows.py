"""Batch input: reading rows from a CSV or JSON Lines file (or stdin) into checked create bodies.

Rows are streamed (memory stays flat whatever the file's length) and each is checked by the
single-row command's rules (`vcctl.validate`); a bad row becomes a `Row` carrying its error, so
that it is reported with its line number without stopping the others.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, Literal

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

Format = Literal["csv", "jsonl"]

EXTENSIONS: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass(frozen=True)
class Row:
    """One input row: the body to send, or why it cannot be sent."""

    line: int
    body: dict[str, Any] | None = None
    error: UsageError | None = None
    key: str | None = None  # the row's name in the inventory (its `key` column or field)


class RowSource:
    """The input file, opened and (for CSV) its header checked; rows are read on demand."""

    def __init__(self, noun: Noun, source: str, defaults: dict[str, Any]) -> None:
        self.noun = noun
        self.defaults = defaults
        self.label = "standard input" if source == "-" else source
        self.format, self._binary, self.size = _open_binary(source)
        self._owned = source != "-"
        # JSON Lines end at "\n" only (so line numbers match editors); csv wants newline="".
        self._text = io.TextIOWrapper(
            self._binary,
            encoding="utf-8-sig",
            errors="surrogateescape",
            newline="" if self.format == "csv" else "\n",
        )
        self._consumed = 0
        self.lines_read = 0  # physical lines taken from the input so far
        self._columns: list[str] = []
        self._csv: Any = None
        try:
            if self.format == "csv":
                self._read_header()
        except BaseException:
            self.close()
            raise

    @property
    def keyed(self) -> bool:
        """Whether the CSV header has a key column (JSON Lines rows tell one by one)."""
        return KEY_COLUMN in self._columns

    def position(self) -> int | None:
        """Bytes of the file read so far, for the progress bar (None when the size is unknown)."""
        return None if self.size is None else self._consumed

    def rows(self) -> Iterator[Row]:
        records = self._csv_records() if self.format == "csv" else self._jsonl_records()
        for line, record in records:
            if isinstance(record, UsageError):
                yield Row(line, error=record)
                continue
            try:
                key = _row_key(record)
                yield Row(line, body=row_body(self.noun, record, self.defaults), key=key)
            except UsageError as exc:
                yield Row(line, error=exc)

    def last_line(self) -> int | None:
        """The number of the input's last line, reading what is left of a regular file (after a
        stop, to say which lines were not sent); None for a stream, whose end is unknown."""
        if self.size is None:
            return None
        with contextlib.suppress(OSError, ValueError):
            for _ in self._lines():
                pass
        return self.lines_read

    def close(self) -> None:
        if self._owned:
            self._text.close()
        else:
            # Standard input belongs to the process: let go of it without closing it.
            with contextlib.suppress(ValueError):
                self._text.detach()

    def _lines(self) -> Iterator[str]:
        for text in self._text:
            self._consumed += len(text.encode("utf-8", "surrogateescape"))
            self.lines_read += 1
            yield text

    # -- CSV

    def _read_header(self) -> None:
        self._csv = csv.reader(self._lines())
        try:
            header = next(self._csv)
        except StopIteration:
            raise UsageError(
                f"{self.label} is empty: expected a header row of {_columns(self.noun)}"
            ) from None
        except csv.Error as exc:
            raise UsageError(f"{self.label}: line 1: not valid CSV: {exc}") from None
        self._columns = [name.strip() for name in header]
        problem = _header_problem(self.noun, self._columns, self.defaults)
        if problem:
            raise UsageError(
                f"{self.label}: line 1: {problem}",
                hint=f"the header row names the API's fields: {_columns(self.noun)} (and "
                f"optionally {KEY_COLUMN}); see 'vcctl {self.noun} create --help'",
            )

    def _csv_records(self) -> Iterator[tuple[int, dict[str, Any] | UsageError]]:
        reader = self._csv
        previous = reader.line_num
        while True:
            try:
                cells: list[str] = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield previous + 1, UsageError(f"not valid CSV: {exc}")
                if reader.line_num == previous:
                    return  # the reader cannot get past it
                previous = reader.line_num
                continue
            line, previous = previous + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, or a spreadsheet's empty row
            if len(cells) != len(self._columns):
                yield (
                    line,
                    UsageError(
                        f"{len(cells)} cells, but the header has {len(self._columns)} columns"
                    ),
                )
                continue
            try:
                yield line, _csv_record(self.noun, self._columns, cells)
            except UsageError as exc:
                yield line, exc

    # -- JSON Lines

    def _jsonl_records(self) -> Iterator[tuple[int, dict[str, Any] | UsageError]]:
        for line, text in enumerate(self._lines(), start=1):
            if not text.strip():
                continue
            try:
                yield line, _jsonl_record(self.noun, text)
            except UsageError as exc:
                yield line, exc


def _open_binary(source: str) -> tuple[Format, IO[bytes], int | None]:
    """(format, binary stream, size in bytes if known); UsageError when it cannot be used."""
    if source == "-":
        return "jsonl", sys.stdin.buffer, None
    extension = os.path.splitext(source)[1].lower()
    file_format = EXTENSIONS.get(extension)
    if file_format is None:
        raise UsageError(
            f"cannot tell the format of {source!r} from its name",
            hint="use a .csv, .jsonl or .ndjson file, or - for JSON Lines on standard input",
        )
    try:
        handle = open(source, "rb")  # noqa: SIM115 - closed by RowSource.close
    except OSError as exc:
        raise UsageError(f"cannot open {source}: {exc.strerror or exc}") from None
    status = os.fstat(handle.fileno())
    size = status.st_size if stat.S_ISREG(status.st_mode) else None
    return file_format, handle, size


def _row_key(record: dict[str, Any]) -> str | None:
    """Take the key out of a row (it is not sent); an empty cell is no key."""
    key = record.pop(KEY_COLUMN, None)
    if key is None or key == "":
        return None
    if not isinstance(key, str):
        raise UsageError("key must be a string")
    return key


def _columns(noun: Noun) -> str:
    return ",".join(RESOURCES[noun].field_names)


def _header_problem(noun: Noun, columns: list[str], defaults: dict[str, Any]) -> str | None:
    known = (*RESOURCES[noun].field_names, KEY_COLUMN)
    unknown = [name for name in columns if name not in known]
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        return f"unknown column{'s' if len(unknown) > 1 else ''} {names} for {noun}"
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        return f"column {', '.join(repr(name) for name in repeated)} appears more than once"
    required = RESOURCES[noun].required
    missing = [name for name in required if name not in columns and name not in defaults]
    if missing:
        extra = " (or give --room)" if "room_id" in missing else ""
        return f"no {' or '.join(repr(name) for name in missing)} column{extra}"
    return None


def _csv_record(noun: Noun, columns: list[str], cells: list[str]) -> dict[str, Any]:
    """A CSV row as API fields: an empty cell is a field not given; booleans are words."""
    booleans = RESOURCES[noun].boolean_fields
    record: dict[str, Any] = {}
    for name, cell in zip(columns, cells, strict=True):
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


def _jsonl_record(noun: Noun, text: str) -> dict[str, Any]:
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
    known = (*RESOURCES[noun].field_names, KEY_COLUMN)
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
