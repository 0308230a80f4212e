"""vcctl's benchmark: start-up, batch throughput and batch memory, all measured in one run.

Run it from the repository root after `pip install .` (standard library plus vcctl's own
dependencies; no network: the emulators listen on 127.0.0.1)::

    python bench/run.py            # about 2 minutes on 2 cores
    python bench/run.py --quick    # smaller figures, about 30 s: a smoke run

It prints a table of figures and the ratios the project aims at:

(a) `vcctl rooms get ID --json` wall time against a bare `python -c` that imports requests and
    does the same GET (goal: at most 1.2x);
(b) rows through `participants create --from-file --concurrency 8` with the emulator adding
    50 ms to every answer, against the same rows sent one after another on one keep-alive
    connection (goal: at least 6x faster; 8x is the ideal);
(c) peak RSS of the vcctl process for a small and a large file (goal: flat), with --dry-run
    (validation and output of every row, nothing sent) and with real creates on an emulator
    without latency.

Peak RSS is the child's own, from os.wait4(); wall times include interpreter start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import requests

API_KEY = "bench-api-key-0123456789"
API_TOKEN = "bench-api-token-9876543210"
VCCTL = (sys.executable, "-m", "vcctl")
CHILD_TIMEOUT = 600.0  # seconds; a run that takes longer is a failure, not a figure
LATENCY_MS = 50.0
CONCURRENCY = 8

BARE_GET = """\
import os, sys, requests
response = requests.get(
    sys.argv[1],
    headers={"apiKey": os.environ["VCCTL_API_KEY"], "apiToken": os.environ["VCCTL_API_TOKEN"],
             "Accept": "application/json"},
    timeout=30,
)
response.raise_for_status()
sys.stdout.write(response.text)
"""


@dataclass(frozen=True)
class Sizes:
    startup_runs: int
    throughput_rows: int
    memory_small: int
    memory_large_dry: int
    memory_large_real: int


FULL = Sizes(
    startup_runs=11,
    throughput_rows=1000,
    memory_small=1000,
    memory_large_dry=100_000,
    memory_large_real=10_000,
)
QUICK = Sizes(
    startup_runs=5,
    throughput_rows=200,
    memory_small=1000,
    memory_large_dry=20_000,
    memory_large_real=3000,
)


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    peak_rss_kib: int
    stdout: bytes
    stderr: bytes


class BenchError(Exception):
    """A run that did not do what it should: its figure would mean nothing."""


# -- processes ----------------------------------------------------------------------------------


def run_child(
    args: Sequence[str], env: dict[str, str], *, stdin: IO[bytes] | None = None
) -> ChildRun:
    """Run to completion; wall time and the child's own peak RSS (os.wait4, not the running
    maximum over all children that RUSAGE_CHILDREN gives)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(
            list(args), env=env, stdin=stdin or subprocess.DEVNULL, stdout=out, stderr=err
        )
        watchdog = threading.Timer(CHILD_TIMEOUT, child.kill)
        watchdog.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            watchdog.cancel()
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        run = ChildRun(seconds, int(usage.ru_maxrss), out.read(), err.read())
    if child.returncode == -signal.SIGKILL:
        raise BenchError(f"{' '.join(args[2:])}: still running after {CHILD_TIMEOUT:.0f} s")
    if child.returncode != 0:
        raise BenchError(
            f"{' '.join(args[2:])} exited {child.returncode}: {run.stderr.decode()[-500:]}"
        )
    return run


class EmulatorProcess:
    """`vcctl emulator start` in a child process, so that it does not share the GIL with the
    baselines measured in this one."""

    def __init__(self, latency_ms: float) -> None:
        self.latency_ms = latency_ms
        self.base_url = ""
        self._child: subprocess.Popen[str] | None = None

    def __enter__(self) -> EmulatorProcess:
        self._child = subprocess.Popen(
            [
                *VCCTL, "emulator", "start", "--port", "0", "--api-key", API_KEY,
                "--api-token", API_TOKEN, "--latency", str(self.latency_ms),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )  # fmt: skip
        assert self._child.stdout is not None
        for line in self._child.stdout:  # it prints its settings once it listens
            if line.startswith("VCCTL_BASE_URL="):
                self.base_url = line.strip().split("=", 1)[1]
                break
        if not self.base_url:
            raise BenchError("the emulator did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._child is not None:
            self._child.send_signal(signal.SIGTERM)
            try:
                self._child.wait(10)
            except subprocess.TimeoutExpired:
                self._child.kill()
                self._child.wait()

    def reset(self) -> None:
        requests.post(f"{self.base_url}/_emulator/reset", timeout=10).raise_for_status()

    def count(self, noun: str) -> int:
        state = requests.get(f"{self.base_url}/_emulator/state", timeout=30).json()
        return len(state[noun])

    def new_room(self, session: requests.Session) -> str:
        response = session.post(
            f"{self.base_url}/api/v1/rooms", json={"name": "Webinar"}, timeout=10
        )
        response.raise_for_status()
        return str(response.json()["id"])

    def env(self, config_dir: Path) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("VCCTL_")}
        env.update(
            VCCTL_BASE_URL=self.base_url,
            VCCTL_API_KEY=API_KEY,
            VCCTL_API_TOKEN=API_TOKEN,
            VCCTL_CONFIG_DIR=str(config_dir),  # no profile file of the person running it
        )
        env.pop("NO_COLOR", None)
        return env


def api_session() -> requests.Session:
    session = requests.Session()
    session.headers.update({"apiKey": API_KEY, "apiToken": API_TOKEN})
    return session


# -- input files --------------------------------------------------------------------------------


def participant_rows(count: int) -> Iterator[dict[str, Any]]:
    languages = ("fr", "en", "de", "es")
    for index in range(count):
        yield {
            "username": f"Participant {index:06d}",
            "language": languages[index % len(languages)],
            "video_and_audio_on": index % 3 != 0,
        }


def write_csv(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("username,language,video_and_audio_on\n")
        for row in participant_rows(count):
            handle.write(f"{row['username']},{row['language']},{row['video_and_audio_on']}\n")
    return path


# -- the three measurements ---------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    name: str
    measured: str
    baseline: str
    ratio: float
    goal: str
    met: bool


def measure_startup(emulator: EmulatorProcess, env: dict[str, str], runs: int) -> Figure:
    with api_session() as session:
        room_id = emulator.new_room(session)
    url = f"{emulator.base_url}/fr/api/v1/rooms/{room_id}"
    vcctl_args = [*VCCTL, "rooms", "get", room_id, "--json"]
    bare_args = [sys.executable, "-c", BARE_GET, url]
    # One warm-up of each (page cache, .pyc files), then alternate so that drift hits both.
    run_child(vcctl_args, env)
    run_child(bare_args, env)
    vcctl_times: list[float] = []
    bare_times: list[float] = []
    for _ in range(runs):
        vcctl_run = run_child(vcctl_args, env)
        bare_run = run_child(bare_args, env)
        if json.loads(vcctl_run.stdout) != json.loads(bare_run.stdout):
            raise BenchError("vcctl and the bare GET printed different rooms")
        vcctl_times.append(vcctl_run.seconds)
        bare_times.append(bare_run.seconds)
    vcctl_median = statistics.median(vcctl_times)
    bare_median = statistics.median(bare_times)
    ratio = vcctl_median / bare_median
    return Figure(
        name="(a) rooms get --json, wall time (median)",
        measured=f"vcctl {vcctl_median * 1000:.0f} ms",
        baseline=f"python -c requests {bare_median * 1000:.0f} ms",
        ratio=ratio,
        goal="<= 1.2x",
        met=ratio <= 1.2,
    )


def measure_throughput(
    emulator: EmulatorProcess, env: dict[str, str], workdir: Path, rows: int
) -> Figure:
    source = write_csv(workdir / f"throughput-{rows}.csv", rows)

    emulator.reset()
    with api_session() as session:
        room_id = emulator.new_room(session)
        started = time.perf_counter()
        for row in participant_rows(rows):  # one after another, one keep-alive connection
            response = session.post(
                f"{emulator.base_url}/api/v1/participants",
                json={"room_id": room_id, **row},
                timeout=30,
            )
            response.raise_for_status()
        sequential = time.perf_counter() - started
    if emulator.count("participants") != rows:
        raise BenchError("the sequential baseline did not create every row")

    emulator.reset()
    with api_session() as session:
        room_id = emulator.new_room(session)
    run = run_child(
        [
            *VCCTL, "participants", "create", "--from-file", str(source), "--room", room_id,
            "--concurrency", str(CONCURRENCY), "--json",
        ],
        env,
    )  # fmt: skip
    if len(run.stdout.splitlines()) != rows or emulator.count("participants") != rows:
        raise BenchError("vcctl did not create and print every row")
    speedup = sequential / run.seconds
    return Figure(
        name=f"(b) {rows} creates, {LATENCY_MS:.0f} ms latency, --concurrency {CONCURRENCY}",
        measured=f"vcctl {run.seconds:.2f} s",
        baseline=f"sequential {sequential:.2f} s",
        ratio=speedup,
        goal=">= 6x (ideal 8x)",
        met=speedup >= 6.0,
    )


def measure_memory(
    emulator: EmulatorProcess,
    env: dict[str, str],
    workdir: Path,
    *,
    small: int,
    large: int,
    dry_run: bool,
) -> Figure:
    peaks: list[int] = []
    for rows in (small, large):
        source = write_csv(workdir / f"memory-{rows}.csv", rows)
        emulator.reset()
        with api_session() as session:
            room_id = emulator.new_room(session)
        args = [
            *VCCTL, "participants", "create", "--from-file", str(source), "--room", room_id,
            "--concurrency", str(CONCURRENCY), "--json",
        ]  # fmt: skip
        run = run_child([*args, "--dry-run"] if dry_run else args, env)
        if len(run.stdout.splitlines()) != rows:
            raise BenchError(f"vcctl printed {len(run.stdout.splitlines())} lines for {rows} rows")
        peaks.append(run.peak_rss_kib)
        source.unlink()
    ratio = peaks[1] / peaks[0]
    mode = "--dry-run" if dry_run else "creates, no latency"
    return Figure(
        name=f"(c) peak RSS, {small} vs {large} rows ({mode})",
        measured=f"{large} rows {peaks[1] / 1024:.1f} MiB",
        baseline=f"{small} rows {peaks[0] / 1024:.1f} MiB",
        ratio=ratio,
        goal="flat (<= 1.1x)",
        met=ratio <= 1.1,
    )


# -- report -------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
    }


def print_table(figures: Sequence[Figure], about: dict[str, Any], seconds: float) -> None:
    print(
        f"machine: {about['cores']} cores ({about['cores_usable']} usable), Python "
        f"{about['python']}, {about['platform']}, load average at start "
        f"{' '.join(str(load) for load in about['load_average_at_start'])}"
    )
    headers = ("figure", "vcctl", "baseline", "ratio", "goal", "")
    rows = [
        (f.name, f.measured, f.baseline, f"{f.ratio:.2f}x", f.goal, "met" if f.met else "MISSED")
        for f in figures
    ]
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers))]
    for row in (headers, *rows):
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    print(f"total bench time {seconds:.0f} s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke run")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    options = parser.parse_args(argv)
    sizes = QUICK if options.quick else FULL
    about = machine()
    started = time.perf_counter()
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="vcctl-bench-") as tmp:
        workdir = Path(tmp)
        config_dir = workdir / "config"
        try:
            with EmulatorProcess(0.0) as fast, EmulatorProcess(LATENCY_MS) as slow:
                fast_env = fast.env(config_dir)
                figures.append(measure_startup(fast, fast_env, sizes.startup_runs))
                figures.append(
                    measure_throughput(slow, slow.env(config_dir), workdir, sizes.throughput_rows)
                )
                figures.append(
                    measure_memory(
                        fast, fast_env, workdir, small=sizes.memory_small,
                        large=sizes.memory_large_dry, dry_run=True,
                    )
                )  # fmt: skip
                figures.append(
                    measure_memory(
                        fast, fast_env, workdir, small=sizes.memory_small,
                        large=sizes.memory_large_real, dry_run=False,
                    )
                )  # fmt: skip
        except BenchError as exc:
            print(f"bench: error: {exc}", file=sys.stderr)
            return 1
    seconds = time.perf_counter() - started
    print_table(figures, about, seconds)
    if options.json:
        report = {"machine": about, "seconds": round(seconds, 1), "figures": figures}
        print(json.dumps(report, default=lambda figure: figure.__dict__, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
