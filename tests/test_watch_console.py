"""`vcctl rooms watch` as a meeting console, in a real terminal: tmux panes at 80x24, 200x50 and
40x10, with 40 and 200 participants, against the emulator (its recorded requests say exactly
what each key sent). Every step waits for what the pane shows, with a deadline.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import API_KEY, API_TOKEN, assert_sent
from tests.tmux import BEFORE, Pane, tmux_available
from vcctl.emulator.server import Emulator, Fault

if not tmux_available():
    if os.environ.get("CI"):
        raise RuntimeError("tmux is not installed, and CI must run these tests (.ci/run)")
    pytest.skip("tmux is not installed", allow_module_level=True)

SIZES = [(80, 24), (200, 50), (40, 10)]
CROWDS = [40, 200]
ROOM_NAME = "Weekly sync"
KEY_LATENCY_GUARD = 1.0  # seconds; the figure is ~10 ms (bench/watch.py): this only catches a hang


# -- the meeting ----------------------------------------------------------------------------------


def speaking(number: int) -> bool:
    return number % 3 == 0


def person(number: int) -> str:
    return f"Person {number:03d}"


def shown_order(crowd: int) -> list[str]:
    """The console's default order: video/audio on first, then by name."""
    return sorted(
        (person(n) for n in range(1, crowd + 1)),
        key=lambda name: (not speaking(int(name.split()[1])), name),
    )


def call(emulator: Emulator, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """The emulator's API, in-process and unrecorded: seeding 200 people takes milliseconds."""
    headers = {"apikey": API_KEY, "apitoken": API_TOKEN, "content-type": "application/json"}
    answer = emulator.store.handle(method, path, headers, json.dumps(body).encode())
    assert answer.status == 200, answer.body
    result: dict[str, Any] = json.loads(answer.body)
    return result


def meeting(emulator: Emulator, crowd: int, name: str = ROOM_NAME) -> tuple[str, dict[str, str]]:
    """A room of `crowd` people, every third with video/audio on: (room id, name -> id)."""
    room = call(emulator, "POST", "/api/v1/rooms", {"name": name, "color": "#3b82f6"})
    ids = {}
    for number in range(1, crowd + 1):
        fields = {
            "room_id": room["id"],
            "username": person(number),
            "video_and_audio_on": speaking(number),
        }
        ids[person(number)] = call(emulator, "POST", "/api/v1/participants", fields)["id"]
    return room["id"], ids


def events_sent(emulator: Emulator) -> list[Any]:
    return [r for r in emulator.recorded() if r.method == "POST" and r.path.endswith("/events")]


# -- reading the screen ---------------------------------------------------------------------------


def header_counts(crowd: int) -> Callable[[str], bool]:
    """The header shows how many are in the room and how many are on and off."""
    on = sum(1 for n in range(1, crowd + 1) if speaking(n))
    pattern = re.compile(rf"\b{crowd}\b.*\b{on} on\b.*\b{crowd - on} off\b")

    def shown(screen: str) -> bool:
        return bool(pattern.search(screen.split("\n")[0]))

    return shown


def position(screen: str, height: int) -> tuple[int, int]:
    """(selected row, rows) from the footer's "N/M"; (0, 0) while the footer is not drawn yet
    (a screen read while the terminal is still taking in a frame)."""
    lines = screen.split("\n")
    found = re.search(r"(\d+)/(\d+)\s*$", lines[height - 1]) if len(lines) >= height else None
    return (int(found.group(1)), int(found.group(2))) if found is not None else (0, 0)


def at_position(wanted: int, height: int) -> Callable[[str], bool]:
    return lambda screen: position(screen, height)[0] == wanted


def beyond(before: int, height: int) -> Callable[[str], bool]:
    return lambda screen: position(screen, height)[0] > before


def selected_line(pane: Pane) -> str:
    """The highlighted row (reverse video), as text."""
    for line in pane.styled_screen().split("\n"):
        styles = re.findall("\x1b\\[([0-9;]*)m", line)
        if any("7" in style.split(";") for style in styles):
            return re.sub("\x1b\\[[0-9;]*m", "", line)
    raise AssertionError(f"no row is highlighted:\n{pane.screen()}")


@pytest.fixture
def panes(tmp_path: Path, env: dict[str, str]) -> Iterator[Callable[[int, int], Pane]]:
    made: list[Pane] = []

    def make(width: int, height: int) -> Pane:
        pane = Pane(tmp_path, env, width, height)
        made.append(pane)
        return pane

    yield make
    for pane in made:
        pane.close()


def assert_terminal_given_back(pane: Pane) -> None:
    before, after = pane.modes()
    assert after == before  # raw mode off: the same modes as before vcctl ran
    assert pane.flag("cursor_flag") == "1"  # the cursor shown
    assert pane.flag("alternate_on") == "0"  # the shell's screen back
    screen = pane.screen()
    assert BEFORE in screen
    assert "USERNAME" not in screen


# -- sizes and crowds -----------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("crowd", CROWDS)
def test_the_console_counts_everyone_and_scrolls_to_the_last(
    emulator: Emulator, panes: Callable[[int, int], Pane], width: int, height: int, crowd: int
) -> None:
    room_id, _ = meeting(emulator, crowd)
    order = shown_order(crowd)
    pane = panes(width, height)
    pane.start(["rooms", "watch", room_id])

    screen = pane.wait_for(lambda s: header_counts(crowd)(s) and position(s, height) == (1, crowd))
    assert order[0] in screen
    if crowd > height:
        assert order[-1] not in screen  # more people than lines: the rest is a scroll away
    assert all(len(line) <= width for line in screen.split("\n"))

    shown = 1
    while shown < crowd:  # PgDn, a page at a time, to the end
        pane.keys("NPage")
        screen = pane.wait_for(beyond(shown, height))
        shown = position(screen, height)[0]
    assert order[-1] in screen
    assert order[-1] in selected_line(pane)

    pane.keys("Home")
    screen = pane.wait_for(at_position(1, height))
    assert order[0] in selected_line(pane)
    pane.keys("End")
    pane.wait_for(at_position(crowd, height))
    assert order[-1] in selected_line(pane)
    pane.keys("Up")
    pane.wait_for(at_position(crowd - 1, height))
    assert order[-2] in selected_line(pane)
    pane.keys("PPage")
    pane.wait_for(lambda s: position(s, height)[0] < crowd - 1)

    pane.keys("q")
    assert pane.exit_code() == 0
    assert_terminal_given_back(pane)
    assert events_sent(emulator) == []  # looking sends nothing


# -- actions --------------------------------------------------------------------------------------


def test_m_then_y_sends_one_mute_all_and_n_sends_nothing(
    emulator: Emulator, panes: Callable[[int, int], Pane]
) -> None:
    room_id, _ = meeting(emulator, 40)
    pane = panes(80, 24)
    pane.start(["rooms", "watch", room_id, "--interval", "0.5"])
    pane.wait_for(header_counts(40))

    pane.keys("m")
    pane.wait_for(f"Mute everyone in {ROOM_NAME} (40)? y/n")
    pane.keys("n")
    pane.wait_for("mute-all not sent")
    assert events_sent(emulator) == []

    pane.keys("m")
    pane.wait_for("? y/n")
    asked = time.monotonic()
    pane.keys("y")
    pane.wait_for(f"✓ mute everyone in {ROOM_NAME}")
    (sent,) = events_sent(emulator)
    assert_sent(sent, "POST", "/fr/api/v1/events", {"room_event": "mute-all", "room_id": room_id})
    assert sent.received_at - asked < KEY_LATENCY_GUARD

    pane.wait_for(lambda s: "40 participants · 0 on · 40 off" in s.split("\n")[0])
    pane.keys("l")
    screen = pane.wait_for("event log")
    assert f"sent: mute everyone in {ROOM_NAME}" in screen
    assert "13 participants: video/audio off" in screen  # one line for everyone muted
    assert len(events_sent(emulator)) == 1
    pane.keys("q")
    assert pane.exit_code() == 0


def test_v_turns_the_selected_participant_off_or_on(
    emulator: Emulator, panes: Callable[[int, int], Pane]
) -> None:
    room_id, ids = meeting(emulator, 40)
    order = shown_order(40)
    pane = panes(80, 24)
    pane.start(["rooms", "watch", room_id, "--interval", "0.5"])
    pane.wait_for(header_counts(40))

    pane.keys("Down", "Down")
    pane.wait_for(at_position(3, 24))
    speaker = order[2]  # on: the on come first
    assert speaker in selected_line(pane)
    asked = time.monotonic()
    pane.keys("v")
    pane.wait_for(f"✓ video/audio off for {speaker}")
    (off,) = events_sent(emulator)
    body = {"room_event": "desactivate-video-and-audio", "room_id": room_id}
    assert_sent(off, "POST", "/fr/api/v1/events", {**body, "participant_id": ids[speaker]})
    assert off.received_at - asked < KEY_LATENCY_GUARD

    pane.keys("End")
    pane.wait_for(at_position(40, 24))
    listener = order[-1]  # off
    assert listener in selected_line(pane)
    pane.keys("v")
    pane.wait_for(f"✓ video/audio on for {listener}")
    _, on = events_sent(emulator)
    body = {"room_event": "activate-video-and-audio", "room_id": room_id}
    assert_sent(on, "POST", "/fr/api/v1/events", {**body, "participant_id": ids[listener]})
    # The next refresh shows both, marked as changed, and the cursor stays on the one it was on.
    screen = pane.wait_for(lambda s: "40 participants · 13 on · 27 off" in s.split("\n")[0])
    assert listener in selected_line(pane)
    assert re.search(rf"~ {listener} .* on .* ~ \d\d:\d\d:\d\d", screen), screen
    pane.keys("q")
    assert pane.exit_code() == 0


def test_a_failed_action_is_shown_and_the_console_goes_on(
    emulator: Emulator, panes: Callable[[int, int], Pane]
) -> None:
    room_id, _ = meeting(emulator, 40)
    emulator.add_fault(
        Fault(action="status", status=402, method="POST", path_regex="/events$", times=1)
    )
    pane = panes(80, 24)
    pane.start(["rooms", "watch", room_id])
    pane.wait_for(header_counts(40))
    pane.keys("v")
    screen = pane.wait_for("✗ video/audio off for")
    assert "HTTP 402" in screen
    pane.keys("l")
    assert "failed: video/audio off for" in pane.wait_for("event log")
    pane.keys("v")  # the console is still there, and the next one goes through
    pane.wait_for("✓ video/audio off for")
    pane.keys("q")
    assert pane.exit_code() == 0
    assert [r.answered for r in events_sent(emulator)] == [402, 200]


def test_several_rooms_show_one_section_each_and_keys_act_on_the_selected_room(
    emulator: Emulator, panes: Callable[[int, int], Pane]
) -> None:
    board, _ = meeting(emulator, 3, "Board")
    crew, _ = meeting(emulator, 40, "Crew")
    pane = panes(80, 24)
    pane.start(["rooms", "watch", board, crew])
    totals = "2 rooms · 43 participants · 14 on · 29 off"
    # The whole frame, footer included: a read can land while the terminal takes one in.
    screen = pane.wait_for(lambda s: totals in s.split("\n")[0] and position(s, 24) != (0, 0))
    headings = [line for line in screen.split("\n") if "participants · " in line]
    assert "Board" in headings[1]
    assert "3 participants · 1 on · 2 off" in headings[1]
    assert "Crew" in headings[2]
    assert "40 participants · 13 on · 27 off" in headings[2]
    assert position(screen, 24) == (1, 43)

    pane.keys("Tab")  # the next room's first row
    pane.wait_for(lambda s: "Crew  4/43" in s.split("\n")[23])
    pane.keys("m")
    pane.wait_for("Mute everyone in Crew (40)? y/n")
    pane.keys("y")
    pane.wait_for("✓ mute everyone in Crew")
    (sent,) = events_sent(emulator)
    assert_sent(sent, "POST", "/fr/api/v1/events", {"room_event": "mute-all", "room_id": crew})
    pane.keys("q")
    assert pane.exit_code() == 0


def test_read_only_keys_look_and_move_but_send_nothing(
    emulator: Emulator, panes: Callable[[int, int], Pane]
) -> None:
    room_id, _ = meeting(emulator, 40)
    pane = panes(80, 24)
    pane.start(["rooms", "watch", room_id, "--read-only", "--sort", "name"])
    # The header is drawn before the footer: wait for the whole first frame, not just its top.
    pane.wait_for(lambda s: header_counts(40)(s) and "read-only" in s.split("\n")[23])
    assert person(1) in selected_line(pane)  # by name: Person 001 first
    pane.keys("m")
    pane.wait_for("read-only: m (mute everyone) is off")
    pane.keys("Down", "v")
    pane.wait_for("read-only: v (video/audio on/off) is off")
    assert person(2) in selected_line(pane)
    pane.keys("q")
    assert pane.exit_code() == 0
    assert events_sent(emulator) == []


def test_term_dumb_keeps_json_lines_on_a_terminal(
    emulator: Emulator, panes: Callable[[int, int], Pane]
) -> None:
    room_id, _ = meeting(emulator, 3)
    pane = panes(200, 50)
    pane.start(["rooms", "watch", room_id], extra_env={"TERM": "dumb"})
    screen = pane.wait_for('"event":"snapshot"')
    assert pane.flag("alternate_on") == "0"
    assert "USERNAME" not in screen
    os.kill(pane.vcctl_pid(), signal.SIGTERM)
    assert pane.exit_code() == 0
    assert events_sent(emulator) == []


# -- the other keys -------------------------------------------------------------------------------


def test_filter_sort_help_and_the_event_log(
    emulator: Emulator, panes: Callable[[int, int], Pane]
) -> None:
    room_id, ids = meeting(emulator, 40)
    pane = panes(80, 24)
    pane.start(["rooms", "watch", room_id, "--interval", "0.3"])
    pane.wait_for(header_counts(40))

    pane.keys("/")
    pane.text("son 02")
    screen = pane.wait_for("10 shown")
    rows = [line for line in screen.split("\n") if "Person" in line]
    assert sorted(re.findall(r"Person \d+", "\n".join(rows))) == [person(n) for n in range(20, 30)]
    pane.keys("Enter")
    pane.wait_for("filter “son 02”  1/10")
    assert person(21) in selected_line(pane)  # the first of them with video/audio on
    pane.keys("Escape")
    pane.wait_for(lambda s: position(s, 24) == (7, 40))  # everyone again, the cursor kept
    assert person(21) in selected_line(pane)

    pane.keys("s")
    screen = pane.wait_for("sorted by name")
    assert "USERNAME▾" in screen
    assert position(screen, 24) == (21, 40)  # the same person, now 21st by name
    assert person(21) in selected_line(pane)
    pane.keys("Home")
    assert person(1) in pane.wait_for(at_position(1, 24)).split("\n")[2]

    pane.keys("?")
    screen = pane.wait_for("any key closes this help")
    assert "mute everyone in the room (asks y/n)" in screen
    pane.keys("x")
    pane.wait_for(lambda s: "any key closes" not in s)

    # Someone joins, someone leaves, someone is turned off: markers with the time, and the log.
    call(emulator, "POST", "/api/v1/participants", {"room_id": room_id, "username": "Newcomer"})
    call(emulator, "DELETE", f"/api/v1/participants/{ids[person(2)]}", {})
    event = {"room_event": "desactivate-video-and-audio", "room_id": room_id}
    call(emulator, "POST", "/api/v1/events", {**event, "participant_id": ids[person(3)]})
    pane.keys("l")
    screen = pane.wait_for(lambda s: "Newcomer joined" in s and "Person 002 left" in s)
    assert "Person 003: video/audio off" in screen
    assert re.search(r"- Person 002 .* - \d\d:\d\d:\d\d", screen), screen  # left, still shown
    assert re.search(r"~ Person 003 .* off .* ~ \d\d:\d\d:\d\d", screen), screen
    pane.keys("q")
    assert pane.exit_code() == 0


def test_a_resize_draws_the_console_at_the_new_size(
    emulator: Emulator, panes: Callable[[int, int], Pane]
) -> None:
    room_id, _ = meeting(emulator, 200)
    pane = panes(80, 24)
    pane.start(["rooms", "watch", room_id])
    pane.wait_for(header_counts(200))

    pane.resize(40, 10)
    screen = pane.wait_for(
        lambda s: "200 · 66 on · 134 off" in s.split("\n")[0] and position(s, 10) != (0, 0)
    )
    assert position(screen, 10) == (1, 200)
    assert "A/V" in screen.split("\n")[1]
    pane.resize(200, 50)
    screen = pane.wait_for(
        lambda s: "200 participants · 66 on · 134 off" in s and position(s, 50) != (0, 0)
    )
    assert "VIDEO/AUDIO" in screen.split("\n")[1]
    assert position(screen, 50) == (1, 200)
    pane.keys("q")
    assert pane.exit_code() == 0
    assert_terminal_given_back(pane)


# -- ending ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "code"),
    [("q", 0), ("ctrl-c", 0), ("SIGTERM", 0), ("SIGHUP", 129), ("401", 4)],
)
def test_every_ending_gives_the_terminal_back(
    emulator: Emulator, panes: Callable[[int, int], Pane], how: str, code: int
) -> None:
    room_id, _ = meeting(emulator, 40)
    pane = panes(80, 24)
    pane.start(["rooms", "watch", room_id, "--interval", "0.3"])
    pane.wait_for(header_counts(40))
    if how == "q":
        pane.keys("q")
    elif how == "ctrl-c":
        pane.keys("C-c")
    elif how == "401":  # an error that ends the watch: the credentials were revoked meanwhile
        emulator.add_fault(Fault(action="status", status=401, method="GET", times=1))
    else:
        os.kill(pane.vcctl_pid(), getattr(signal, how))
    assert pane.exit_code() == code
    assert_terminal_given_back(pane)
    if how == "401":  # the error, on the shell's screen once the console has gone
        assert "vcctl: error: " in pane.screen()
