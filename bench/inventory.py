"""The inventory's cost, measured in one run (run by hand: `python bench/inventory.py`).

(a) CPU per row of a 1000-row `rooms create --from-file` with the inventory on, against the same
    batch with VCCTL_INVENTORY=off (goal: at most 1.1x). CPU is the vcctl process's own user +
    system time, from os.wait4(), so the emulator's work is not counted.
(b) `vcctl rooms list` (plain text, off a terminal) of 10,000 records, against a bare
    `vcctl --version` (goal: at most 1.5x), median wall time of several runs.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = 1000
RECORDS = 10_000
RUNS = 5


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process itself)."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "vcctl", *args],
        env=env,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if stdin is not None:
        assert child.stdin is not None
        child.stdin.write(stdin)
        child.stdin.close()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        assert child.stderr is not None
        raise SystemExit(f"vcctl {' '.join(args)} failed: {child.stderr.read()}")
    return wall, usage.ru_utime + usage.ru_stime


def start_emulator(
    env: dict[str, str], latency_ms: float | None = None
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """An emulator child on a free port (its answers delayed by `latency_ms`), and the
    VCCTL_* settings it exports; the benchmarks all start theirs here."""
    command = ["emulator", "start", "--port", "0", "--export"]
    if latency_ms is not None:
        command += ["--latency", str(latency_ms)]
    child = subprocess.Popen(
        [sys.executable, "-m", "vcctl", *command],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    found: dict[str, str] = {}
    while len(found) < 3:
        line = child.stdout.readline()
        if not line:
            raise SystemExit("the emulator did not start")
        if line.startswith("export "):
            name, _, value = line[len("export ") :].strip().partition("=")
            found[name] = value.strip("'\"")
    return child, found


def seed_inventory(path: Path, base_url: str, api_key: str) -> None:
    from vcctl.inventory.records import account_for
    from vcctl.inventory.store import Inventory

    account = account_for(base_url, api_key)
    with Inventory.open(path) as inventory:
        rooms = [
            {"id": f"r{i:05d}", "name": f"room {i}", "color": "#1e90ff", "participants": []}
            for i in range(RECORDS)
        ]
        inventory.record_many(account, "room", rooms)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="vcctl-bench-inventory-"))
    # Children start there: `python -m vcctl` from the checkout would run its sources instead
    # of the installed copy (it puts the current folder first on sys.path).
    os.chdir(work)
    env = {key: value for key, value in os.environ.items() if not key.startswith("VCCTL_")}
    env["VCCTL_CONFIG_DIR"] = str(work / "config")
    emulator, exported = start_emulator(env)
    try:
        env.update(exported)
        source = work / "rooms.csv"
        source.write_text("name\n" + "".join(f"room {i}\n" for i in range(ROWS)))
        batch = ["rooms", "create", "--from-file", str(source), "-q"]
        cpu_on: list[float] = []
        cpu_off: list[float] = []
        for n in range(5):
            on_env = {**env, "VCCTL_DATA_DIR": str(work / f"data-on-{n}")}
            off_env = {**env, "VCCTL_DATA_DIR": str(work / "data-off"), "VCCTL_INVENTORY": "off"}
            cpu_on.append(run(batch, on_env)[1])
            cpu_off.append(run(batch, off_env)[1])
        on, off = statistics.median(cpu_on), statistics.median(cpu_off)
        print(
            f"(a) batch of {ROWS}: CPU per row {on / ROWS * 1e3:.3f} ms with the inventory, "
            f"{off / ROWS * 1e3:.3f} ms without: {on / off:.2f}x (goal <= 1.1x)"
        )

        list_env = {**env, "VCCTL_DATA_DIR": str(work / "data-list")}
        seed_inventory(
            work / "data-list" / "inventory.sqlite3", env["VCCTL_BASE_URL"], env["VCCTL_API_KEY"]
        )
        run(["rooms", "list"], list_env)  # warm the file cache
        listing = statistics.median(run(["rooms", "list"], list_env)[0] for _ in range(RUNS))
        version = statistics.median(run(["--version"], list_env)[0] for _ in range(RUNS))
        print(
            f"(b) rooms list of {RECORDS} records: {listing * 1e3:.0f} ms, vcctl --version "
            f"{version * 1e3:.0f} ms: {listing / version:.2f}x (goal <= 1.5x)"
        )
        print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
    finally:
        emulator.terminate()
        emulator.wait()


if __name__ == "__main__":
    main()
