"""The meeting console drawn as text: one string per terminal line, each exactly as wide as the
terminal, with SGR codes for the styles (none for colour under NO_COLOR).

Pure: the console's state, a size and the time in; lines out. Only what fits is built (the rows
in sight), so a refresh of hundreds of participants draws in a millisecond or two. What is
narrow gives way in order: column headers shorten, then the language, the joined time and the id
go; the header drops the id, the latency, the refresh time and long words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vcctl.output.views import cell_text
from vcctl.text import printable
from vcctl.watch.changes import WatchState, participants_of
from vcctl.watch.console import Console
from vcctl.watch.layout import Columns, Palette, fit, plan_columns, styled, width_of
from vcctl.watch.rows import SORT_HELP, Heading, Row, is_on, username
from vcctl.watch.story import Tone

MIN_WIDTH, MIN_HEIGHT = 20, 4
CLOCK = "%H:%M:%S"
MARKS = {"joined": "+", "changed": "~", "left": "-"}
TONES: dict[Tone, str] = {
    "info": "",
    "ok": "32",
    "fail": "31",
    "joined": "32",
    "left": "2",
    "changed": "33",
}


@dataclass
class Frame:
    lines: list[str]
    list_height: int


def draw(console: Console, width: int, height: int, now: datetime, palette: Palette) -> Frame:
    """The whole screen."""
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        lines = [fit(f"terminal too small ({width}x{height})", width)]
        return Frame(lines + [" " * width] * (height - 1), 0)
    top: list[str] = []
    if console.multi:
        top.append(totals_line(console, width, palette))
    else:
        section = console.sections[0]
        top.append(header_line(section.state, width, palette, section.room_marker is not None))
        status = status_line(section.state, width, palette)
        if status is not None:
            top.append(status)
    columns = plan_columns(console, width, now)
    top.append(columns.header(palette, console.sort))
    room_left = height - len(top) - 1
    log_lines = 0
    if console.log_open and console.mode != "help":
        log_lines = min(max(3, height // 3), room_left - 3)
    list_height = room_left - (log_lines + 1 if log_lines > 0 else 0)
    if console.mode == "help":
        body = help_lines(console, width, room_left, palette)
    else:
        body = list_lines(console, columns, width, list_height, now, palette)
        if log_lines > 0:
            body += log_pane(console, width, log_lines, palette)
    lines = top + body + [footer_line(console, width, palette)]  # after the list: its cursor
    blank = " " * width
    lines += [blank] * (height - len(lines))
    return Frame(lines[:height], max(1, list_height))


# -- the header -----------------------------------------------------------------------------------


def counts(room: dict[str, Any]) -> tuple[int, int]:
    """(participants, how many have video/audio on)."""
    participants = participants_of(room)
    return len(participants), sum(1 for p in participants if is_on(p))


def header_line(state: WatchState, width: int, palette: Palette, renamed: bool) -> str:
    """Room, id, count, on/off, last refresh time, the API's latency: what fits."""
    room = state.room
    total, on = counts(room)
    word = "participant" if total == 1 else "participants"
    count_long = f"{total} {word} · {on} on · {total - on} off"
    count_short = f"{total} · {on} on · {total - on} off"
    count_tiny = f"{on}/{total} on"
    clock = state.refreshed_at.strftime(CLOCK)
    latency = f"{state.latency * 1000:.0f} ms" if state.latency is not None else ""
    room_id = cell_text(state.room_id)
    name = cell_text(room.get("name")) or room_id
    swatch = palette.swatch(room.get("color"))
    levels: list[list[str]] = [
        [room_id, count_long, f"refreshed {clock}", latency],
        [room_id, count_long, clock, latency],
        [count_long, clock, latency],
        [count_short, clock, latency],
        [count_short, clock],
        [count_short],
        [count_tiny],
    ]
    name_style = "1;33" if renamed else "1"
    for level in levels:
        rest = "  ".join(piece for piece in level if piece)
        room_for_name = width - 2 - width_of(rest) - 2
        if room_for_name >= min(width_of(name), 12) or level is levels[-1]:
            parts = [styled(swatch, palette.room_colour(room.get("color")), palette), " "]
            parts.append(styled(fit(name, max(1, room_for_name)).rstrip(), name_style, palette))
            parts.append("  ")
            if level[0] == room_id:
                parts.append(styled(room_id, "2", palette) + "  ")
                rest = "  ".join(piece for piece in level[1:] if piece)
            parts.append(rest)
            return palette.pad("".join(parts), width)
    raise AssertionError("unreachable: the last level always fits")


def status_line(state: WatchState, width: int, palette: Palette) -> str | None:
    """Why the data may be old: the room is gone, or refreshes fail (and when the next is)."""
    if state.deleted_at is not None:
        text = f"room deleted (seen at {state.deleted_at.strftime(CLOCK)})"
        return palette.pad(styled(fit(text, width).rstrip(), "1;31", palette), width)
    failure = state.failure
    if failure is None:
        return None
    how = "backing off as the API asks" if failure.retry_after else "backing off"
    refreshes = "refresh" if failure.count == 1 else "refreshes"
    text = (
        f"stale since {failure.since.strftime(CLOCK)} ({failure.count} failed {refreshes}): "
        f"{cell_text(failure.message)} · {how}: next try at {failure.next_try.strftime(CLOCK)}"
    )
    return palette.pad(styled(fit(text, width).rstrip(), "33", palette), width)


def totals_line(console: Console, width: int, palette: Palette) -> str:
    """Several rooms: how many, and everyone in them."""
    total = on = 0
    for section in console.sections:
        people, speaking = counts(section.state.room)
        total, on = total + people, on + speaking
    rooms = len(console.sections)
    text = f"{rooms} rooms · {total} participants · {on} on · {total - on} off"
    if width_of(text) > width:
        text = f"{rooms} rooms · {total} · {on} on · {total - on} off"
    return palette.pad(styled(fit(text, width).rstrip(), "1", palette), width)


# -- the list -------------------------------------------------------------------------------------


def list_lines(
    console: Console,
    columns: Columns,
    width: int,
    height: int,
    now: datetime,
    palette: Palette,
) -> list[str]:
    items, first, selected = console.view(height)
    lines: list[str] = []
    for index in range(first, min(len(items), first + height)):
        item = items[index]
        if isinstance(item, Heading):
            section = console.sections[item.section]
            if item.kind == "header":
                marked = section.room_marker is not None
                lines.append(header_line(section.state, width, palette, marked))
            else:
                lines.append(status_line(section.state, width, palette) or " " * width)
            continue
        pending = console.sections[item.section].pending.get(item.key)
        lines.append(columns.row(item, palette, selected=index == selected, pending=pending))
    if not items or not any(isinstance(item, Row) for item in items):
        message = "no one matches the filter" if console.filter else "no participants"
        lines.append(palette.pad(styled(fit(message, width).rstrip(), "2", palette), width))
    return lines[:height] + [" " * width] * (height - len(lines[:height]))


def log_pane(console: Console, width: int, height: int, palette: Palette) -> list[str]:
    """A rule, then the last entries of the event log (the newest at the bottom)."""
    title = "─ event log "
    rule = title + "─" * max(0, width - width_of(title))
    lines = [palette.pad(styled(rule[:width], "2", palette), width)]
    entries = list(console.log)[-(height):]
    names = {section.room_id: section.name for section in console.sections}
    for entry in entries:
        where = ""
        if console.multi and entry.room_id is not None:
            where = f"{names.get(entry.room_id, entry.room_id)}: "
        text = f"{entry.at.strftime(CLOCK)} {where}{printable(entry.text)}"
        lines.append(
            palette.pad(styled(fit(text, width).rstrip(), TONES[entry.tone], palette), width)
        )
    if not entries:
        lines.append(palette.pad(styled("nothing yet", "2", palette), width))
    return lines + [" " * width] * (height + 1 - len(lines))


# -- the footer and the help ----------------------------------------------------------------------


def footer_line(console: Console, width: int, palette: Palette) -> str:
    position, total = console.shown_count()
    right = f"{position}/{total}"
    if console.filter and console.mode != "filter":
        right = f"filter “{console.filter}”  {right}"
    if console.multi:
        right = f"{console.sections[console.current_section()].name}  {right}"
    if console.mode == "filter":
        left = styled(f"/{printable(console.filter)}▏", "1", palette)
        right = f"{total} shown  Enter keeps · Esc clears"
    elif console.mode == "confirm" and console.confirming is not None:
        section = console.sections[console.confirming]
        people, _ = counts(section.state.room)
        question = f"Mute everyone in {section.name} ({people})? y/n"
        return palette.pad(styled(fit(question, width).rstrip(), "1;7;33", palette), width)
    elif console.message is not None:
        text, tone, _ = console.message
        left = styled(printable(text), TONES[tone], palette)
    else:
        left = ""
    right_width = min(width_of(right), max(0, width - 12))
    left_width = width - right_width - 1
    if not left:
        left = hints(console, left_width)
    return palette.pad(palette.fit_styled(left, left_width) + " " + fit(right, right_width), width)


def hints(console: Console, width: int) -> str:
    """The keys, as many as fit whole."""
    keys = ["? help", "q quit"]
    if not console.read_only:
        keys += ["m mute all", "v on/off"]
    keys += ["/ filter", "s sort", "l log"]
    if console.read_only:
        keys.insert(0, "read-only")
    shown = ""
    for key in keys:
        candidate = f"{shown}  {key}" if shown else key
        if width_of(candidate) > width:
            break
        shown = candidate
    return shown


def help_lines(console: Console, width: int, height: int, palette: Palette) -> list[str]:
    off = "  (off: --read-only)" if console.read_only else ""
    entries: Sequence[tuple[str, str]] = [
        ("↑ ↓  j k", "move"),
        ("PgUp PgDn", "a page up, down"),
        ("Home End", "first, last"),
        *([("Tab  ⇧Tab", "next, previous room")] if console.multi else []),
        ("/", "filter by name (Enter keeps it, Esc clears it)"),
        ("s", f"sort (now: {SORT_HELP[console.sort]})"),
        ("l", "event log: joined, left, on/off, renamed, actions"),
        ("m", f"mute everyone in the room (asks y/n){off}"),
        ("v", f"video/audio on/off for the selected participant{off}"),
        ("r", "refresh now"),
        ("q  Ctrl-C", "quit"),
    ]
    lines = [palette.pad(styled("Keys", "1", palette), width)]
    for key, what in entries:
        lines.append(fit(f"  {key:<11} {what}", width))
    closing = fit("  any key closes this help", width).rstrip()
    lines.append(palette.pad(styled(closing, "2", palette), width))
    lines = lines[:height]
    return lines + [" " * width] * (height - len(lines))


__all__ = ["Frame", "draw", "username"]
