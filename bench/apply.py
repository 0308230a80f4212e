"""How fast `vcctl apply` converges: a stack of 20 rooms x 10 participants at 50 ms latency.

Run it by hand from the repository root after `pip install .` (no network: the emulator listens
on 127.0.0.1 in this process, so the requests it received can be counted)::

    python bench/apply.py            # 20 rooms x 10 participants, --concurrency 8
    python bench/apply.py --json     # the table, then the figures as JSON

Figures, each with its goal:

(a) the first apply (every resource created) against the ideal requests / concurrency x latency:
    at most 1.3x;
(b) a second apply of the same file (nothing to change: GETs only) against the ideal
    recorded rooms / concurrency x latency (a room's answer lists its participants, so one GET
    per room): at most 1.3x.

Wall times are measured around the request phase only, from the emulator's log (the first
request received to the last answer sent), so that interpreter start-up does not count; the whole
command's wall time is printed too, for scale.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from vcctl.emulator.server import Emulator, EmulatorConfig

API_KEY = "bench-api-key-0123456789"
API_TOKEN = "bench-api-token-9876543210"
ROOMS = 20
PARTICIPANTS = 10
LATENCY = 0.05
CONCURRENCY = 8
GOAL = 1.3


@dataclass
class Figure:
    name: str
    requests: int
    methods: dict[str, int]
    seconds: float  # first request received to last answer sent
    command_seconds: float  # the whole command, start-up included
    ideal: float

    @property
    def ratio(self) -> float:
        return self.seconds / self.ideal

    @property
    def met(self) -> bool:
        return self.ratio <= GOAL


def stack_text() -> str:
    lines = ['stack = "bench"', ""]
    for room in range(ROOMS):
        lines += [f"[rooms.room-{room}]", f'name = "Room {room}"', 'color = "#1e90ff"', ""]
        for number in range(PARTICIPANTS):
            lines += [
                f"[rooms.room-{room}.participants.p-{number}]",
                f'username = "Participant {number}"',
                'language = "en"',
                "",
            ]
    return "\n".join(lines)


def apply_once(server: Emulator, folder: Path, name: str, ideal_per_request: float) -> Figure:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VCCTL_")},
        "VCCTL_BASE_URL": server.base_url,
        "VCCTL_API_KEY": API_KEY,
        "VCCTL_API_TOKEN": API_TOKEN,
        "VCCTL_CONFIG_DIR": str(folder / "config"),
        "VCCTL_DATA_DIR": str(folder / "data"),
    }
    server.clear_recorded()
    args = ["apply", "-f", str(folder / "stack.toml"), "--state", str(folder / "state.json")]
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "vcctl", *args, "--concurrency", str(CONCURRENCY)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    command_seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"apply failed ({done.returncode}): {done.stderr}")
    recorded = server.recorded()
    methods: dict[str, int] = {}
    for request in recorded:
        methods[request.method] = methods.get(request.method, 0) + 1
    first = min(request.received_at for request in recorded)
    last = max(request.answered_at or request.received_at for request in recorded)
    return Figure(
        name,
        len(recorded),
        methods,
        last - first,
        command_seconds,
        ideal=len(recorded) / CONCURRENCY * ideal_per_request,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    options = parser.parse_args()
    config = EmulatorConfig(api_key=API_KEY, api_token=API_TOKEN, latency_ms=LATENCY * 1000)
    with tempfile.TemporaryDirectory() as folder, Emulator(config) as server:
        path = Path(folder)
        (path / "stack.toml").write_text(stack_text())
        first = apply_once(server, path, "(a) first apply", LATENCY)
        again = apply_once(server, path, "(b) no-change apply", LATENCY)
    figures = [first, again]
    print(
        f"{ROOMS} rooms x {PARTICIPANTS} participants, {LATENCY * 1000:.0f} ms latency, "
        f"--concurrency {CONCURRENCY}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    for figure in figures:
        print(
            f"{figure.name}: {figure.requests} requests {figure.methods}, "
            f"{figure.seconds:.2f} s (command {figure.command_seconds:.2f} s), "
            f"ideal {figure.ideal:.2f} s, {figure.ratio:.2f}x "
            f"(goal <= {GOAL}x: {'met' if figure.met else 'NOT met'})"
        )
    if options.json:
        print(json.dumps([{**asdict(f), "ratio": f.ratio, "met": f.met} for f in figures]))
    return 0 if all(figure.met for figure in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
