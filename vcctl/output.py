"""Everything vcctl prints as a result: JSON, JSON Lines, rich views, plain text.

Results go to stdout; messages go to stderr. rich is imported only when a terminal view is drawn.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from vcctl.errors import VcctlError

if TYPE_CHECKING:
    from rich.console import Console

PARTICIPANT_COLUMNS = (
    ("id", "ID"),
    ("username", "USERNAME"),
    ("language", "LANGUAGE"),
    ("video_and_audio_on", "VIDEO/AUDIO"),
    ("created_at", "CREATED"),
)
# C0 and C1 control characters and DEL: shown escaped, so that a name sent by someone else
# cannot move the cursor, recolour the terminal or break a table row.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def write_stdout(text: str) -> None:
    """Bytes, UTF-8, whatever the locale says: --json output must be byte-clean."""
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(text)
    else:
        stream.flush()
        buffer.write(text.encode("utf-8"))
    stream.flush()


def print_json(data: Any) -> None:
    """The API's JSON as received, indented by 2 spaces."""
    write_stdout(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def print_id(resource: Any) -> None:
    """-q: the new id alone, for `ID=$(vcctl ... -q)`; an answer without one is an error, not an
    empty id a script would carry on with."""
    resource_id = resource.get("id") if isinstance(resource, dict) else None
    if not isinstance(resource_id, str | int) or resource_id == "":
        from vcctl.errors import InvalidResponseError

        raise InvalidResponseError("the API's answer has no id to print (-q)")
    write_stdout(f"{resource_id}\n")


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


def print_json_line(data: Any) -> None:
    write_stdout(json_line(data) + "\n")


def json_line(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def use_rich(stream: Any = None) -> bool:
    """Rich output only for a person at a terminal that accepts colour."""
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def rich_console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def printable(text: str) -> str:
    """`text` with control characters escaped (\\x1b, \\n...): safe to show on a terminal."""
    return CONTROL_CHARACTERS.sub(
        lambda match: CONTROL_ESCAPES.get(match.group(), f"\\x{ord(match.group()):02x}"), text
    )


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return printable(str(value))


def _plain_table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def _plain_fields(data: dict[str, Any], skip: Iterable[str] = ()) -> str:
    items = [
        (printable(str(key)), cell_text(value)) for key, value in data.items() if key not in skip
    ]
    if not items:
        return ""
    width = max(len(key) for key, _ in items) + 1
    return "".join(f"{(key + ':').ljust(width)}  {value}\n" for key, value in items)


def _participant_rows(participants: Sequence[Any]) -> list[list[str]]:
    return [
        [
            cell_text(p.get(key)) if isinstance(p, dict) else cell_text(p)
            for key, _ in PARTICIPANT_COLUMNS
        ]
        for p in participants
    ]


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
    header = [label for _, label in PARTICIPANT_COLUMNS]
    write_stdout(_plain_table([header, *_participant_rows(participants)]))


def _rich_participants(participants: Sequence[Any], *, title: str | None) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", header_style="bold")
    for key, label in PARTICIPANT_COLUMNS:
        table.add_column(label, no_wrap=key != "username")
    for p in participants:
        cells: list[Any] = []
        for key, _ in PARTICIPANT_COLUMNS:
            value = p.get(key) if isinstance(p, dict) else None
            if key == "video_and_audio_on" and isinstance(value, bool):
                cells.append(Text("on", style="green") if value else Text("off", style="red"))
            else:
                cells.append(Text(cell_text(value)))
        table.add_row(*cells)
    if not participants:
        table.caption = "no participants"
    return table


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
            cell = Text("on", style="green") if value else Text("off", style="red")
        else:
            cell = Text(cell_text(value))
        grid.add_row(Text(printable(str(key))), cell)
    from rich.panel import Panel

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


def show_message(text: str) -> None:
    """A one-line result for commands whose result is an action (delete, events)."""
    text = printable(text)
    if use_rich():
        rich_console().print(text, markup=False)
    else:
        write_stdout(text + "\n")


def show_raw(body: bytes) -> None:
    """`vcctl api`: the body as received, pretty-printed when it is JSON."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is not None:
            buffer.write(body)
            buffer.flush()
        else:
            sys.stdout.write(body.decode("utf-8", errors="replace"))
        return
    print_json(data)


def print_error(exc: VcctlError, *, json_mode: bool, subject: str | None = None) -> None:
    """One `vcctl: error:` line (plus a hint line), or one JSON line, on stderr."""
    if json_mode:
        # Exactly the contract's shape; several items add which one failed.
        payload = exc.to_json()
        if subject is not None:
            payload["error"]["item"] = subject
        stderr_line(json.dumps(payload, ensure_ascii=False))
        return
    prefix = f"{subject}: " if subject else ""
    stderr_line(printable(f"vcctl: error: {prefix}{exc.message}"))
    if exc.hint:
        stderr_line(printable(f"hint: {exc.hint}"))


def warn(message: str) -> None:
    stderr_line(printable(f"vcctl: warning: {message}"))


def stderr_line(line: str) -> None:
    """One line on stderr, looked up now (a progress bar may have replaced it), never failing."""
    if sys.stderr is None:  # started with stderr closed: errors have nowhere to go
        return
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
