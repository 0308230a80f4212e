"""The live view of `vcctl rooms watch`: the room's header, its status and participants table.

Drawn from the watch's state alone (no clock, no I/O): testable with a recording Console.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from vcctl.resources import PARTICIPANT, ROOM
from vcctl.text import printable
from vcctl.watch.changes import WatchState, participant_key, participants_of

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text


# The watch shows when each participant was created as when they joined the meeting.
JOINED_HEADER = "JOINED"
MARKS: dict[str, tuple[str, str]] = {  # change kind -> (mark in the first column, its style)
    "joined": ("+", "bold green"),
    "changed": ("~", "bold yellow"),
    "left": ("-", "dim"),
}


def render_view(state: WatchState) -> RenderableType:
    """The whole live view, from the state alone (no clock, no I/O): testable with a recording
    Console."""
    from rich.console import Group

    return Group(_header(state), _participants_table(state))


def _header(state: WatchState) -> RenderableType:
    from rich.panel import Panel
    from rich.text import Text

    from vcctl.output.views import cell_text, safe_style

    room = state.room
    color = room.get("color")
    count = len(participants_of(room))
    title = Text()
    if isinstance(color, str):
        title.append("■ ", style=safe_style(color) or None)
    name_style = "bold yellow" if ROOM.label_field in _room_changes(state) else "bold"
    # cell_text escapes control characters: a name chosen by others cannot drive the terminal.
    title.append(cell_text(room.get(ROOM.label_field, "")), style=name_style)
    title.append(f"  {cell_text(state.room_id)}", style="dim")
    title.append(f"  {count} participant{'' if count == 1 else 's'}")
    return Panel(
        Text("\n").join([title, _status_line(state)]),
        title="vcctl rooms watch",
        title_align="left",
        subtitle="Ctrl-C to leave",
        subtitle_align="right",
    )


def _status_line(state: WatchState) -> Text:
    from rich.text import Text

    from vcctl.output.views import cell_text

    clock = "%H:%M:%S"
    if state.deleted_at is not None:
        return Text(f"room deleted (seen at {state.deleted_at:{clock}})", style="bold red")
    failure = state.failure
    if failure is None:
        return Text(
            f"refreshed {state.refreshed_at:{clock}} · every {state.interval:g} s", style="green"
        )
    how = "backing off as the API asks" if failure.retry_after else "backing off"
    return Text(
        f"stale since {failure.since:{clock}} ({failure.count} failed refresh"
        f"{'' if failure.count == 1 else 'es'}): {cell_text(failure.message)}\n"
        f"{how}: next try at {failure.next_try:{clock}}",
        style="yellow",
    )


def _room_changes(state: WatchState) -> dict[str, tuple[Any, Any]]:
    for change in state.changes:
        if change.kind == "room_changed":
            return change.fields
    return {}


def _participants_table(state: WatchState) -> RenderableType:
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold", expand=False)
    table.add_column("", width=1, no_wrap=True)  # the change mark
    for column in PARTICIPANT.columns:
        header = JOINED_HEADER if column.field == "created_at" else column.header
        table.add_column(header, no_wrap=column.field != PARTICIPANT.label_field)
    by_key = {change.key: change for change in state.changes if change.kind != "room_changed"}
    for participant in participants_of(state.room):
        change = by_key.get(participant_key(participant))
        cells = _participant_cells(participant, state)
        if change is None:
            table.add_row(Text(""), *cells)
            continue
        mark, style = MARKS[change.kind]
        for index, column in enumerate(PARTICIPANT.columns):
            if column.field in change.fields:
                cells[index].stylize("reverse")
        table.add_row(
            Text(mark, style=style), *cells, style="bold" if change.kind == "joined" else None
        )
    for change in state.changes:
        if change.kind == "left":
            mark, style = MARKS["left"]
            table.add_row(
                Text(mark, style=style),
                *_participant_cells(change.subject, state),
                style="dim strike",
            )
    if not participants_of(state.room) and not any(c.kind == "left" for c in state.changes):
        table.caption = "no participants"
    return table


def _participant_cells(participant: dict[str, Any], state: WatchState) -> list[Text]:
    from rich.text import Text

    from vcctl.output.table import on_off_text
    from vcctl.output.views import cell_text

    cells: list[Text] = []
    for column in PARTICIPANT.columns:
        value = participant.get(column.field)
        if column.field in PARTICIPANT.boolean_fields and isinstance(value, bool):
            cells.append(on_off_text(value))
        elif column.field == "created_at":
            cells.append(Text(joined_time(value, state.refreshed_at)))
        else:
            cells.append(Text(cell_text(value)))
    return cells


def joined_time(value: Any, now: datetime) -> str:
    """The API's created_at in local time: the time alone when it is today's."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return "" if value is None else printable(str(value))
    if moment.tzinfo is not None:
        moment = moment.astimezone(now.tzinfo)
    if moment.date() == now.date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M")
