"""Cells and styles for the console's lines: fitting text into terminal cells, SGR styles (colour
dropped under NO_COLOR), and the participants' columns, planned for the terminal's width.

Widths are terminal cells (a CJK character takes two), measured by rich's cell tables; text from
the API is escaped (`cell_text`) before it is measured, so it holds no control character and
the only escape sequences in a line are the styles added here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from vcctl.output.views import cell_text
from vcctl.text import printable

if TYPE_CHECKING:
    from vcctl.watch.console import Console
    from vcctl.watch.rows import Row

SGR = re.compile("\x1b\\[[0-9;]*m")
RESET = "\x1b[0m"
ELLIPSIS = "…"
GAP = 2


def width_of(text: str) -> int:
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def fit(text: str, width: int) -> str:
    """`text` in exactly `width` cells: padded with spaces, or cut with an ellipsis."""
    if width <= 0:
        return ""
    size = width_of(text)
    if size <= width:
        return text + " " * (width - size)
    if text.isascii():
        return text[: width - 1] + ELLIPSIS
    from rich.cells import set_cell_size

    return set_cell_size(text, width - 1) + ELLIPSIS


def styled(text: str, style: str, palette: Palette) -> str:
    codes = palette.sgr(style)
    if not codes or not text:
        return text
    return f"\x1b[{codes}m{text}{RESET}"


@dataclass(frozen=True)
class Palette:
    """Which styles the terminal gets: colour or not (NO_COLOR), 24-bit colour or 256."""

    colour: bool = True
    truecolor: bool = False

    def sgr(self, style: str) -> str:
        """The style's SGR parameters, without the colours when colour is off."""
        if not style or self.colour:
            return style
        kept: list[str] = []
        parameters = style.split(";")
        index = 0
        while index < len(parameters):
            number = int(parameters[index] or 0)
            if number in (38, 48):  # 38;5;N or 38;2;R;G;B
                mode = parameters[index + 1] if index + 1 < len(parameters) else ""
                index += 3 if mode == "5" else 5
                continue
            if not (30 <= number <= 49 or 90 <= number <= 107):
                kept.append(str(number))
            index += 1
        return ";".join(kept)

    def swatch(self, colour: Any) -> str:
        return "■" if self.room_colour(colour) else " "

    def room_colour(self, colour: Any) -> str:
        """The SGR foreground for a room's "#RRGGBB" colour ('' for anything else)."""
        if not self.colour or not isinstance(colour, str):
            return ""
        match = re.fullmatch("#([0-9a-fA-F]{2})([0-9a-fA-F]{2})([0-9a-fA-F]{2})", colour)
        if match is None:
            return ""
        red, green, blue = (int(part, 16) for part in match.groups())
        if self.truecolor:
            return f"38;2;{red};{green};{blue}"
        cube = [0, 95, 135, 175, 215, 255]

        def level(value: int) -> int:
            return min(range(6), key=lambda i: abs(cube[i] - value))

        return f"38;5;{16 + 36 * level(red) + 6 * level(green) + level(blue)}"

    def pad(self, line: str, width: int) -> str:
        return self.fit_styled(line, width)

    def fit_styled(self, line: str, width: int) -> str:
        """A line holding styles in exactly `width` cells (cut with an ellipsis if longer)."""
        size = width_of(SGR.sub("", line))
        if size <= width:
            return line + " " * (width - size)
        budget = width - 1  # the ellipsis takes the last cell
        out: list[str] = []
        used = 0
        position = 0
        for match in [*SGR.finditer(line), None]:
            text = line[position : match.start() if match is not None else len(line)]
            if text and used < budget:
                piece = text if width_of(text) <= budget - used else _cut(text, budget - used)
                out.append(piece)
                used += width_of(piece)
            if match is not None:
                out.append(match.group())
                position = match.end()
        return "".join(out) + ELLIPSIS + RESET + " " * max(0, width - used - 1)


def _cut(text: str, cells: int) -> str:
    """The start of `text` in at most `cells` cells."""
    if text.isascii():
        return text[:cells]
    from rich.cells import set_cell_size

    return set_cell_size(text, cells)


# -- the participants' columns --------------------------------------------------------------------


@dataclass
class Column:
    key: str
    header: str
    width: int


LONG_HEADERS = {
    "username": "USERNAME",
    "id": "ID",
    "language": "LANGUAGE",
    "av": "VIDEO/AUDIO",
    "joined": "JOINED",
    "changed": "CHANGED",
}
SHORT_HEADERS = {**LONG_HEADERS, "language": "LANG", "av": "A/V"}
DROPPED_FIRST = ("language", "joined", "id", "changed")  # when the terminal is narrow
COMFORTABLE_NAME = 14
SORTED_COLUMN = {"on": "av", "name": "username", "joined": "joined", "changed": "changed"}
MARK_STYLES = {"joined": "1;32", "changed": "1;33", "left": "2"}
MARKS = {"joined": "+", "changed": "~", "left": "-"}


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


class Columns:
    """The columns that fit, and each row drawn in them."""

    def __init__(self, columns: list[Column], width: int, now: datetime) -> None:
        self.columns = columns
        self.width = width
        self.now = now

    def header(self, palette: Palette, sort: str) -> str:
        parts = [" "]
        for column in self.columns:
            label = column.header + ("▾" if SORTED_COLUMN.get(sort) == column.key else "")
            parts.append(" " if column is self.columns[0] else " " * GAP)
            parts.append(fit(label, column.width))
        return palette.pad(styled("".join(parts).rstrip(), "1", palette), self.width)

    def row(self, row: Row, palette: Palette, *, selected: bool, pending: str | None) -> str:
        marker = row.marker
        base = "2;9" if row.departed else ""
        if selected:
            base = f"{base};7" if base else "7"
        changed = marker.fields if marker is not None and marker.kind == "changed" else frozenset()
        mark, mark_style = " ", ""
        if pending is not None:
            mark, mark_style = "…", "36"
        elif marker is not None:
            mark, mark_style = MARKS[marker.kind], MARK_STYLES[marker.kind]
        parts = [_cell(mark, 1, _join(base, mark_style), palette)]
        for column in self.columns:
            parts.append(
                _cell(" " if column is self.columns[0] else " " * GAP, None, base, palette)
            )
            text, style = self._value(column.key, row, pending)
            if column.key in FIELD_OF and FIELD_OF[column.key] in changed:
                style = _join(style, "4")
            if column.key == "username" and marker is not None and marker.kind == "joined":
                style = _join(style, "1")
            parts.append(_cell(text, column.width, _join(base, style), palette))
        used = 1 + sum(c.width for c in self.columns) + GAP * len(self.columns) - 1
        parts.append(_cell("", self.width - used, base, palette))
        return "".join(parts)

    def _value(self, key: str, row: Row, pending: str | None) -> tuple[str, str]:
        participant = row.participant
        if key == "av":
            if pending is not None:
                return f"→{pending}", "36"
            value = participant.get("video_and_audio_on")
            if isinstance(value, bool):
                return ("on", "32") if value else ("off", "31")
            return cell_text(value), ""
        if key == "joined":
            return joined_time(participant.get("created_at"), self.now), ""
        if key == "changed":
            marker = row.marker
            if marker is None:
                return "", ""
            return f"{MARKS[marker.kind]} {marker.at.strftime('%H:%M:%S')}", MARK_STYLES[
                marker.kind
            ]
        if key == "id":
            return cell_text(participant.get("id")), "2"
        return cell_text(participant.get(FIELD_OF[key])), ""


FIELD_OF = {
    "username": "username",
    "id": "id",
    "language": "language",
    "av": "video_and_audio_on",
    "joined": "created_at",
}


def _join(*styles: str) -> str:
    return ";".join(style for style in styles if style)


def _cell(text: str, width: int | None, style: str, palette: Palette) -> str:
    if width is not None:
        text = fit(text, width)
    return styled(text, style, palette)


def plan_columns(console: Console, width: int, now: datetime) -> Columns:
    """The columns for this width, each as wide as its widest value (the name takes what is
    left, up to its widest), measured over every row so that scrolling does not move them."""
    rows = [row for index in range(len(console.sections)) for row in console.rows_of(index)]

    def widest(values: list[str], default: int, cap: int) -> int:
        return min(max((width_of(value) for value in values), default=default), cap)

    measured = {
        "username": widest([cell_text(r.participant.get("username")) for r in rows], 8, 40),
        "id": widest([cell_text(r.participant.get("id")) for r in rows], 2, 16),
        "language": widest([cell_text(r.participant.get("language")) for r in rows], 2, 12),
        "av": 4,  # "→off" while an action is under way
        "joined": widest([joined_time(r.participant.get("created_at"), now) for r in rows], 8, 20),
        "changed": 10,  # "~ 10:31:50"
    }
    wanted = max(measured["username"], 8)
    comfortable = min(wanted, COMFORTABLE_NAME)
    sorted_key = SORTED_COLUMN.get(console.sort)
    plans: list[tuple[dict[str, str], list[str]]] = [
        (LONG_HEADERS, list(LONG_HEADERS)),
        (SHORT_HEADERS, list(SHORT_HEADERS)),
    ]
    keys = list(SHORT_HEADERS)
    for dropped in DROPPED_FIRST:
        keys = [key for key in keys if key != dropped]
        plans.append((SHORT_HEADERS, keys))
    room = 0
    fixed: list[Column] = []
    headers = SHORT_HEADERS
    for headers, keys in plans:
        fixed = [
            Column(
                key, headers[key], max(_label_width(headers[key], key == sorted_key), measured[key])
            )
            for key in keys
            if key != "username"
        ]
        room = width - 2 - sum(c.width for c in fixed) - GAP * len(fixed)
        if room >= comfortable:
            break
    name = Column("username", headers["username"], max(4, min(room, wanted)))
    return Columns([name, *fixed], width, now)


def _label_width(label: str, sorted_here: bool) -> int:
    return width_of(label) + (1 if sorted_here else 0)
