"""The meeting console's speed: a refresh of 200 participants drawn, and a key's request sent.

Run it by hand from the repository root after `pip install .` (no network: the emulator listens
on 127.0.0.1)::

    python bench/watch.py            # about 20 seconds
    python bench/watch.py --json     # the table, then the figures as JSON

Figures, each with a baseline measured in the same run:

(a) CPU per refresh of a room of 200 participants, in-process (`time.process_time`): the answer
    compared with the one before (a third of the people changed), the console's markers and
    event log updated, the rows sorted, the screen drawn and the changed lines written (to
    /dev/null), at 80x24 and 200x50. Goal: at most 50 ms. Baseline: the same 200 rows drawn as
    a rich Table on a console of the same size, the way the watch drew before the console.
(b) Keypress to request: `vcctl rooms watch` in a pseudo-terminal (80x24, 40 participants); the
    bench writes `v` (then `j`, to the next row) and takes the time from the write to the
    emulator reading the event's request (both clocks are this process's monotonic clock).
    Goal: at most 100 ms (median and worst of the presses). Baseline: the same event sent by
    `vcctl events off` started afresh, from the start of the process to the request.
"""

from __future__ import annotations

import argparse
import fcntl
import io
import json
import os
import pty
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from vcctl.emulator.server import Emulator, EmulatorConfig
from vcctl.watch.changes import WatchState, diff_rooms
from vcctl.watch.console import Console
from vcctl.watch.layout import Palette
from vcctl.watch.screen import draw
from vcctl.watch.terminal import Terminal

API_KEY = "bench-api-key-0123456789"
API_TOKEN = "bench-api-token-9876543210"
VCCTL = (sys.executable, "-m", "vcctl")
RENDER_GOAL_MS = 50.0
KEY_GOAL_MS = 100.0
DEADLINE = 30.0  # seconds: only a guard against a hang


@dataclass
class Figure:
    name: str
    median_ms: float
    worst_ms: float
    baseline: str
    baseline_ms: float
    goal_ms: float

    def met(self) -> bool:
        return self.median_ms <= self.goal_ms and self.worst_ms <= self.goal_ms


# -- (a) a refresh drawn --------------------------------------------------------------------------


def participant(number: int, on: bool) -> dict[str, Any]:
    return {
        "id": f"p{number:05d}",
        "room_id": "R",
        "username": f"Person {number:03d}",
        "video_and_audio_on": on,
        "language": "fr",
        "created_at": "2030-01-02T09:15:00.000000+00:00",
    }


def rooms(crowd: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two answers for the same room: in the second a third of the people are turned around."""
    before = [participant(n, n % 2 == 0) for n in range(crowd)]
    after = [
        {**p, "video_and_audio_on": not p["video_and_audio_on"]} if n % 3 == 0 else p
        for n, p in enumerate(before)
    ]
    room = {"id": "R", "name": "All hands", "color": "#3b82f6"}
    return {**room, "participants": before}, {**room, "participants": after}


def cpu_ms(work: Callable[[], None], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.process_time()
        work()
        times.append((time.process_time() - started) * 1000)
    return times


def measure_render(crowd: int, width: int, height: int, runs: int) -> tuple[list[float], float]:
    """(ms per refresh through the console, ms per frame of the rich Table baseline)."""
    first, second = rooms(crowd)
    seen = datetime(2030, 1, 2, 9, 30, tzinfo=datetime.now().astimezone().tzinfo)
    state = WatchState("R", first, seen, 2.0)
    console = Console([state])
    palette = Palette(colour=True, truecolor=True)
    sink = os.open(os.devnull, os.O_WRONLY)
    terminal = Terminal(sink, None)
    answers = [second, first]
    clock = [seen]

    def refresh() -> None:
        current = console.sections[0].state
        answer = answers[0]
        answers.reverse()
        clock[0] += timedelta(seconds=2)
        changes = diff_rooms(current.room, answer)
        console.refreshed(replace(current, room=answer, refreshed_at=clock[0], changes=changes),
                          clock[0])  # fmt: skip
        console.expire(clock[0])
        terminal.show(draw(console, width, height, clock[0], palette).lines)

    try:
        refresh()  # the first frame writes every line; a refresh writes what changed
        console_times = cpu_ms(refresh, runs)
    finally:
        os.close(sink)
    table = rich_table(second)
    baseline = statistics.median(
        cpu_ms(lambda: rich_frame(table, width, height), max(5, runs // 4))
    )
    return console_times, baseline


def rich_table(room: dict[str, Any]) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold")
    for header in ("", "ID", "USERNAME", "LANGUAGE", "VIDEO/AUDIO", "JOINED"):
        table.add_column(header, no_wrap=header != "USERNAME")
    for person in room["participants"]:
        on = person["video_and_audio_on"]
        table.add_row(
            Text("~", style="bold yellow"),
            Text(person["id"]),
            Text(person["username"]),
            Text(person["language"]),
            Text("on" if on else "off", style="green" if on else "red"),
            Text("09:15:00"),
        )
    return table


def rich_frame(table: Any, width: int, height: int) -> None:
    from rich.console import Console as RichConsole

    target = RichConsole(
        file=io.StringIO(), width=width, height=height, force_terminal=True,
        color_system="truecolor",
    )  # fmt: skip
    target.print(table)


# -- (b) a key's request --------------------------------------------------------------------------


class Screen:
    """What the child wrote to the pseudo-terminal, read on a thread (so it never blocks)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.data = b""
        self.changed = threading.Condition()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                chunk = b""
            with self.changed:
                if not chunk:
                    self.changed.notify_all()
                    return
                self.data += chunk
                self.changed.notify_all()

    def wait_for(self, text: str, since: int = 0) -> int:
        wanted = text.encode()
        end = time.monotonic() + DEADLINE
        with self.changed:
            while (found := self.data.find(wanted, since)) < 0:
                left = end - time.monotonic()
                if left <= 0:
                    raise SystemExit(f"the console never showed {text!r}")
                self.changed.wait(left)
        return found + len(wanted)


def wait_for_events(server: Emulator, more_than: int) -> None:
    end = time.monotonic() + DEADLINE
    while len(events(server)) <= more_than:
        if time.monotonic() > end:
            raise SystemExit("the emulator never saw the request")
        time.sleep(0.002)  # polling the emulator's log; the figure is its own timestamp


def events(server: Emulator) -> list[Any]:
    return [r for r in server.recorded() if r.method == "POST" and r.path.endswith("/events")]


def seed(server: Emulator, crowd: int) -> tuple[str, list[str]]:
    headers = {"apikey": API_KEY, "apitoken": API_TOKEN, "content-type": "application/json"}

    def call(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = server.store.handle("POST", path, headers, json.dumps(body).encode())
        result: dict[str, Any] = json.loads(answer.body)
        return result

    room = call("/api/v1/rooms", {"name": "Bench", "color": "#3b82f6"})
    ids = [
        call("/api/v1/participants", {"room_id": room["id"], "username": f"Person {n:03d}"})["id"]
        for n in range(crowd)
    ]
    return room["id"], ids


def child_env(server: Emulator, folder: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VCCTL_")}
    env.update(
        VCCTL_BASE_URL=server.base_url, VCCTL_API_KEY=API_KEY, VCCTL_API_TOKEN=API_TOKEN,
        VCCTL_CONFIG_DIR=f"{folder}/config", VCCTL_DATA_DIR=f"{folder}/data",
        TERM="xterm-256color",
    )  # fmt: skip
    for name in ("COLUMNS", "LINES", "NO_COLOR"):
        env.pop(name, None)
    return env


def measure_keys(presses: int, folder: str) -> tuple[list[float], float]:
    """(ms from each `v` written to its request read, ms of `vcctl events off` from start)."""
    with Emulator(EmulatorConfig(api_key=API_KEY, api_token=API_TOKEN)) as server:
        room_id, ids = seed(server, 40)
        env = child_env(server, folder)
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        child = subprocess.Popen(
            [*VCCTL, "rooms", "watch", room_id, "--interval", "60", "--sort", "name"],
            stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        screen = Screen(master)
        times = []
        try:
            seen = screen.wait_for("1/40")
            for press in range(presses):
                before = len(events(server))
                written = time.monotonic()
                os.write(master, b"v")
                wait_for_events(server, before)
                times.append((events(server)[-1].received_at - written) * 1000)
                seen = screen.wait_for("\u2713 video/audio", seen)  # its outcome shown
                os.write(master, b"j")
                seen = screen.wait_for(f"{press + 2}/40", seen)
            os.write(master, b"q")
            child.wait(timeout=DEADLINE)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            os.close(master)
        baseline = []
        for participant_id in ids[:3]:
            before = len(events(server))
            started = time.monotonic()
            off = [*VCCTL, "events", "off", "--room", room_id, "--participant", participant_id]
            subprocess.run(off, env=env, capture_output=True, check=True, timeout=DEADLINE)
            baseline.append((events(server)[before].received_at - started) * 1000)
    return times, statistics.median(baseline)


# -- the report -----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "load": [round(x, 2) for x in os.getloadavg()]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--runs", type=int, default=40, help="refreshes drawn per size")
    parser.add_argument("--presses", type=int, default=10, help="keys pressed in (b)")
    options = parser.parse_args(argv)

    import tempfile

    figures = []
    for width, height in ((80, 24), (200, 50)):
        times, baseline = measure_render(200, width, height, options.runs)
        figures.append(
            Figure(
                f"(a) refresh of 200 drawn, {width}x{height} (CPU)",
                statistics.median(times), max(times),
                "rich Table of the same rows", baseline, RENDER_GOAL_MS,
            )
        )  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        times, baseline = measure_keys(options.presses, folder)
    figures.append(
        Figure(
            "(b) keypress v to its request", statistics.median(times), max(times),
            "vcctl events off, from its start", baseline, KEY_GOAL_MS,
        )
    )  # fmt: skip
    about = machine()
    print(f"{'figure':<44} {'median':>8} {'worst':>8} {'goal':>7}  baseline (same run)")
    for figure in figures:
        print(
            f"{figure.name:<44} {figure.median_ms:>6.1f}ms {figure.worst_ms:>6.1f}ms "
            f"{figure.goal_ms:>5.0f}ms  {figure.baseline_ms:.1f} ms: {figure.baseline}"
            f"{'' if figure.met() else '  NOT MET'}"
        )
    print(f"machine: {about['cpus']} cpus, load {about['load']}")
    if options.json:
        print(json.dumps({"figures": [asdict(f) for f in figures], "machine": about}))
    return 0 if all(figure.met() for figure in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
