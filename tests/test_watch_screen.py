"""The meeting console in-process: its state (markers and how long they last, the event log,
sorting, the cursor) and the screen drawn from it at a fixed size, with a fixed clock. What a
person sees in a real terminal is tests/test_watch_console.py's; these pin the rules exactly.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vcctl.watch.actions import Action, Outcome
from vcctl.watch.changes import Failure, WatchState, diff_rooms
from vcctl.watch.console import MARKER_TTL, Console, Quit, Refresh, Send
from vcctl.watch.keys import KeyDecoder
from vcctl.watch.layout import Palette, width_of
from vcctl.watch.screen import draw

SEEN = datetime(2030, 1, 2, 9, 30, 5, tzinfo=UTC)
SGR = re.compile("\x1b\\[([0-9;]*)m")


def person(pid: str, name: str, on: bool = True) -> dict[str, Any]:
    return {
        "id": pid,
        "room_id": "R",
        "username": name,
        "video_and_audio_on": on,
        "language": "fr",
        "created_at": "2030-01-02T09:15:00.000000+00:00",
    }


def room(*people: dict[str, Any], name: str = "Weekly sync") -> dict[str, Any]:
    return {"id": "R", "name": name, "color": "#3b82f6", "participants": list(people)}


def refreshed(before: WatchState, after: dict[str, Any], at: datetime) -> WatchState:
    """The state a refresh at `at` hands the console (a copy, as the live view's is)."""
    return replace(before, room=after, refreshed_at=at, changes=diff_rooms(before.room, after))


def screen(
    console: Console, width: int = 100, height: int = 30, now: datetime = SEEN
) -> tuple[list[str], str]:
    """(plain lines, the styled text) of the console on a colour terminal."""
    frame = draw(console, width, height, now, Palette(colour=True, truecolor=True))
    assert len(frame.lines) == height
    plain = [SGR.sub("", line) for line in frame.lines]
    assert all(width_of(line) == width for line in plain), plain
    return plain, "\n".join(frame.lines)


def sample() -> Console:
    """Ada turned off, Cy joined, Bob left, seen at SEEN."""
    ada, bob = person("p1", "Ada"), person("p2", "Bob")
    first = WatchState("R", room(ada, bob), SEEN - timedelta(seconds=2), 2.0)
    console = Console([first])
    after = room(person("p1", "Ada", False), person("p3", "Cy"))
    console.refreshed(refreshed(first, after, SEEN), SEEN)
    return console


def cells(line: str) -> list[str]:
    return line.split()


# -- what is shown --------------------------------------------------------------------------------


def test_the_header_counts_everyone_and_the_rows_mark_who_joined_changed_and_left() -> None:
    console = sample()
    console.sections[0].state.latency = 0.045
    lines, styled = screen(console)
    assert lines[0].startswith(
        "■ Weekly sync  R  2 participants · 1 on · 1 off  refreshed 09:30:05  45 ms"
    )
    assert cells(lines[1]) == ["USERNAME", "ID", "LANGUAGE", "VIDEO/AUDIO▾", "JOINED", "CHANGED"]
    # On first, then by name; who left stays where they were, struck through.
    assert [cells(line) for line in lines[2:5]] == [
        ["-", "Bob", "p2", "fr", "on", "09:15:00", "-", "09:30:05"],
        ["+", "Cy", "p3", "fr", "on", "09:15:00", "+", "09:30:05"],
        ["~", "Ada", "p1", "fr", "off", "09:15:00", "~", "09:30:05"],
    ]
    assert "\x1b[38;2;59;130;246m■" in styled  # the swatch, in the room's colour
    bob_line = styled.split("\n")[2]
    assert "2;9;7" in bob_line  # who left: dim, struck through (and selected: the first row)
    assert "\x1b[31;4moff" in styled.split("\n")[4]  # the changed cell stands out
    assert lines[-1].rstrip().endswith("1/3")


def test_a_marker_lasts_30_seconds_with_its_time_then_goes() -> None:
    console = sample()
    later = SEEN + MARKER_TTL - timedelta(milliseconds=1)
    console.expire(later)
    lines, _ = screen(console, now=later)
    assert [line.split()[-2:] for line in lines[2:5]] == [
        ["-", "09:30:05"],
        ["+", "09:30:05"],
        ["~", "09:30:05"],
    ]
    assert console.next_expiry() == SEEN + MARKER_TTL

    console.expire(SEEN + MARKER_TTL)
    lines, _ = screen(console, now=SEEN + MARKER_TTL)
    assert [cells(line)[:3] for line in lines[2:4]] == [["Cy", "p3", "fr"], ["Ada", "p1", "fr"]]
    assert "Bob" not in "\n".join(lines)  # who left goes with the marker
    assert console.next_expiry() is None


def test_a_change_within_30_seconds_moves_the_marker_to_its_own_time() -> None:
    console = sample()
    state = console.sections[0].state
    twice = SEEN + timedelta(seconds=20)
    after = room(person("p1", "Ada", True), person("p3", "Cy"))
    console.refreshed(refreshed(state, after, twice), twice)
    console.expire(SEEN + MARKER_TTL)  # Cy's marker goes; Ada's is from 20 s later
    lines, _ = screen(console, now=SEEN + MARKER_TTL)
    assert cells(lines[2]) == ["~", "Ada", "p1", "fr", "on", "09:15:00", "~", "09:30:25"]


def test_the_event_log_says_what_happened_and_groups_what_many_did_at_once() -> None:
    people = [person(f"p{n}", f"P{n}") for n in range(6)]
    first = WatchState("R", room(*people), SEEN, 2.0)
    console = Console([first])
    muted = [{**p, "video_and_audio_on": False} for p in people[:5]] + [people[5]]
    renamed = {**muted[5], "username": "P5 (host)"}
    after = room(*muted[:5], renamed, person("p9", "New"), name="Board")
    console.refreshed(refreshed(first, after, SEEN), SEEN)
    console.log_open = True
    lines, _ = screen(console, height=20)
    log = lines[lines.index(next(line for line in lines if "event log" in line)) + 1 :]
    assert [line.rstrip() for line in log[:4]] == [
        "09:30:05 room renamed Weekly sync → Board",
        "09:30:05 5 participants: video/audio off (P0, P1, P2, …)",
        "09:30:05 P5 (host): renamed P5 → P5 (host)",
        "09:30:05 New joined",
    ]


def test_stale_data_says_since_when_why_and_the_next_try() -> None:
    console = sample()
    state = console.sections[0].state
    failure = Failure(
        since=SEEN,
        count=2,
        message="HTTP 429 Too Many Requests",
        wait=1.0,
        next_try=SEEN + timedelta(seconds=4),
        retry_after=True,
    )
    console.refreshed(replace(state, failure=failure, changes=[]), SEEN)
    lines, _ = screen(console, width=160)
    assert lines[1].rstrip() == (
        "stale since 09:30:05 (2 failed refreshes): HTTP 429 Too Many Requests · "
        "backing off as the API asks: next try at 09:30:09"
    )
    assert "Ada" in "\n".join(lines)  # the last good data stays on show
    console.refreshed(replace(state, failure=None, deleted_at=SEEN), SEEN)
    assert "room deleted (seen at 09:30:05)" in screen(console)[0][1]


def test_an_empty_room_says_so() -> None:
    console = Console([WatchState("R", room(), SEEN, 0.5)])
    lines, _ = screen(console)
    assert "0 participants · 0 on · 0 off" in lines[0]
    assert lines[2].strip() == "no participants"
    assert lines[-1].rstrip().endswith("0/0")


def test_names_from_the_api_are_shown_escaped() -> None:
    evil = {**person("p1", "\x1b[2JEve\u202e"), "language": "f\rr"}
    hostile = {"id": "R", "name": "Sync\x07", "color": "not a colour", "participants": [evil]}
    first = WatchState("R", hostile, SEEN, 2.0)
    console = Console([first])
    console.refreshed(refreshed(first, {**hostile, "participants": []}, SEEN), SEEN)
    console.log_open = True
    lines, styled = screen(console, width=120)
    text = "\n".join(lines)
    assert "\\x1b[2JEve\\u202e" in text
    assert "Sync\\x07" in text
    assert "f\\rr" in text
    assert "\\x1b[2JEve\\u202e left" in text  # the event log too
    for raw in ("\x1b[2J", "\x07", "\u202e", "\r"):
        assert raw not in styled


@pytest.mark.parametrize(("width", "height"), [(40, 10), (20, 4), (200, 50)])
def test_every_size_fits_with_wide_characters_and_long_names(width: int, height: int) -> None:
    people = [person(f"p{n}", f"山田太郎 {'x' * n}", n % 2 == 0) for n in range(60)]
    console = Console([WatchState("R", room(*people, name="会議 " * 20), SEEN, 2.0)])
    for log_open in (False, True):
        console.log_open = log_open
        lines, _ = screen(console, width, height)  # every line exactly `width` cells
        assert "30 on" in lines[0] or "30/60 on" in lines[0]


def test_no_color_keeps_the_styles_that_are_not_colours() -> None:
    console = sample()
    frame = draw(console, 100, 30, SEEN, Palette(colour=False))
    parameters = {
        int(number) for codes in SGR.findall("".join(frame.lines)) for number in codes.split(";")
    }
    assert not {n for n in parameters if 30 <= n <= 49 or 90 <= n <= 107}
    assert {1, 2, 4, 7, 9} <= parameters  # bold, dim, underline, reverse, struck through


# -- keys -----------------------------------------------------------------------------------------


def test_keys_arrive_whole_across_reads_in_both_cursor_key_forms() -> None:
    decoder = KeyDecoder()
    assert decoder.feed(b"\x1b[A\x1bOB\x1b[5~\x1b[6~\x1b[1~\x1b[4~\x1b[H\x1bOF") == [
        "up",
        "down",
        "pgup",
        "pgdn",
        "home",
        "end",
        "home",
        "end",
    ]
    assert decoder.feed(b"\x1b[") == []  # the rest of the sequence is still to come
    assert decoder.pending()
    assert decoder.feed(b"1;5B") == ["down"]  # Ctrl-Down: a down arrow
    assert decoder.feed(b"\x1b") == []
    assert decoder.flush() == ["esc"]  # nothing followed it: the Escape key
    assert decoder.feed("m\x03\r\x7fé".encode()[:-1]) == ["m", "ctrl-c", "enter", "backspace"]
    assert decoder.feed("é".encode()[-1:]) == ["é"]  # a character split between reads
    assert decoder.feed(b"\x1b[Z\t\x01") == ["backtab", "tab"]  # an unknown control is dropped


def test_m_asks_first_and_v_sends_the_event_the_selected_row_needs() -> None:
    console = sample()
    screen(console)  # the cursor on the first row: Bob, who left
    assert console.key("v", SEEN) == []
    assert console.message is not None
    assert console.message[0] == "Bob has left"
    console.key("down", SEEN)
    (send,) = console.key("v", SEEN)
    assert send == Send(
        Action(
            "desactivate-video-and-audio",
            "R",
            "p3",
            "video/audio off for Cy",
            participant_key="p3",
        )
    )
    assert "→off" in screen(console)[0][3]  # under way
    outcome = Outcome(send.action, None, 0.012)
    assert console.action_done(outcome, SEEN) == [Refresh("R")]
    assert console.message is not None
    assert console.message[0] == "✓ video/audio off for Cy"

    assert console.key("m", SEEN) == []
    assert "Mute everyone in Weekly sync (2)? y/n" in screen(console)[0][-1]
    assert console.key("n", SEEN) == []  # anything but y: nothing sent
    console.key("m", SEEN)
    (mute,) = console.key("y", SEEN)
    assert mute == Send(Action("mute-all", "R", None, "mute everyone in Weekly sync"))
    failed = Outcome(mute.action, "HTTP 500 Internal Server Error", 0.5)
    assert console.action_done(failed, SEEN) == []
    assert "✗ mute everyone in Weekly sync: HTTP 500" in screen(console)[0][-1]
    assert console.key("q", SEEN) == [Quit()]


def test_read_only_sends_nothing() -> None:
    console = Console([WatchState("R", room(person("p1", "Ada")), SEEN, 2.0)], read_only=True)
    screen(console)
    assert console.key("v", SEEN) == []
    assert console.key("m", SEEN) == []
    assert console.mode == "browse"
    assert "read-only" in screen(console)[0][-1]
