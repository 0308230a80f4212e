"""CPU per row of a batch, against a plain thread-pool floor (run by hand: `python
bench/batch_cpu.py`, vcctl installed with `pip install .`).

vcctl: `rooms create --from-file rooms.csv -q --concurrency 8` of 1000 rows, the inventory off
(bench/inventory.py measures what it adds). The floor: a `python -c` that reads the same CSV and
POSTs each row with `requests` on a `ThreadPoolExecutor` of 8 workers sharing one keep-alive
Session, printing each id in order: the least a Python batch can cost. CPU is each process's own
user + system time, from os.wait4() (the emulator's work is not counted), interpreter start-up
included on both sides. Runs are interleaved; the figure is the ratio of the medians
(goal: at most 1.2x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from inventory import start_emulator

ROWS = 1000
RUNS = 7
WORKERS = 8

FLOOR = """\
import csv, os, sys
from concurrent.futures import ThreadPoolExecutor
import requests
from requests.adapters import HTTPAdapter

base = os.environ["VCCTL_BASE_URL"].rstrip("/")
session = requests.Session()
session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=8))
session.headers.update(
    {"apiKey": os.environ["VCCTL_API_KEY"], "apiToken": os.environ["VCCTL_API_TOKEN"],
     "Accept": "application/json"}
)

def create(row):
    response = session.post(base + "/api/v1/rooms", json=row, timeout=30)
    response.raise_for_status()
    return response.json()["id"]

with open(sys.argv[1], newline="", encoding="utf-8") as source:
    rows = list(csv.DictReader(source))
with ThreadPoolExecutor(max_workers=8) as pool:
    sys.stdout.write("".join(f"{room_id}\\n" for room_id in pool.map(create, rows)))
"""


def cpu_of(args: list[str], env: dict[str, str]) -> float:
    """The child's own CPU seconds (user + system)."""
    child = subprocess.Popen(
        args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        assert child.stderr is not None
        raise SystemExit(f"{' '.join(args)} failed: {child.stderr.read().decode()}")
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vcctl-bench-batch-cpu-"))
    # Children start there: `python -m vcctl` from the checkout would run its sources instead
    # of the installed copy (it puts the current folder first on sys.path).
    os.chdir(work)
    env = {key: value for key, value in os.environ.items() if not key.startswith("VCCTL_")}
    env.update(VCCTL_CONFIG_DIR=str(work / "config"), VCCTL_DATA_DIR=str(work / "data"))
    env["VCCTL_INVENTORY"] = "off"
    emulator, exported = start_emulator(env)
    try:
        env.update(exported)
        source = work / "rooms.csv"
        source.write_text("name\n" + "".join(f"room {i}\n" for i in range(ROWS)))
        vcctl = [sys.executable, "-m", "vcctl", "rooms", "create", "--from-file", str(source)]
        vcctl += ["-q", "--concurrency", str(WORKERS)]
        floor = [sys.executable, "-c", FLOOR, str(source)]
        cpu_of(floor, env)  # warm the file cache and the emulator
        cpu_of(vcctl, env)
        vcctl_cpu: list[float] = []
        floor_cpu: list[float] = []
        for _ in range(options.runs):
            vcctl_cpu.append(cpu_of(vcctl, env))
            floor_cpu.append(cpu_of(floor, env))
        mine, base = statistics.median(vcctl_cpu), statistics.median(floor_cpu)
        print(
            f"batch of {ROWS} rows, {WORKERS} workers: CPU per row {mine / ROWS * 1e3:.3f} ms "
            f"(vcctl), {base / ROWS * 1e3:.3f} ms (thread-pool floor): {mine / base:.2f}x "
            f"(goal <= 1.2x); min {min(vcctl_cpu) / min(floor_cpu):.2f}x"
        )
        print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
    finally:
        emulator.terminate()
        emulator.wait()


if __name__ == "__main__":
    main()
