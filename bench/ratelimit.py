"""Working at the API's pace: batches against a rate-limited emulator, and concurrent deletes.

Run it by hand from the repository root after `pip install .` (no network: the emulator listens
on 127.0.0.1)::

    python bench/ratelimit.py            # through the real CLI, about 2 minutes
    python bench/ratelimit.py --quick    # smaller figures (the 5/s batch has 100 rows)
    python bench/ratelimit.py --direct   # vcctl.http.limiter alone, driven by worker threads here
    python bench/ratelimit.py --json     # the table, then the figures as JSON
    python bench/ratelimit.py --only de --cli-python /tmp/old/bin/python   # a baseline's CLI

Figures, each with its goal:

(a) 200 rooms through `rooms create --from-file --concurrency 8 --json` against an emulator
    allowing 20 requests/s: no failed row, at most 10% of the requests answered 429 (from the
    emulator's recorded requests), wall time at most 1.15x the ideal 200 / 20 = 10 s;
(b) 500 rooms the same way against 5 requests/s: no failed row (time and 429s for scale);
(c) `rooms delete` of 24 existing rooms (--yes, --concurrency 8) with the emulator adding 200 ms
    to every answer: at most 1.3x the ideal 24 / 8 x 0.2 s, timed from the emulator's log (first
    request received to last answer sent; the whole command's wall time is printed too);
(d) 300 rooms against an emulator refusing one request in six whatever the rate (a quota shared
    with other clients), Retry-After 0, and (e) 120 rooms the same way with Retry-After 1: the
    wall time, less the waits the 429s asked for (their Retry-After periods, overlaps counted
    once, from the emulator's log), at most 1.5x that of the same rows with no refusal (run
    just before, in the same way). A limiter that ratchets down on refusals that slowing down
    cannot avoid fails this by far.

CLI wall times include interpreter start-up (printed once, for scale). `--direct` measures the
limiter without the CLI: worker threads here call acquire / on_success / on_rate_limited around
plain `requests` calls, the way the client is meant to.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from vcctl.emulator.server import Emulator, EmulatorConfig
from vcctl.http.limiter import RateLimiter

API_KEY = "bench-api-key-0123456789"
API_TOKEN = "bench-api-token-9876543210"
VCCTL = [sys.executable, "-m", "vcctl"]  # --cli-python changes the interpreter
CONCURRENCY = 8
CHILD_TIMEOUT = 900.0  # seconds; a run that takes longer is a failure, not a figure
SHARE_TIMEOUT = 120.0  # the same, for the refused-share runs (a ratchet never finishes)
RETRY_AFTER_CAP = 30.0
REFUSED_SHARE = 1 / 6  # of the requests refused whatever the rate, in (d) and (e)


@dataclass
class Figure:
    name: str
    rows: int
    failed: int
    requests: int
    answered_429: int
    seconds: float
    ideal: float
    goal_ratio: float | None  # wall time / ideal at most this; None: not a goal
    goal_429_share: float | None
    exit_code: int = 0
    waits: float = 0.0  # seconds of Retry-After the 429s asked for: not counted in the ratio

    @property
    def ratio(self) -> float:
        return (self.seconds - self.waits) / self.ideal

    @property
    def share_429(self) -> float:
        return self.answered_429 / self.requests if self.requests else 0.0

    def met(self) -> bool:
        return (
            self.failed == 0
            and self.exit_code == 0
            and (self.goal_ratio is None or self.ratio <= self.goal_ratio)
            and (self.goal_429_share is None or self.share_429 <= self.goal_429_share)
        )


# -- the emulator --------------------------------------------------------------------------------


def emulator(
    *,
    rate_limit: float = 0.0,
    latency_ms: float = 0.0,
    refuse_share: float = 0.0,
    refuse_retry_after: float = 1.0,
) -> Emulator:
    config = EmulatorConfig(
        api_key=API_KEY,
        api_token=API_TOKEN,
        rate_limit=rate_limit,
        latency_ms=latency_ms,
        refuse_share=refuse_share,
        refuse_retry_after=refuse_retry_after,
        seed=1,
    )
    return Emulator(config)


def waits_asked_for(server: Emulator) -> float:
    """Seconds covered by the Retry-After periods of the 429s answered (overlaps once)."""
    periods = sorted(
        (r.answered_at, r.answered_at + float(r.retry_after))
        for r in server.recorded()
        if r.answered == 429 and r.answered_at is not None and r.retry_after is not None
    )
    total, reach = 0.0, float("-inf")
    for start, end in periods:
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def resume_lags(server: Emulator) -> list[float]:
    """For each wait the 429s asked for (overlaps merged), the seconds from its end to the next
    request the emulator received: what each pause costs beyond its Retry-After (the 429's way
    back, the workers' wake-up, the next request's way there)."""
    recorded = server.recorded()
    periods = sorted(
        (r.answered_at, r.answered_at + float(r.retry_after))
        for r in recorded
        if r.answered == 429 and r.answered_at is not None and r.retry_after is not None
    )
    ends: list[float] = []
    for start, end in periods:
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            ends.append(end)
    received = sorted(r.received_at for r in recorded)
    lags = []
    for end in ends:
        later = [at for at in received if at >= end]
        if later:
            lags.append(later[0] - end)
    return lags


def count_answers(server: Emulator, method: str) -> tuple[int, int]:
    """(requests of that method, how many were answered 429)."""
    mine = [r for r in server.recorded() if r.method == method]
    return len(mine), sum(1 for r in mine if r.answered == 429)


def cli_env(server: Emulator, config_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("VCCTL_")}
    env.update(
        VCCTL_BASE_URL=server.base_url,
        VCCTL_API_KEY=API_KEY,
        VCCTL_API_TOKEN=API_TOKEN,
        VCCTL_CONFIG_DIR=str(config_dir),  # no profile file of the person running it
    )
    return env


def run_cli(
    args: Sequence[str], env: dict[str, str], timeout: float = CHILD_TIMEOUT
) -> tuple[float, int, str]:
    """(wall seconds, exit code, last lines of stderr); a child killed at `timeout` counts as
    exit code -9 and `timeout` seconds."""
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [*VCCTL, *args],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return timeout, -9, f"did not finish in {timeout:.0f} s (killed)"
    seconds = time.perf_counter() - started
    return seconds, done.returncode, done.stderr.decode("utf-8", "replace")[-400:]


def seed_rooms(server: Emulator, count: int) -> list[str]:
    session = requests.Session()
    session.headers.update({"apiKey": API_KEY, "apiToken": API_TOKEN})
    ids = []
    for n in range(count):
        answer = session.post(f"{server.base_url}/api/v1/rooms", json={"name": f"Old {n}"})
        answer.raise_for_status()
        ids.append(str(answer.json()["id"]))
    server.clear_recorded()
    return ids


# -- through the CLI -----------------------------------------------------------------------------


def cli_creates(name: str, rows: int, rate: float, workdir: Path, paced: bool) -> Figure:
    source = workdir / f"rooms{rows}.csv"
    source.write_text("name\n" + "".join(f"Room {n:04d}\n" for n in range(rows)), "utf-8")
    with emulator(rate_limit=rate) as server:
        args = ["rooms", "create", "--from-file", str(source), "--concurrency", str(CONCURRENCY)]
        seconds, code, stderr = run_cli([*args, "--json"], cli_env(server, workdir))
        created = len(server.state()["rooms"])
        sent, limited = count_answers(server, "POST")
    if code != 0:
        print(f"{name}: vcctl exited {code}: {stderr.strip()}", file=sys.stderr)
    ratio, share = (1.15, 0.10) if paced else (None, None)
    failed = rows - created
    return Figure(name, rows, failed, sent, limited, seconds, rows / rate, ratio, share, code)


def cli_refused_share(name: str, rows: int, retry_after: float, workdir: Path) -> Figure:
    """`rows` creates against a share refused whatever the rate, against the same without."""
    source = workdir / f"rooms{rows}.csv"
    source.write_text("name\n" + "".join(f"Room {n:04d}\n" for n in range(rows)), "utf-8")
    args = ["rooms", "create", "--from-file", str(source), "--concurrency", str(CONCURRENCY)]
    with emulator() as server:
        free, code, stderr = run_cli([*args, "--json"], cli_env(server, workdir), SHARE_TIMEOUT)
    if code != 0:
        print(f"{name}, no refusals: vcctl exited {code}: {stderr.strip()}", file=sys.stderr)
    with emulator(refuse_share=REFUSED_SHARE, refuse_retry_after=retry_after) as server:
        seconds, code, stderr = run_cli([*args, "--json"], cli_env(server, workdir), SHARE_TIMEOUT)
        created = len(server.state()["rooms"])
        sent, limited = count_answers(server, "POST")
        waits = waits_asked_for(server)
        lags = sorted(resume_lags(server))
    if code != 0:
        print(f"{name}: vcctl exited {code}: {stderr.strip()}", file=sys.stderr)
    print(
        f"{name}: {free:.2f} s with no refusal, {seconds:.2f} s with them, {waits:.2f} s of "
        "which the 429s asked to wait",
        file=sys.stderr,
    )
    if lags:
        print(
            f"{name}: {len(lags)} waits; from a wait's end to the next request received "
            f"{sum(lags):.2f} s in all (median {lags[len(lags) // 2] * 1000:.0f} ms, worst "
            f"{lags[-1] * 1000:.0f} ms)",
            file=sys.stderr,
        )
    return Figure(name, rows, rows - created, sent, limited, seconds, free, 1.5, None, code, waits)


def cli_deletes(name: str, rows: int, latency_ms: float, workdir: Path) -> Figure:
    with emulator(latency_ms=latency_ms) as server:
        ids = seed_rooms(server, rows)
        args = ["rooms", "delete", *ids, "--yes", "--concurrency", str(CONCURRENCY)]
        wall, code, stderr = run_cli(args, cli_env(server, workdir))
        left = len(server.state()["rooms"])
        sent, limited = count_answers(server, "DELETE")
        deletes = [r for r in server.recorded() if r.method == "DELETE"]
    if code != 0:
        print(f"{name}: vcctl exited {code}: {stderr.strip()}", file=sys.stderr)
    # The goal is about the deletes, not interpreter start-up: time them from the first request
    # received to the last answer sent, as the emulator saw them.
    seconds = max(r.answered_at or r.received_at for r in deletes) - min(
        r.received_at for r in deletes
    )
    print(f"{name}: the whole command took {wall:.2f} s, start-up included", file=sys.stderr)
    ideal = rows / CONCURRENCY * latency_ms / 1000
    return Figure(name, rows, left, sent, limited, seconds, ideal, 1.3, None, code)


def startup_seconds(workdir: Path) -> float:
    with emulator() as server:
        runs = sorted(run_cli(["--version"], cli_env(server, workdir))[0] for _ in range(5))
    return runs[len(runs) // 2]


# -- the limiter alone ---------------------------------------------------------------------------


def send_with_limiter(
    limiter: RateLimiter, session: requests.Session, method: str, url: str, body: object
) -> bool:
    """One request the way the client is meant to send it: True when it succeeded."""
    budget = limiter.budget()
    while True:
        sent_at = limiter.acquire()
        answer = session.request(method, url, json=body, timeout=30)
        if answer.status_code != 429:
            limiter.on_success(sent_at=sent_at)
            return answer.ok
        retry_after = _seconds(answer.headers.get("Retry-After"))
        pause = limiter.on_rate_limited(retry_after, sent_at=sent_at)
        if not budget.allows(pause):
            return False


def _seconds(value: str | None) -> float | None:
    try:
        return min(float(value), RETRY_AFTER_CAP) if value is not None else None
    except ValueError:
        return None


def run_pool(jobs: Sequence[tuple[str, str, object]], limiter: RateLimiter) -> tuple[float, int]:
    """(wall seconds, failed jobs) for jobs sent by CONCURRENCY worker threads."""
    pending: queue.SimpleQueue[tuple[str, str, object]] = queue.SimpleQueue()
    for job in jobs:
        pending.put(job)
    failed: list[int] = []

    def work() -> None:
        session = requests.Session()
        session.headers.update({"apiKey": API_KEY, "apiToken": API_TOKEN})
        while True:
            try:
                method, url, body = pending.get_nowait()
            except queue.Empty:
                return
            if not send_with_limiter(limiter, session, method, url, body):
                failed.append(1)

    workers = [threading.Thread(target=work) for _ in range(CONCURRENCY)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started, len(failed)


def direct_creates(name: str, rows: int, rate: float, _workdir: Path, paced: bool) -> Figure:
    with emulator(rate_limit=rate) as server:
        url = f"{server.base_url}/api/v1/rooms"
        jobs = [("POST", url, {"name": f"Room {n:04d}"}) for n in range(rows)]
        seconds, failed = run_pool(jobs, RateLimiter())
        sent, limited = count_answers(server, "POST")
    ratio, share = (1.15, 0.10) if paced else (None, None)
    return Figure(name, rows, failed, sent, limited, seconds, rows / rate, ratio, share)


def direct_refused_share(name: str, rows: int, retry_after: float, _workdir: Path) -> Figure:
    def batch(server: Emulator) -> tuple[float, int]:
        url = f"{server.base_url}/api/v1/rooms"
        jobs = [("POST", url, {"name": f"Room {n:04d}"}) for n in range(rows)]
        return run_pool(jobs, RateLimiter())

    with emulator() as server:
        free, _ = batch(server)
    with emulator(refuse_share=REFUSED_SHARE, refuse_retry_after=retry_after) as server:
        seconds, failed = batch(server)
        sent, limited = count_answers(server, "POST")
        waits = waits_asked_for(server)
    return Figure(name, rows, failed, sent, limited, seconds, free, 1.5, None, 0, waits)


def direct_deletes(name: str, rows: int, latency_ms: float, _workdir: Path) -> Figure:
    with emulator(latency_ms=latency_ms) as server:
        ids = seed_rooms(server, rows)
        jobs = [("DELETE", f"{server.base_url}/api/v1/rooms/{i}", None) for i in ids]
        seconds, failed = run_pool(jobs, RateLimiter())
        sent, limited = count_answers(server, "DELETE")
    ideal = rows / CONCURRENCY * latency_ms / 1000
    return Figure(name, rows, failed, sent, limited, seconds, ideal, 1.3, None)


# -- report --------------------------------------------------------------------------------------


def table(figures: Sequence[Figure]) -> str:
    lines = [
        f"{'figure':<34} {'failed':>6} {'429s':>11} {'wall':>8} {'waits':>7} {'ideal':>7} "
        f"{'ratio':>6}  goal",
    ]
    for f in figures:
        goal = "met" if f.met() else "NOT MET"
        lines.append(
            f"{f.name:<34} {f.failed:>6} {f.answered_429:>4}/{f.requests:<4}"
            f"{f.share_429:>4.0%} {f.seconds:>7.2f}s {f.waits:>6.2f}s {f.ideal:>6.2f}s "
            f"{f.ratio:>5.2f}x  {goal}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 rows instead of 500 at 5/s")
    parser.add_argument("--direct", action="store_true", help="the limiter alone, no CLI")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument(
        "--only", default="abcde", help="the figures to run, by letter (default: abcde)"
    )
    parser.add_argument(
        "--cli-python",
        help="run the CLI figures with the vcctl of this interpreter (a baseline install); the "
        "emulator stays this one",
    )
    options = parser.parse_args(argv)
    if options.cli_python:
        VCCTL[0] = options.cli_python

    creates: Callable[[str, int, float, Path, bool], Figure] = (
        direct_creates if options.direct else cli_creates
    )
    deletes: Callable[[str, int, float, Path], Figure] = (
        direct_deletes if options.direct else cli_deletes
    )
    refused: Callable[[str, int, float, Path], Figure] = (
        direct_refused_share if options.direct else cli_refused_share
    )
    slow_rows = 100 if options.quick else 500
    with tempfile.TemporaryDirectory(prefix="vcctl-bench-") as scratch:
        workdir = Path(scratch)
        runs: dict[str, Callable[[], Figure]] = {
            "a": lambda: creates("(a) 200 creates at 20/s", 200, 20.0, workdir, True),
            "b": lambda: creates(f"(b) {slow_rows} creates at 5/s", slow_rows, 5.0, workdir, False),
            "c": lambda: deletes("(c) 24 deletes at 200 ms", 24, 200.0, workdir),
            "d": lambda: refused("(d) 300 creates, 1/6 refused, RA 0", 300, 0.0, workdir),
            "e": lambda: refused("(e) 120 creates, 1/6 refused, RA 1", 120, 1.0, workdir),
        }
        figures = [run() for letter, run in runs.items() if letter in options.only]
        startup = None if options.direct else startup_seconds(workdir)
    print(table(figures))
    if startup is not None:
        print(f"(vcctl --version takes {startup:.2f} s here: part of every CLI wall time)")
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    if options.json:
        print(json.dumps([asdict(f) | {"met": f.met()} for f in figures], indent=2))
    return 0 if all(f.met() for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
