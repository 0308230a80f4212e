"""`-o/--output FORMAT` of the list and get commands: one renderer the commands hand resources to.

- `json`: one JSON document, indented by 2 spaces: the object for one resource (`get` of one
  id, as --json prints it), an array for a list or several ids (`[]` for none).
- `jsonl`: one compact object per line, whatever the count (what --json prints for lists).
- `csv`, `tsv`: a header row of the batch files' field names, `id` then the resource's fields
  (`vcctl.resources`), one row per resource: what `update --from-file` reads back, so a listing
  edited in a spreadsheet is a file of changes. Booleans are `true`/`false`; a field the
  resource lacks is an empty cell (which an update leaves alone). Quoting is the csv module's
  (a cell holding the delimiter, a quote or a line break is quoted), for a tab too.
- `id`: the ids, one per line (as -q).
- `table`: the human view, as without -o.

JSON is the resource exactly as received (as --json). CSV and TSV cells are exact when standard
output is a file or a pipe, so that the round trip changes nothing; on a terminal they are
escaped as every text shown there is (`vcctl.text.printable`), as are ids always.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from vcctl.errors import InvalidResponseError, UsageError
from vcctl.output import streams
from vcctl.resources import Resource
from vcctl.text import printable


class Format(StrEnum):
    """The values of -o (typer shows them as the option's choices)."""

    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"
    id = "id"
    table = "table"


FORMATS = tuple(format.value for format in Format)
TABLE = "table"
ID_COLUMN = "id"  # the column `update --from-file` reads the resource to change from
OUTPUT_HELP = (
    "Output format: json (one document: the object, or an array of several), jsonl (one object "
    "per line), csv or tsv (a header of the batch files' field names, id first, that update "
    "--from-file reads back), id (one per line) or table (the default view)."
)


def choose(
    output: str | None, *, json_mode: bool = False, quiet: bool = False, one: bool = False
) -> str | None:
    """The machine format asked for with -o, or None for the command's own output (-o table,
    no -o). Two ways of choosing the output at once are refused (exit 2, nothing sent)."""
    if output is None:
        return None
    if output not in FORMATS:  # the option's choices refuse it first; kept for direct callers
        raise UsageError(f"-o {output}: expected one of {', '.join(FORMATS)}")
    others = [
        flag
        for flag, given in (
            ("--jq" if streams.jq_given() else "--json", json_mode),
            ("-q", quiet),
            ("--one", one),
        )
        if given
    ]
    if others:
        raise UsageError(f"-o {output} and {others[0]} both choose what is printed: give one")
    return None if output == TABLE else str(output)


def _to_terminal() -> bool:
    try:
        return bool(sys.stdout.isatty())
    except (AttributeError, ValueError):
        return False


class Renderer:
    """Prints resources of one kind in a machine format, in the order they are added.

    Lines are written as each resource comes (JSON Lines, CSV, ids), so a long listing streams;
    `json` prints its one document at `end()`. `single`: the command names one resource (`get`
    of one id), which `json` prints as an object rather than an array."""

    def __init__(self, output: str, resource: Resource, *, single: bool = False) -> None:
        self.output = output
        self.resource = resource
        self.single = single
        self.columns = (ID_COLUMN, *resource.field_names)
        self._documents: list[Any] = []
        self._escape = _to_terminal()
        self._header = output in ("csv", "tsv")  # still to write, before the first row

    def add(self, item: Any) -> None:
        """One resource, printed now (json: kept for the document)."""
        streams.write_stdout(self._text(item))

    def add_all(self, items: Iterable[Any]) -> None:
        """Every resource of a listing, written at once, then the end."""
        streams.write_stdout("".join(self._text(item) for item in items))
        self.end()

    def end(self) -> None:
        if self._header:  # an empty listing is still a header row
            streams.write_stdout(self._text(None))
        if self.output != "json":
            return
        if self.single and len(self._documents) == 1:
            document = self._documents[0]
        else:
            document = self._documents
        streams.write_stdout(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        self._documents = []

    def _text(self, item: Any) -> str:
        if self.output == "json":
            self._documents.append(item)
            return ""
        if self.output == "jsonl":
            return streams.json_line(item) + "\n"
        if self.output == "id":
            resource_id = _get(item, ID_COLUMN)
            if not isinstance(resource_id, str | int) or resource_id == "":
                # As -q: an empty line would be an id a script carries on with.
                raise InvalidResponseError("the API's answer has no id to print (-o id)")
            return f"{printable(str(resource_id))}\n"
        header = self._row(self.columns) if self._header else ""
        self._header = False
        if item is None:
            return header
        return header + self._row([_cell(_get(item, column)) for column in self.columns])

    def _row(self, cells: Iterable[str]) -> str:
        if self._escape:
            cells = [printable(cell) for cell in cells]
        buffer = io.StringIO()
        delimiter = "\t" if self.output == "tsv" else ","
        csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerow(cells)
        return buffer.getvalue()


def renderer(output: str | None, resource: Resource, *, single: bool = False) -> Renderer | None:
    """The renderer of a format `choose` gave; None for the command's own output."""
    return None if output is None else Renderer(output, resource, single=single)


def _get(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else None


def _cell(value: Any) -> str:
    """A field as a CSV cell, in the spelling the batch reader takes back."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
