"""`vcctl rooms watch`: JSON Lines of changes, pacing and failures, and the live view.

The loop is driven two ways: the real CLI in a subprocess, followed line by line as its output
arrives (with a deadline, never a sleep), and `watch_room` in-process with an injected clock whose
`sleep` records each wait and makes the next change, so that the backoff is checked exactly
without
waiting for it. Both talk real HTTP to the emulator.
"""

from __future__ import annotations

import json
import queue
import random
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import pytest

from tests.helpers import API_KEY, API_TOKEN, Runner, run_in_pty
from vcctl.cli.context import CommandContext
from vcctl.config.settings import Flags, resolve
from vcctl.emulator.server import Emulator, Fault
from vcctl.errors import UnauthorizedError
from vcctl.http.api import Api
from vcctl.http.client import Client
from vcctl.watch import Pace, refresh_delay, watch_room
from vcctl.watch.changes import Change, diff_rooms

INTERVAL = 0.2  # the smallest --interval allowed
LINE_DEADLINE = 15.0  # only a guard against a hang: lines normally come within a second


# -- helpers --------------------------------------------------------------------------------------


@pytest.fixture
def api(emulator: Emulator) -> Api:
    """The test's own hands on the emulator, over HTTP, for changes made while watching."""
    return Api(
        Client(base_url=emulator.base_url, api_key=API_KEY, api_token=API_TOKEN, timeout=5), "fr"
    )


def room_with(api: Api, *usernames: str) -> tuple[str, list[dict[str, Any]]]:
    room = api.create_room({"name": "Weekly sync", "color": "#3b82f6"})
    people = [api.create_participant({"room_id": room["id"], "username": u}) for u in usernames]
    return room["id"], people


def room_gets(emulator: Emulator, room_id: str) -> list[int | str]:
    """What the emulator answered to each GET of the room, in order."""
    return [
        r.answered
        for r in emulator.recorded()
        if r.method == "GET" and r.path == f"/fr/api/v1/rooms/{room_id}"
    ]


class Watch:
    """The real CLI watching a room in a child process, its stdout read line by line."""

    def __init__(self, args: list[str], env: Mapping[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vcctl", "rooms", "watch", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=dict(env),
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        assert self.process.stdout is not None
        threading.Thread(target=self._pump, args=(self.process.stdout,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def next_event(self) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=LINE_DEADLINE)
        except queue.Empty:
            raise AssertionError("no JSON line from the watch in time") from None
        assert line is not None, f"the watch ended early: {self.finish()}"
        event = json.loads(line)  # every stdout line must be one JSON object
        assert isinstance(event, dict)
        return event

    def finish(self) -> tuple[int, str, str]:
        """(exit code, rest of stdout, stderr) once the child has ended."""
        code = self.process.wait(timeout=LINE_DEADLINE)
        rest: list[str] = []
        while (line := self._lines.get(timeout=LINE_DEADLINE)) is not None:
            rest.append(line)
        assert self.process.stderr is not None
        return code, "".join(rest), self.process.stderr.read()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def start_watch(env: dict[str, str]) -> Iterator[Callable[..., Watch]]:
    started: list[Watch] = []

    def start(*args: str) -> Watch:
        watch = Watch(list(args), env)
        started.append(watch)
        return watch

    yield start
    for watch in started:
        watch.kill()


def scripted_pace(*steps: Callable[[], None]) -> tuple[Pace, list[float]]:
    """A Pace whose sleep records the wait and runs the next step; with no step left it stops
    the watch as Ctrl-C would."""
    waits: list[float] = []
    pending = list(steps)

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if not pending:
            raise KeyboardInterrupt
        pending.pop(0)()

    return Pace(sleep=sleep, rng=random.Random(7)), waits


def watch_apis(emulator: Emulator, tmp_path: Path) -> tuple[Api, Api]:
    """The two Apis `rooms watch` gives the watch with these settings: the first refresh with
    the client's retries, the others one attempt each."""
    context = CommandContext.for_settings(settings_for(emulator, tmp_path))
    first = context.client(pool_size=1)
    refresh = context.client(attempts=1, pool_size=1, rate_limited=False)
    return context.api_over(first), context.api_over(refresh)


def settings_for(emulator: Emulator, tmp_path: Path) -> Any:
    return resolve(
        Flags(),
        {
            "VCCTL_BASE_URL": emulator.base_url,
            "VCCTL_API_KEY": API_KEY,
            "VCCTL_API_TOKEN": API_TOKEN,
            "VCCTL_CONFIG_DIR": str(tmp_path / "config"),
        },
    )


def pick(event: dict[str, Any], *names: str) -> tuple[Any, ...]:
    return tuple(event[name] for name in names)


def nothing() -> None:
    pass


def stdout_events(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines()]


# -- the real CLI, JSON Lines ---------------------------------------------------------------------


def test_changes_while_watching_are_json_lines_off_a_terminal(
    start_watch: Callable[..., Watch], api: Api, emulator: Emulator
) -> None:
    room_id, (ada,) = room_with(api, "Ada")
    # No --json: stdout is a pipe, which is enough for JSON Lines.
    watch = start_watch(room_id, "--interval", str(INTERVAL))

    snapshot = watch.next_event()
    assert snapshot["event"] == "snapshot"
    assert snapshot["room_id"] == room_id
    assert snapshot["room"] == api.get_room(room_id)  # the API's room, as received
    datetime.fromisoformat(snapshot["at"])

    bob = api.create_participant({"room_id": room_id, "username": "Bob", "language": "en"})
    joined = watch.next_event()
    assert {k: joined[k] for k in ("event", "room_id", "participant")} == {
        "event": "joined",
        "room_id": room_id,
        "participant": bob,
    }

    api.send_event("desactivate-video-and-audio", room_id, ada["id"])
    changed = watch.next_event()
    assert changed["event"] == "changed"
    assert changed["participant"] == {**ada, "video_and_audio_on": False}
    assert changed["changes"] == {"video_and_audio_on": [True, False]}

    api.update_room(room_id, {"name": "Weekly sync (late)"})
    room_changed = watch.next_event()
    assert room_changed["event"] == "room_changed"
    assert room_changed["changes"] == {"name": ["Weekly sync", "Weekly sync (late)"]}
    assert "participants" not in room_changed["room"]

    api.delete_participant(bob["id"])
    left = watch.next_event()
    assert (left["event"], left["participant"]) == ("left", bob)

    api.delete_room(room_id)
    deleted = watch.next_event()
    assert deleted["event"] == "room_deleted"
    assert deleted["room_id"] == room_id
    assert watch.finish() == (0, "", "")

    gets = [r for r in emulator.recorded() if r.method == "GET"]
    assert {r.path for r in gets} == {f"/fr/api/v1/rooms/{room_id}"}
    assert all(r.headers["apiKey"] == API_KEY and r.headers["apiToken"] == API_TOKEN for r in gets)
    assert room_gets(emulator, room_id)[-1] == 404


def test_several_rooms_are_watched_at_once_and_what_they_hold_is_recorded(
    start_watch: Callable[..., Watch], api: Api, emulator: Emulator, vcctl: Runner
) -> None:
    first, (ada,) = room_with(api, "Ada")
    second, _ = room_with(api)
    watch = start_watch(first, second, first, "--interval", str(INTERVAL))  # given twice: once
    assert pick(watch.next_event(), "event", "room_id") == ("snapshot", first)
    assert pick(watch.next_event(), "event", "room_id") == ("snapshot", second)
    bob = api.create_participant({"room_id": second, "username": "Bob"})
    assert pick(watch.next_event(), "event", "room_id", "participant") == ("joined", second, bob)

    api.delete_room(first)
    assert pick(watch.next_event(), "event", "room_id") == ("room_deleted", first)
    api.delete_room(second)  # the last room watched: the watch ends
    assert pick(watch.next_event(), "event", "room_id") == ("room_deleted", second)
    assert watch.finish() == (0, "", "")

    # The inventory holds what the watch saw: the rooms (now gone) and both participants.
    listed = vcctl("participants", "list", "--include-gone", "--json")
    assert listed.code == 0, listed.stderr
    assert {json.loads(line)["id"] for line in listed.stdout.splitlines()} == {ada["id"], bob["id"]}


def test_sigterm_ends_the_watch_cleanly(
    start_watch: Callable[..., Watch], api: Api, emulator: Emulator
) -> None:
    room_id, _ = room_with(api)
    watch = start_watch(room_id, "--interval", str(INTERVAL), "--json")
    assert watch.next_event()["event"] == "snapshot"
    watch.process.send_signal(signal.SIGTERM)
    assert watch.finish() == (0, "", "")


def test_a_room_that_does_not_exist_cannot_be_watched(start_watch: Callable[..., Watch]) -> None:
    watch = start_watch("nope42", "--json")
    code, stdout, stderr = watch.finish()
    assert (code, stdout) == (6, "")
    error = json.loads(stderr)["error"]
    assert (error["exit_code"], error["status"]) == (6, 404)


def test_ctrl_c_leaves_the_live_view_with_exit_0_and_the_cursor_back(
    env: dict[str, str], api: Api
) -> None:
    room_id, _ = room_with(api, "Ada Lovelace")
    # Ctrl-C typed at the terminal: the line discipline sends SIGINT to the watch.
    result = run_in_pty(
        ["rooms", "watch", room_id, "--interval", str(INTERVAL)],
        env,
        answers=[("Ada Lovelace", "\x03")],
    )
    assert result.code == 0, result
    assert "Weekly sync" in result.stdout
    assert "USERNAME" in result.stdout
    assert "Traceback" not in result.stdout
    assert "error" not in result.stdout
    hide, show = "\x1b[?25l", "\x1b[?25h"
    assert hide in result.stdout
    assert result.stdout.rindex(show) > result.stdout.rindex(hide)  # the cursor is back


# -- the loop in-process: pacing and failures -----------------------------------------------------


def test_a_429_while_watching_backs_off_as_retry_after_asks_then_recovers(
    emulator: Emulator, api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    room_id, _ = room_with(api, "Ada")

    def rate_limited_then_bob_joins() -> None:
        emulator.add_fault(
            Fault(
                action="status",
                status=429,
                retry_after="1",
                times=2,
                method="GET",
                path_regex=f"/rooms/{room_id}$",
            )
        )
        api.create_participant({"room_id": room_id, "username": "Bob"})

    pace, waits = scripted_pace(rate_limited_then_bob_joins, nothing, nothing)
    watch_room(
        *watch_apis(emulator, tmp_path), room_id, interval=INTERVAL, json_mode=True, pace=pace
    )

    # One attempt per refresh: the loop, not the client, waited 1 s twice as Retry-After asked.
    assert waits == [INTERVAL, 1.0, 1.0, INTERVAL]
    assert room_gets(emulator, room_id) == [200, 429, 429, 200]
    out, err = capsys.readouterr()
    events = stdout_events(out)
    assert [e["event"] for e in events] == ["snapshot", "joined"]
    assert events[1]["participant"]["username"] == "Bob"
    warnings = err.splitlines()
    assert len(warnings) == 3, err
    for line in warnings[:2]:
        assert line.startswith(f"vcctl: warning: room {room_id}: refresh failed: HTTP 429")
        assert "next try in 1.0 s, as the API asks (Retry-After)" in line
    assert "refreshed again after 2 failed attempt(s)" in warnings[2]


def test_server_and_network_failures_back_off_and_keep_stdout_clean(
    emulator: Emulator, api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    room_id, _ = room_with(api, "Ada")
    path = f"/rooms/{room_id}$"

    def fail_twice() -> None:
        emulator.add_fault(Fault(action="status", status=500, method="GET", path_regex=path))
        emulator.add_fault(Fault(action="drop", method="GET", path_regex=path))

    pace, waits = scripted_pace(fail_twice, nothing, nothing)
    watch_room(
        *watch_apis(emulator, tmp_path), room_id, interval=INTERVAL, json_mode=True, pace=pace
    )

    assert room_gets(emulator, room_id) == [200, 500, "drop", 200]
    assert waits[0] == INTERVAL
    assert waits[3] == INTERVAL
    assert INTERVAL <= waits[1] <= 2 * INTERVAL  # the delay grows with each failure in a row
    assert 2 * INTERVAL <= waits[2] <= 4 * INTERVAL
    out, err = capsys.readouterr()
    assert [e["event"] for e in stdout_events(out)] == ["snapshot"]  # nothing changed
    assert "HTTP 500" in err
    assert "connection lost" in err


def test_backoff_is_capped_and_never_shorter_than_the_interval() -> None:
    rng = random.Random(1)
    assert refresh_delay(2.0, 1, 0.5, rng) == 2.0  # Retry-After shorter than the interval
    assert refresh_delay(2.0, 1, 7.0, rng) == 7.0
    assert all(15.0 <= refresh_delay(2.0, 12, None, rng) <= 30.0 for _ in range(50))


def test_unauthorized_while_watching_ends_the_watch_with_its_error(
    emulator: Emulator, api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    room_id, _ = room_with(api)

    def revoke() -> None:
        emulator.add_fault(Fault(action="status", status=401, method="GET"))

    pace, _ = scripted_pace(revoke)
    with pytest.raises(UnauthorizedError) as raised:
        watch_room(
            *watch_apis(emulator, tmp_path), room_id, interval=INTERVAL, json_mode=True, pace=pace
        )
    assert raised.value.exit_code == 4
    assert room_gets(emulator, room_id) == [200, 401]


# -- what changed ---------------------------------------------------------------------------------


def person(pid: str, name: str, on: bool = True) -> dict[str, Any]:
    return {
        "id": pid,
        "room_id": "R",
        "username": name,
        "video_and_audio_on": on,
        "language": "fr",
        "created_at": "2030-01-02T09:15:00.000000+00:00",
    }


def test_diff_finds_joined_changed_left_and_room_changes_in_print_order() -> None:
    before = {"id": "R", "name": "A", "participants": [person("p1", "Ada"), person("p2", "Bob")]}
    after = {
        "id": "R",
        "name": "B",
        "participants": [person("p3", "Cy"), person("p1", "Ada", False)],
    }
    assert diff_rooms(before, after) == [
        Change("room_changed", {"id": "R", "name": "B"}, {"name": ("A", "B")}),
        Change("joined", person("p3", "Cy")),
        Change("changed", person("p1", "Ada", False), {"video_and_audio_on": (True, False)}),
        Change("left", person("p2", "Bob")),
    ]
    assert diff_rooms(after, after) == []


# -- the live view on a terminal (its drawing: tests/test_watch_screen.py) -------------------


def test_no_color_keeps_the_live_view_without_colour(env: dict[str, str], api: Api) -> None:
    room_id, _ = room_with(api, "Ada Lovelace")
    result = run_in_pty(
        ["rooms", "watch", room_id, "--interval", str(INTERVAL)],
        {**env, "NO_COLOR": "1"},
        answers=[("Ada Lovelace", "\x03")],
    )
    assert result.code == 0, result
    assert "USERNAME" in result.stdout  # the live table, not JSON Lines
    assert '"event"' not in result.stdout
    assert "\x1b[?25l" in result.stdout  # drawn as a live view
    parameters = [
        int(number)
        for codes in re.findall(r"\x1b\[([0-9;]*)m", result.stdout)
        for number in codes.split(";")
        if number
    ]
    colours = [n for n in parameters if 30 <= n <= 49 or 90 <= n <= 107]
    assert colours == [], colours
