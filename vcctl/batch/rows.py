"""Batch input: reading rows from a CSV or JSON Lines file (or stdin) into checked bodies.

Rows are streamed (memory stays flat whatever the file's length) and each is checked by the
single-row command's rules (`vcctl.validate`); a bad row becomes a `Row` carrying its error, so
that it is reported with its line number. `rewind` reads the input again from its start: the
batch checks every row before it sends the first (standard input is spooled to a temporary
file for that).

CSV as spreadsheets write it: header names are trimmed and matched without regard to case; the
delimiter (`,`, `;` or tab) is the one the header row uses most, unless given; columns whose
name starts with `#`, and those named by `ignore_columns`, are not read. One row's cells become
fields in `vcctl.batch.row_fields`.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import IO, Any, Literal

from vcctl import validate
from vcctl.batch.row_fields import csv_record, jsonl_record, row_body, row_key
from vcctl.batch.row_keys import KeysSeen
from vcctl.errors import UsageError
from vcctl.resources import KEY_COLUMN, RESOURCES, Noun

Format = Literal["csv", "jsonl"]

# A .tsv file (`-o tsv`) is CSV whose header row uses tabs: the delimiter is found as for any.
EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
ID_COLUMN = "id"  # update rows: the resource to change (an id or an @KEY)
COMMENT_MARK = "#"  # a column whose name starts with it is a note, not read


@dataclass(frozen=True)
class Row:
    """One input row: the body to send, or why it cannot be sent."""

    line: int
    body: dict[str, Any] | None = None
    error: UsageError | None = None
    key: str | None = None  # the row's name in the inventory (its `key` column or field)
    target: str | None = None  # update rows: the id of the resource to change


class RowSource:
    """The input file, opened and (for CSV) its header checked; rows are read on demand."""

    def __init__(
        self,
        noun: Noun,
        source: str,
        defaults: dict[str, Any],
        *,
        room_reference: Callable[[str], str] | None = None,
        target_reference: Callable[[str], str] | None = None,
        delimiter: str | None = None,
        ignore_columns: Collection[str] = (),
        spool: bool = False,
        columns: tuple[str, ...] | None = None,
        check_header: bool = True,
    ) -> None:
        """`target_reference` makes these update rows: an `id` column (an id or `@KEY`, turned
        into an id by it) and only the fields to change. `room_reference` turns a room_id
        `@KEY` into an id. `spool`: standard input is copied first, so that it can be rewound.
        `columns`: the only column names the header may use, none required (for a reader of
        `records()` with rules of its own, such as apply's CSV stack files). `check_header`
        False: any header is taken (to look at its `columns` before choosing how to read)."""
        self.noun = noun
        self.allowed_columns = columns
        self.check_header = check_header
        self.defaults = defaults
        self.room_reference = room_reference
        self.target_reference = target_reference
        self.forced_delimiter = delimiter
        self.ignored = {name.strip().lower() for name in ignore_columns}
        self.name = source  # as given: a path, or - for standard input
        self.label = "standard input" if source == "-" else source
        self.format, self._binary, self.size = _open_binary(source)
        self._owned = source != "-"
        if spool and source == "-":
            copy = tempfile.TemporaryFile()  # noqa: SIM115 - closed by RowSource.close
            while chunk := self._binary.read(1 << 16):
                copy.write(chunk)
            copy.seek(0)
            self._binary, self._owned = copy, True
        self._text: io.TextIOWrapper | None = None
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
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
        if self.format == "csv":
            self._read_header()

    def rewind(self) -> None:
        """Read the input again from its start (a file, or spooled standard input)."""
        assert self._text is not None
        self._text.detach()
        self._binary.seek(0)
        self._start()

    @property
    def updating(self) -> bool:
        return self.target_reference is not None

    @property
    def columns(self) -> tuple[str, ...]:
        """The CSV header's names as read (trimmed, lower-case; "" for a column not read)."""
        return tuple(self._columns)

    @property
    def keyed(self) -> bool:
        """Whether the CSV header has a key column (JSON Lines rows tell one by one)."""
        return KEY_COLUMN in self._columns

    def position(self) -> int | None:
        """Bytes of the file read so far, for the progress bar (None when the size is unknown)."""
        return None if self.size is None else self._consumed

    def records(self) -> Iterator[tuple[int, dict[str, Any] | UsageError]]:
        """(line, the row's cells by column name) for each row, or why it cannot be read: a
        cell count that differs from the header's, an unreadable boolean, a control character.
        Empty cells are left out; nothing is checked against the API's rules."""
        return self.csv_records() if self.format == "csv" else self.jsonl_records()

    def rows(self) -> Iterator[Row]:
        keys = KeysSeen(self.noun)  # afresh for each reading: the same rows refused each time
        for line, record in self.records():
            if isinstance(record, UsageError):
                yield Row(line, error=record)
                continue
            try:
                if self.updating:
                    yield self._update_row(line, record)
                    continue
                key = row_key(record)
                self._room_reference(record)
                body = row_body(self.noun, record, self.defaults)
                if key is not None:
                    keys.check(line, key, body)
                yield Row(line, body=body, key=key)
            except UsageError as exc:
                yield Row(line, error=exc)

    def _room_reference(self, record: dict[str, Any]) -> None:
        room = record.get("room_id")
        if isinstance(room, str) and room.startswith("@") and self.room_reference is not None:
            record["room_id"] = self.room_reference(room)

    def _update_row(self, line: int, record: dict[str, Any]) -> Row:
        assert self.target_reference is not None
        target = record.pop(ID_COLUMN, None)
        if not isinstance(target, str) or not target.strip():
            raise UsageError(f"missing {ID_COLUMN}: the {RESOURCES[self.noun].singular} to change")
        self._room_reference(record)
        resource = RESOURCES[self.noun]
        body = validate.body(resource, record, labels={n: n for n in resource.field_names})
        if not body:
            raise UsageError("nothing to change: every field is empty")
        return Row(line, body=body, target=self.target_reference(target.strip()))

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
        if self._text is None:
            if self._owned:
                self._binary.close()
            return
        if self._owned:
            self._text.close()
        else:
            # Standard input belongs to the process: let go of it without closing it.
            with contextlib.suppress(ValueError):
                self._text.detach()

    def _lines(self) -> Iterator[str]:
        assert self._text is not None
        for text in self._text:
            self._consumed += len(text.encode("utf-8", "surrogateescape"))
            self.lines_read += 1
            yield text

    # -- CSV

    def _read_header(self) -> None:
        lines = self._lines()
        first = next(lines, None)
        if first is None:
            raise UsageError(
                f"{self.label} is empty: expected a header row of {_columns(self.noun)}"
            )
        self.delimiter = self.forced_delimiter or _delimiter_of(first)
        self._csv = csv.reader(_chain(first, lines), delimiter=self.delimiter)
        try:
            header = next(self._csv)
        except StopIteration:
            raise UsageError(
                f"{self.label} is empty: expected a header row of {_columns(self.noun)}"
            ) from None
        except csv.Error as exc:
            raise UsageError(f"{self.label}: line 1: not valid CSV: {exc}") from None
        # A column left out is read as "" (never sent): notes, ignored names.
        self._columns = ["" if self._ignored(name) else name.strip().lower() for name in header]
        problem, hint = self._header_problem(header) if self.check_header else (None, None)
        if problem:
            raise UsageError(
                f"{self.label}: line 1: {problem}",
                hint=hint
                or f"the header row names the API's fields: {', '.join(self._known())}; "
                f"columns starting with {COMMENT_MARK} and those given to --ignore-columns are "
                f"not read; see 'vcctl {self.noun} create --help'",
            )

    def _ignored(self, name: str) -> bool:
        name = name.strip()
        return name.startswith(COMMENT_MARK) or name.lower() in self.ignored

    def _known(self) -> tuple[str, ...]:
        if self.allowed_columns is not None:
            return self.allowed_columns
        fields = RESOURCES[self.noun].field_names
        return (ID_COLUMN, *fields) if self.updating else (*fields, KEY_COLUMN)

    def _header_problem(self, header: list[str]) -> tuple[str | None, str | None]:
        known = self._known()
        columns = [name for name in self._columns if name]
        unknown = [
            original.strip()
            for original, name in zip(header, self._columns, strict=True)
            if name and name not in known
        ]
        if unknown:
            names = ", ".join(repr(name) for name in unknown)
            problem = f"unknown column{'s' if len(unknown) > 1 else ''} {names} for {self.noun}"
            close = difflib.get_close_matches(unknown[0].lower(), known, n=1, cutoff=0.6)
            others = [d for d in DELIMITERS if d != self.delimiter and d in unknown[0]]
            if others:
                return problem, (
                    f"the header row looks {DELIMITER_NAMES[others[0]]}-separated: "
                    f"--delimiter '{others[0]}'"
                )
            hint = f"did you mean {close[0]!r}? " if close else ""
            return problem, (
                f"{hint}known columns: {', '.join(known)}; to leave a column out: "
                f"--ignore-columns {unknown[0]!r}, or start its name with {COMMENT_MARK}"
            )
        repeated = sorted({name for name in columns if columns.count(name) > 1})
        if repeated:
            names = ", ".join(repr(name) for name in repeated)
            return f"column {names} appears more than once", None
        if self.allowed_columns is not None:
            return None, None
        if self.updating:
            if ID_COLUMN not in columns:
                return f"no {ID_COLUMN!r} column (the id or @KEY of what to change)", None
            return None, None
        required = RESOURCES[self.noun].required
        missing = [n for n in required if n not in columns and n not in self.defaults]
        if missing:
            extra = " (or give --room)" if "room_id" in missing else ""
            return f"no {' or '.join(repr(name) for name in missing)} column{extra}", None
        return None, None

    def csv_records(self) -> Iterator[tuple[int, dict[str, Any] | UsageError]]:
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
                yield line, csv_record(self.noun, self._columns, cells)
            except UsageError as exc:
                yield line, exc

    # -- JSON Lines

    def jsonl_records(self) -> Iterator[tuple[int, dict[str, Any] | UsageError]]:
        for line, text in enumerate(self._lines(), start=1):
            if not text.strip():
                continue
            try:
                yield line, jsonl_record(self.noun, text, self._known())
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
            hint="use a .csv (or .tsv), .jsonl or .ndjson file, or - for JSON Lines on standard "
            "input",
        )
    try:
        handle = open(source, "rb")  # noqa: SIM115 - closed by RowSource.close
    except OSError as exc:
        raise UsageError(f"cannot open {source}: {exc.strerror or exc}") from None
    status = os.fstat(handle.fileno())
    size = status.st_size if stat.S_ISREG(status.st_mode) else None
    return file_format, handle, size


def _delimiter_of(header: str) -> str:
    """The delimiter a header row uses: the most frequent of `,`, `;` and tab outside quotes
    (a comma when it has none: a file of one column)."""
    outside = "".join(part for index, part in enumerate(header.split('"')) if index % 2 == 0)
    counts = {delimiter: outside.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _columns(noun: Noun) -> str:
    return ",".join(RESOURCES[noun].field_names)
