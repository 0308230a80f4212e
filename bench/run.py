"""vcctl's benchmark: start-up, listing, batch CPU, throughput and memory, measured in one run.

Run it with the interpreter of an installed vcctl (`pip install .`; standard library plus
vcctl's own dependencies; no network: the emulators listen on 127.0.0.1)::

    python bench/run.py                          # about 3 minutes on 2 cores
    python bench/run.py --quick                  # smaller figures, about a minute: a smoke run
    python bench/run.py --against /tmp/main/bin/python   # another installed vcctl, same run

It prints a table of figures and the ratios the project aims at, each against a baseline
measured in the same run, interleaved with it:

(a) `vcctl rooms get ID --json` wall time against a bare `python -c` that imports requests and
    does the same GET, min and median of the pairs (goal: at most 1.2x);
(b) rows through `participants create --from-file --concurrency 8` with the emulator adding
    50 ms to every answer, against the same rows sent one after another on one keep-alive
    connection (goal: at least 6x faster; 8x is the ideal);
(c) peak RSS of the vcctl process for a small and a large file (goal: flat), with --dry-run
    (validation and output of every row, nothing sent) and with real creates on an emulator
    without latency;
(d) `vcctl rooms list` (plain text, off a terminal) of 10,000 inventory records against
    `vcctl --version`, median wall time (goal: at most 1.5x; bench/inventory.py's seeding);
(e) CPU per row of a 1000-row `rooms create --from-file -q --concurrency 8`, the inventory off,
    against a thread-pool floor (goal: at most 1.2x; bench/batch_cpu.py's floor and CPU reading).

With --against PYTHON, the vcctl installed for that interpreter (a venv of main, say) is
measured too, interleaved with the same baselines: (a), (d) and (e) get a row for each copy.
Peak RSS and CPU are the child's own, from os.wait4(); wall times include interpreter start-up.
Every child starts in a scratch folder: `python -m vcctl` puts the current folder first on
sys.path, so from the checkout it would run the sources there instead of the installed copy.
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
from batch_cpu import FLOOR, WORKERS, cpu_of
from batch_cpu import ROWS as BATCH_ROWS
from inventory import RECORDS

API_KEY = "bench-api-key-0123456789"
API_TOKEN = "bench-api-token-9876543210"
VCCTL = (sys.executable, "-m", "vcctl")  # the copy under test; --against adds another
CHILD_TIMEOUT = 600.0  # seconds; a run that takes longer is a failure, not a figure
LATENCY_MS = 50.0
CONCURRENCY = 8

# bench/inventory.py's seeding, run by the interpreter of the copy that will list the file (a
# file is written at that copy's schema version).
SEED = """\
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from inventory import seed_inventory
seed_inventory(Path(sys.argv[2]), sys.argv[3], sys.argv[4])
"""

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
    listing_runs: int
    batch_cpu_runs: int
    throughput_rows: int
    memory_small: int
    memory_large_dry: int
    memory_large_real: int


FULL = Sizes(
    startup_runs=25,
    listing_runs=9,
    batch_cpu_runs=7,
    throughput_rows=1000,
    memory_small=1000,
    memory_large_dry=100_000,
    memory_large_real=10_000,
)
QUICK = Sizes(
    startup_runs=7,
    listing_runs=3,
    batch_cpu_runs=3,
    throughput_rows=200,
    memory_small=1000,
    memory_large_dry=20_000,
    memory_large_real=3000,
)


@dataclass(frozen=True)
class Copy:
    """One installed vcctl under test: how to start it, and the name its rows carry."""

    label: str
    python: str

    @property
    def args(self) -> tuple[str, ...]:
        return (self.python, "-m", "vcctl")


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

    def env(self, config_dir: Path, data_dir: Path) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("VCCTL_")}
        env.update(
            VCCTL_BASE_URL=self.base_url,
            VCCTL_API_KEY=API_KEY,
            VCCTL_API_TOKEN=API_TOKEN,
            VCCTL_CONFIG_DIR=str(config_dir),  # no profile file of the person running it
            VCCTL_DATA_DIR=str(data_dir),  # nor their inventory
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
    ratio_min: float | None = None  # the ratio of the fastest runs, where pairs were timed


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def measure_startup(
    emulator: EmulatorProcess, env: dict[str, str], runs: int, copies: Sequence[Copy]
) -> list[Figure]:
    with api_session() as session:
        room_id = emulator.new_room(session)
    url = f"{emulator.base_url}/fr/api/v1/rooms/{room_id}"
    bare_args = [sys.executable, "-c", BARE_GET, url]
    commands = {copy: [*copy.args, "rooms", "get", room_id, "--json"] for copy in copies}
    # Each copy records in an inventory of its own: an older one would not use a newer one's.
    envs = {
        copy: {**env, "VCCTL_DATA_DIR": f"{env['VCCTL_DATA_DIR']}-{n}"}
        for n, copy in enumerate(copies)
    }
    # One warm-up of each (page cache), then alternate so that drift hits every side.
    run_child(bare_args, env)
    for copy, args in commands.items():
        run_child(args, envs[copy])
    bare_times: list[float] = []
    times: dict[Copy, list[float]] = {copy: [] for copy in copies}
    for _ in range(runs):
        bare_run = run_child(bare_args, env)
        bare_times.append(bare_run.seconds)
        for copy, args in commands.items():
            vcctl_run = run_child(args, envs[copy])
            if vcctl_run.stderr:  # a warning (an inventory it cannot use): not the same work
                raise BenchError(f"rooms get warned: {vcctl_run.stderr.decode()[-500:]}")
            if json.loads(vcctl_run.stdout) != json.loads(bare_run.stdout):
                raise BenchError("vcctl and the bare GET printed different rooms")
            times[copy].append(vcctl_run.seconds)
    bare_median = statistics.median(bare_times)
    figures = []
    for copy in copies:
        median = statistics.median(times[copy])
        ratio = median / bare_median
        figures.append(
            Figure(
                name=f"(a) rooms get --json, wall time, {runs} pairs{copy.label}",
                measured=f"vcctl {ms(median)} (min {ms(min(times[copy]))})",
                baseline=f"python -c requests {ms(bare_median)} (min {ms(min(bare_times))})",
                ratio=ratio,
                goal="<= 1.2x",
                met=ratio <= 1.2,
                ratio_min=min(times[copy]) / min(bare_times),
            )
        )
    return figures


def measure_listing(
    emulator: EmulatorProcess, env: dict[str, str], workdir: Path, runs: int, copies: Sequence[Copy]
) -> list[Figure]:
    """(d): each copy lists an inventory of RECORDS rooms it seeded itself."""
    envs: dict[Copy, dict[str, str]] = {}
    for index, copy in enumerate(copies):
        data_dir = workdir / f"listing-{index}"
        seed = [copy.python, "-c", SEED, str(Path(__file__).resolve().parent)]
        seed += [str(data_dir / "inventory.sqlite3"), emulator.base_url, API_KEY]
        run_child(seed, env)
        envs[copy] = {**env, "VCCTL_DATA_DIR": str(data_dir)}
    listing_times: dict[Copy, list[float]] = {copy: [] for copy in copies}
    version_times: dict[Copy, list[float]] = {copy: [] for copy in copies}
    for attempt in range(runs + 1):  # the first round warms the page cache
        for copy in copies:
            listing = run_child([*copy.args, "rooms", "list"], envs[copy])
            if len(listing.stdout.splitlines()) != RECORDS + 1:
                raise BenchError(f"rooms list printed {len(listing.stdout.splitlines())} lines")
            bare = run_child([*copy.args, "--version"], envs[copy])
            if attempt:
                listing_times[copy].append(listing.seconds)
                version_times[copy].append(bare.seconds)
    figures = []
    for copy in copies:
        listed = statistics.median(listing_times[copy])
        version = statistics.median(version_times[copy])
        figures.append(
            Figure(
                name=f"(d) rooms list of {RECORDS} records, wall time (median){copy.label}",
                measured=f"vcctl rooms list {ms(listed)}",
                baseline=f"vcctl --version {ms(version)}",
                ratio=listed / version,
                goal="<= 1.5x",
                met=listed / version <= 1.5,
                ratio_min=min(listing_times[copy]) / min(version_times[copy]),
            )
        )
    return figures


def measure_batch_cpu(
    env: dict[str, str], workdir: Path, runs: int, copies: Sequence[Copy]
) -> list[Figure]:
    """(e): bench/batch_cpu.py's comparison, interleaved with every copy."""
    source = workdir / "batch-cpu.csv"
    source.write_text("name\n" + "".join(f"room {i}\n" for i in range(BATCH_ROWS)))
    off = {**env, "VCCTL_INVENTORY": "off"}
    floor = [sys.executable, "-c", FLOOR, str(source)]
    batch = ["rooms", "create", "--from-file", str(source), "-q", "--concurrency", str(WORKERS)]
    commands = {copy: [*copy.args, *batch] for copy in copies}
    cpu_of(floor, off)  # warm the file cache and the emulator
    floor_cpu: list[float] = []
    cpu: dict[Copy, list[float]] = {copy: [] for copy in copies}
    for attempt in range(runs + 1):
        for copy, args in commands.items():
            seconds = cpu_of(args, off)
            if attempt:
                cpu[copy].append(seconds)
        if attempt:
            floor_cpu.append(cpu_of(floor, off))
    base = statistics.median(floor_cpu)
    figures = []
    for copy in copies:
        mine = statistics.median(cpu[copy])
        figures.append(
            Figure(
                name=f"(e) CPU per row, {BATCH_ROWS}-row batch, {WORKERS} workers{copy.label}",
                measured=f"vcctl {mine / BATCH_ROWS * 1e3:.3f} ms",
                baseline=f"thread-pool floor {base / BATCH_ROWS * 1e3:.3f} ms",
                ratio=mine / base,
                goal="<= 1.2x",
                met=mine / base <= 1.2,
                ratio_min=min(cpu[copy]) / min(floor_cpu),
            )
        )
    return figures


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
        (
            f.name,
            f.measured,
            f.baseline,
            f"{f.ratio:.2f}x" + ("" if f.ratio_min is None else f" (min {f.ratio_min:.2f}x)"),
            f.goal,
            "met" if f.met else "MISSED",
        )
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
    parser.add_argument(
        "--against",
        metavar="PYTHON",
        help="the interpreter of another installed vcctl (a venv of main, say): (a), (d) and "
        "(e) measure it too, in the same run",
    )
    options = parser.parse_args(argv)
    sizes = QUICK if options.quick else FULL
    copies = [Copy("", sys.executable)]
    if options.against:
        copies = [Copy(" [this]", sys.executable), Copy(f" [{options.against}]", options.against)]
    about = machine()
    started = time.perf_counter()
    figures: list[Figure] = []
    home = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="vcctl-bench-") as tmp:
        workdir = Path(tmp)
        config_dir = workdir / "config"
        os.chdir(workdir)  # children inherit it (see the module's docstring)
        try:
            with EmulatorProcess(0.0) as fast, EmulatorProcess(LATENCY_MS) as slow:
                fast_env = fast.env(config_dir, workdir / "data")
                figures += measure_startup(fast, fast_env, sizes.startup_runs, copies)
                figures += measure_listing(fast, fast_env, workdir, sizes.listing_runs, copies)
                figures += measure_batch_cpu(fast_env, workdir, sizes.batch_cpu_runs, copies)
                figures.append(
                    measure_throughput(
                        slow, slow.env(config_dir, workdir / "data"), workdir, sizes.throughput_rows
                    )
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
        finally:
            os.chdir(home)
    seconds = time.perf_counter() - started
    print_table(figures, about, seconds)
    if options.json:
        report = {"machine": about, "seconds": round(seconds, 1), "figures": figures}
        print(json.dumps(report, default=lambda figure: figure.__dict__, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
