"""The human views of results: a room, a participant, a list of participants, a message.

Each picks rich (a person at a colour terminal) or plain text (anything else); tables come from
`vcctl.output.table`, columns from `vcctl.resources`, and the text goes through
`vcctl.output.streams`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from vcctl.output.streams import (
    notice_on_terminal,
    print_json,
    rich_console,
    use_rich,
    write_stdout,
)
from vcctl.output.table import on_off, on_off_text, plain_table, rich_table
from vcctl.resources import PARTICIPANT
from vcctl.text import printable


def print_id(resource: Any) -> None:
    """-q: the new id alone, for `ID=$(vcctl ... -q)`; an answer without one is an error, not an
    empty id a script would carry on with."""
    resource_id = resource.get("id") if isinstance(resource, dict) else None
    if not isinstance(resource_id, str | int) or resource_id == "":
        from vcctl.errors import InvalidResponseError

        raise InvalidResponseError("the API's answer has no id to print (-q)")
    write_stdout(f"{printable(str(resource_id))}\n")


def emit(
    resource: Any, *, json_mode: bool, view: Callable[[Any], None], quiet: bool = False
) -> None:
    """A command's one resource: its id (-q), the API's JSON (--json), or the human view."""
    if quiet:
        print_id(resource)
    elif json_mode:
        print_json(resource)
    else:
        view(resource)


def cell_text(value: Any) -> str:
    """A value as one table cell or field: booleans on/off, structures as JSON, text escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return on_off(value)
    if isinstance(value, dict | list):
        return printable(json.dumps(value, ensure_ascii=False))
    return printable(str(value))


def _plain_fields(data: dict[str, Any], skip: Iterable[str] = ()) -> str:
    items = [
        (printable(str(key)), cell_text(value)) for key, value in data.items() if key not in skip
    ]
    if not items:
        return ""
    width = max(len(key) for key, _ in items) + 1
    return "".join(f"{(key + ':').ljust(width)}  {value}\n" for key, value in items)


def _participant_value(participant: Any, field: str) -> Any:
    return participant.get(field) if isinstance(participant, dict) else None


def show_participants(participants: Sequence[Any], *, title: str | None = None) -> None:
    if use_rich():
        console = rich_console()
        console.print(_rich_participants(participants, title=title))
        return
    if title:
        write_stdout(f"{title}\n")
    if not participants:
        write_stdout("no participants\n")
        return
    header = list(PARTICIPANT.headers)
    rows = [
        [
            cell_text(p.get(column.field)) if isinstance(p, dict) else cell_text(p)
            for column in PARTICIPANT.columns
        ]
        for p in participants
    ]
    write_stdout(plain_table([header, *rows]))


def _rich_participants(participants: Sequence[Any], *, title: str | None) -> Any:
    from rich.text import Text

    rows: list[list[str | Text]] = []
    for p in participants:
        cells: list[str | Text] = []
        for column in PARTICIPANT.columns:
            value = _participant_value(p, column.field)
            cells.append(on_off_text(value) if isinstance(value, bool) else cell_text(value))
        rows.append(cells)
    return rich_table(
        list(PARTICIPANT.headers),
        rows,
        title=title,
        caption=None if participants else "no participants",
        wrap=PARTICIPANT.label_headers,  # only the name column may wrap
    )


def show_room(room: Any) -> None:
    if not isinstance(room, dict):
        print_json(room)
        return
    participants = room.get("participants")
    if use_rich():
        console = rich_console()
        console.print(_rich_fields(room, skip=("participants",), kind="Room"))
        if isinstance(participants, list):
            title = f"Participants ({len(participants)})"
            console.print(_rich_participants(participants, title=title))
        return
    write_stdout(_plain_fields(room, skip=("participants",)))
    if isinstance(participants, list):
        write_stdout("\n")
        show_participants(participants, title=f"participants: {len(participants)}")


def show_participant(participant: Any) -> None:
    if not isinstance(participant, dict):
        print_json(participant)
        return
    if use_rich():
        rich_console().print(_rich_fields(participant, kind="Participant"))
        return
    write_stdout(_plain_fields(participant))


def _rich_fields(data: dict[str, Any], *, kind: str, skip: Iterable[str] = ()) -> Any:
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    skipped = set(skip)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan", no_wrap=True)
    grid.add_column()
    for key, value in data.items():
        if key in skipped:
            continue
        if key == "color" and isinstance(value, str) and value.startswith("#"):
            cell = Text.assemble(("■ ", safe_style(value)), printable(value))
        elif isinstance(value, bool):
            cell = on_off_text(value)
        else:
            cell = Text(cell_text(value))
        grid.add_row(Text(printable(str(key))), cell)
    # A Text, not a str: rich would read "[...]" in an id as markup.
    title = Text(f"{kind} {cell_text(data.get('id', ''))}".strip())
    return Panel.fit(grid, title=title, title_align="left")


def safe_style(color: str) -> str:
    from rich.color import Color, ColorParseError

    try:
        Color.parse(color)
    except ColorParseError:
        return ""
    return color


def note_missing(noun: str) -> Callable[[str], None]:
    """--ignore-missing: an id the API did not know is not a result (nothing on stdout); a
    person at a terminal is told on stderr, a script sees nothing."""

    def note(item: str) -> None:
        notice_on_terminal(printable(f"{noun} {item} not found: nothing to delete"))

    return note


def show_message(text: str) -> None:
    """A one-line result for commands whose result is an action (delete, events)."""
    text = printable(text)
    if use_rich():
        rich_console().print(text, markup=False)
    else:
        write_stdout(text + "\n")


def show_raw(body: bytes) -> None:
    """`vcctl api`: the body as received, pretty-printed when it is JSON."""
    from vcctl.output.streams import write_stdout_bytes

    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        write_stdout_bytes(body)
        return
    print_json(data)


def stopping(signum: int | None, under_way: int, *, json_mode: bool) -> None:
    """A stop signal came while requests are under way: say what vcctl waits for, and how to
    stop waiting (on stderr; one JSON line with --json)."""
    import signal

    name = signal.Signals(signum).name if signum is not None else "stop"
    if json_mode:
        from vcctl.output.streams import json_line, stderr_line

        notice = {"stopping": {"signal": name, "requests_under_way": under_way}}
        stderr_line(json_line(notice))
        return
    from vcctl.output.streams import stderr_line

    stderr_line(
        f"vcctl: {name}: sending stopped; waiting for the answers to {under_way} "
        "requests already sent (Ctrl-C again to stop waiting)"
    )
