"""The meeting console's state and what each key does: rooms and their markers, the event log,
the selection, scrolling, filter, sort and prompts.

Pure: times are given (`now`), nothing is drawn or sent here. A key returns commands for the
session to carry out (send an action, refresh, quit); refreshes and action outcomes come in
through `refreshed` and `action_done`. Drawing is vcctl.watch.screen's.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from vcctl.watch.actions import Action, Outcome
from vcctl.watch.changes import Change, WatchState, participant_key, participants_of
from vcctl.watch.rows import (
    SORT_HELP,
    SORT_KEYS,
    SORTS,
    Heading,
    Item,
    LogEntry,
    Marker,
    Row,
    Section,
    is_on,
    matches,
    username,
)
from vcctl.watch.story import Tone, change_entries

MARKER_TTL = timedelta(seconds=30)  # a change keeps its marker at least this long
MESSAGE_TTL = timedelta(seconds=6)  # the footer's last news
LOG_KEPT = 500
Mode = Literal["browse", "filter", "confirm", "help"]


# -- what a key asks the session to do ------------------------------------------------------------


@dataclass(frozen=True)
class Send:
    action: Action


@dataclass(frozen=True)
class Refresh:
    room_id: str | None  # None: every room


@dataclass(frozen=True)
class Quit:
    pass


@dataclass(frozen=True)
class Redraw:
    pass


@dataclass(frozen=True)
class Suspend:
    pass


Command = Send | Refresh | Quit | Redraw | Suspend


class Console:
    def __init__(
        self,
        states: Iterable[WatchState],
        *,
        sort: str = "on",
        read_only: bool = False,
    ) -> None:
        self.sections = [Section(state) for state in states]
        self.multi = len(self.sections) > 1
        self.sort = sort if sort in SORTS else "on"
        self.read_only = read_only
        self.mode: Mode = "browse"
        self.filter = ""
        self.confirming: int | None = None  # the section a mute-all waits a yes for
        self.log: deque[LogEntry] = deque(maxlen=LOG_KEPT)
        self.log_open = False
        self.message: tuple[str, Tone, datetime] | None = None
        self.cursor_key: tuple[int, str] | None = None  # (section, participant key)
        self.cursor = 0  # index among the rows: where the cursor stays when its row goes
        self.top = 0  # first item shown
        self.page = 10  # rows the list showed last (PgUp/PgDn), set by the screen
        self._version = 0  # bumped whenever rows may differ (refresh, marker gone)
        self._rows: dict[int, tuple[tuple[int, str, str], list[Row]]] = {}

    # -- news from the refresher and the sender -----------------------------------------------

    def refreshed(self, state: WatchState, now: datetime) -> None:
        """A refresh's result (good, failed or deleted) for one room: a copy of its state."""
        index = self._section_index(state.room_id)
        section = self.sections[index]
        before = section.state
        section.state = state
        self._version += 1
        if state.deleted_at is not None and before.deleted_at is None:
            self._log(now, state.room_id, "room deleted", "fail")
            return
        if state.failure is not None:
            if before.failure is None:
                self._log(
                    now, state.room_id, f"refresh failed: {state.failure.message}; backing off"
                )
            return
        if before.failure is not None:
            self._log(
                now,
                state.room_id,
                f"refreshed again after {before.failure.count} failed refresh"
                f"{'' if before.failure.count == 1 else 'es'}",
                "ok",
            )
        at = state.refreshed_at
        for change in state.changes:
            self._mark(section, change, at)
        for text, tone in change_entries(state.changes):
            self._log(at, state.room_id, text, tone)

    def _mark(self, section: Section, change: Change, at: datetime) -> None:
        if change.kind == "room_changed":
            section.room_marker = Marker("changed", at, frozenset(change.fields))
            return
        key = change.key
        if change.kind == "joined":
            section.departed.pop(key, None)
            section.markers[key] = Marker("joined", at)
        elif change.kind == "left":
            section.departed[key] = change.subject
            section.markers[key] = Marker("left", at)
            section.pending.pop(key, None)
        else:
            earlier = section.markers.get(key)
            fields = frozenset(change.fields)
            if earlier is not None and earlier.kind == "changed" and at - earlier.at < MARKER_TTL:
                fields |= earlier.fields
            section.markers[key] = Marker("changed", at, fields)

    def action_done(self, outcome: Outcome, now: datetime) -> list[Command]:
        action = outcome.action
        index = self._section_index(action.room_id)
        section = self.sections[index]
        if action.participant_key is not None:
            section.pending.pop(action.participant_key, None)
        if action.event == "mute-all":
            section.muting = max(0, section.muting - 1)
        took = f"{outcome.seconds * 1000:.0f} ms"
        if outcome.error is None:
            self._log(now, action.room_id, f"sent: {action.what} ({took})", "ok")
            self._say(f"✓ {action.what}", "ok", now)
            return [Refresh(action.room_id)]
        self._log(now, action.room_id, f"failed: {action.what}: {outcome.error}", "fail")
        self._say(f"✗ {action.what}: {outcome.error}", "fail", now)
        return []

    def note(self, text: str, now: datetime, tone: Tone = "info") -> None:
        """A line for the event log from elsewhere (a warning vcctl printed meanwhile)."""
        self._log(now, None, text, tone)

    def expire(self, now: datetime) -> None:
        """Markers, departed participants and the footer's news past their time go."""
        for section in self.sections:
            for key in [k for k, m in section.markers.items() if now - m.at >= MARKER_TTL]:
                del section.markers[key]
                section.departed.pop(key, None)
                self._version += 1
            if section.room_marker is not None and now - section.room_marker.at >= MARKER_TTL:
                section.room_marker = None
        if self.message is not None and now >= self.message[2]:
            self.message = None

    def next_expiry(self) -> datetime | None:
        """When something on show is due to go (a marker, the footer's news)."""
        moments = [m.at + MARKER_TTL for s in self.sections for m in s.markers.values()]
        moments += [s.room_marker.at + MARKER_TTL for s in self.sections if s.room_marker]
        if self.message is not None:
            moments.append(self.message[2])
        return min(moments, default=None)

    @property
    def all_deleted(self) -> bool:
        return all(section.state.deleted_at is not None for section in self.sections)

    def _section_index(self, room_id: str) -> int:
        for index, section in enumerate(self.sections):
            if section.room_id == room_id:
                return index
        raise KeyError(room_id)

    def _log(self, at: datetime, room_id: str | None, text: str, tone: Tone = "info") -> None:
        self.log.append(LogEntry(at, room_id, text, tone))

    def _say(self, text: str, tone: Tone, now: datetime) -> None:
        self.message = (text, tone, now + MESSAGE_TTL)

    # -- what is on show ----------------------------------------------------------------------

    def rows_of(self, index: int) -> list[Row]:
        """A room's rows as shown: filtered and sorted, who left among them (kept until something
        they depend on changes: a key press or a refresh recomputes them at most once)."""
        stamp = (self._version, self.filter, self.sort)
        cached = self._rows.get(index)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        rows = self._compute_rows(index)
        self._rows[index] = (stamp, rows)
        return rows

    def _compute_rows(self, index: int) -> list[Row]:
        section = self.sections[index]
        wanted = self.filter.casefold()
        rows = []
        for participant in participants_of(section.state.room):
            key = participant_key(participant)
            if wanted and not matches(participant, wanted):
                continue
            rows.append(Row(index, key, participant, section.markers.get(key), False))
        for key, participant in section.departed.items():
            if not wanted or matches(participant, wanted):
                rows.append(Row(index, key, participant, section.markers.get(key), True))
        rows.sort(key=SORT_KEYS[self.sort])  # who left stays where they were, struck through
        return rows

    def items(self) -> list[Item]:
        """Everything the list shows, in order: with several rooms, each room's heading (and
        status line when stale or deleted) before its rows."""
        items: list[Item] = []
        for index, section in enumerate(self.sections):
            if self.multi:
                items.append(Heading(index, "header"))
                if section.state.failure is not None or section.state.deleted_at is not None:
                    items.append(Heading(index, "status"))
            items.extend(self.rows_of(index))
        return items

    def view(self, height: int) -> tuple[list[Item], int, int | None]:
        """(items, first shown, index of the cursor's item or None) for a list of `height`
        lines: the cursor kept on its participant (or where it was), and in sight."""
        self.page = max(1, height)
        items = self.items()
        positions: list[int] = []
        keys: list[tuple[int, str]] = []
        for index, item in enumerate(items):
            if isinstance(item, Row):
                positions.append(index)
                keys.append((item.section, item.key))
        selected: int | None = None
        if positions:
            if self.cursor_key in keys:
                self.cursor = keys.index(self.cursor_key)
            else:
                self.cursor = min(max(self.cursor, 0), len(positions) - 1)
            selected = positions[self.cursor]
            self.cursor_key = keys[self.cursor]
            first = selected
            while first > 0 and isinstance(items[first - 1], Heading):
                first -= 1  # a room's first row brings its heading into sight
            if selected - first >= height:
                first = selected
            if first < self.top:
                self.top = first
            if selected >= self.top + height:
                self.top = selected - height + 1
        self.top = max(0, min(self.top, len(items) - height))
        return items, self.top, selected

    def selected_row(self) -> Row | None:
        if self.cursor_key is None:
            return None
        section, key = self.cursor_key
        if section >= len(self.sections):
            return None
        for row in self.rows_of(section):
            if row.key == key:
                return row
        return None

    def current_section(self) -> int:
        """The room the keys act on: the selected participant's, else the first in sight."""
        row = self.selected_row()
        if row is not None:
            return row.section
        items = self.items()
        if 0 <= self.top < len(items):
            return items[self.top].section
        return 0

    def shown_count(self) -> tuple[int, int]:
        """(position of the cursor from 1, rows shown): 0 when there are none."""
        total = self.row_count()
        return (min(self.cursor + 1, total) if total else 0), total

    # -- keys ---------------------------------------------------------------------------------

    def key(self, key: str, now: datetime) -> list[Command]:
        if key == "ctrl-c":
            return [Quit()]
        if key == "ctrl-l":
            return [Redraw()]
        if key == "ctrl-z":
            return [Suspend()]
        if self.mode == "help":
            self.mode = "browse"
            return [Quit()] if key == "q" else []
        if self.mode == "confirm":
            return self._confirm(key, now)
        if self.mode == "filter" and self._filter_key(key):
            return []
        return self._browse(key, now)

    def _browse(self, key: str, now: datetime) -> list[Command]:
        if self._move(key):
            return []
        if key == "q":
            return [Quit()]
        if key == "/":
            self.mode = "filter"
        elif key == "esc":
            self.filter = ""
            self.mode = "browse"
        elif key == "s":
            self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
            self._say(f"sorted {SORT_HELP[self.sort]}", "info", now)
        elif key == "l":
            self.log_open = not self.log_open
        elif key in ("?", "h"):
            self.mode = "help"
        elif key == "r":
            self._say("refreshing now", "info", now)
            return [Refresh(None)]
        elif key == "m":
            return self._ask_mute(now)
        elif key == "v":
            return self._toggle(now)
        return []

    def _move(self, key: str) -> bool:
        steps = {"up": -1, "k": -1, "down": 1, "j": 1, "pgup": -self.page, "pgdn": self.page}
        ends = {"home": 0, "g": 0, "end": 1 << 30, "G": 1 << 30}
        total = self.row_count()
        if key in steps:
            target = self.cursor + steps[key] if total else self.top + steps[key]
        elif key in ends:
            target = ends[key]
        elif key in ("tab", "backtab") and self.multi:
            self._next_room(1 if key == "tab" else -1)
            target = self.cursor
        else:
            return False
        if total == 0:  # nothing to select: the keys scroll the rooms' headings
            self.top = max(0, target)
            return True
        self.cursor = min(max(target, 0), total - 1)
        row = self.all_rows()[self.cursor]
        self.cursor_key = (row.section, row.key)
        return True

    def all_rows(self) -> list[Row]:
        return [row for index in range(len(self.sections)) for row in self.rows_of(index)]

    def row_count(self) -> int:
        return sum(len(self.rows_of(i)) for i in range(len(self.sections)))

    def _next_room(self, step: int) -> None:
        """The cursor to the first row of the next (or previous) room that has rows."""
        counts = [len(self.rows_of(i)) for i in range(len(self.sections))]
        starts = [sum(counts[:i]) for i in range(len(counts))]
        current = self.current_section()
        for offset in range(1, len(counts) + 1):
            index = (current + step * offset) % len(counts)
            if counts[index]:
                self.cursor = starts[index]
                return

    def _filter_key(self, key: str) -> bool:
        """A key typed into the filter (True), or one the browser handles (False)."""
        if key == "enter":
            self.mode = "browse"
        elif key == "esc":
            self.filter = ""
            self.mode = "browse"
        elif key == "backspace":
            self.filter = self.filter[:-1]
        elif key == "ctrl-u":
            self.filter = ""
        elif len(key) == 1 and key.isprintable():
            self.filter += key
        else:
            return False
        return True

    def _ask_mute(self, now: datetime) -> list[Command]:
        if self.read_only:
            self._say("read-only: m (mute everyone) is off", "fail", now)
            return []
        index = self.current_section()
        if self.sections[index].state.deleted_at is not None:
            self._say("this room was deleted", "fail", now)
            return []
        self.mode = "confirm"
        self.confirming = index
        return []

    def _confirm(self, key: str, now: datetime) -> list[Command]:
        index, self.confirming, self.mode = self.confirming, None, "browse"
        if key not in ("y", "Y") or index is None:
            self._say("mute-all not sent", "info", now)
            return []
        section = self.sections[index]
        section.muting += 1
        action = Action("mute-all", section.room_id, None, f"mute everyone in {section.name}")
        return [Send(action)]

    def _toggle(self, now: datetime) -> list[Command]:
        if self.read_only:
            self._say("read-only: v (video/audio on/off) is off", "fail", now)
            return []
        row = self.selected_row()
        if row is None:
            self._say("no participant selected", "fail", now)
            return []
        name = username(row.participant) or row.key
        participant_id = row.participant.get("id")
        if row.departed:
            self._say(f"{name} has left", "fail", now)
            return []
        if not isinstance(participant_id, str):
            self._say(f"{name} has no id to send an event for", "fail", now)
            return []
        section = self.sections[row.section]
        turn_on = not is_on(row.participant)
        event = "activate-video-and-audio" if turn_on else "desactivate-video-and-audio"
        section.pending[row.key] = "on" if turn_on else "off"
        what = f"video/audio {'on' if turn_on else 'off'} for {name}"
        action = Action(event, section.room_id, participant_id, what, participant_key=row.key)
        return [Send(action)]
