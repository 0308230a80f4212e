"""The emulator as a shared tool: masked request log, bounded memory, a safe --host, a real rate
limit, and timings tests can check (end to end, with real processes and sockets)."""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.helpers import API_KEY, API_TOKEN, Result, clean_environment, run_vcctl
from vcctl.emulator.chaos import WindowRateLimit
from vcctl.emulator.server import Emulator, EmulatorConfig

Runner = Any

# Run by the command under `emulator exec`: send three gets, then print what the control
# endpoint shows (or its status when it refuses).
PROBE = r"""
import json, os, sys, urllib.error, urllib.request
base = os.environ["VCCTL_BASE_URL"]
auth = {"apiKey": os.environ["VCCTL_API_KEY"], "apiToken": os.environ["VCCTL_API_TOKEN"]}
for name in ("one", "two", "three"):
    try:
        urllib.request.urlopen(urllib.request.Request(f"{base}/api/v1/rooms/{name}", headers=auth))
    except urllib.error.HTTPError as exc:
        assert exc.code == 404, exc.code
try:
    with urllib.request.urlopen(f"{base}/_emulator/requests") as answer:
        print(json.dumps([r["path"] for r in json.loads(answer.read())]))
except urllib.error.HTTPError as exc:
    print(exc.code, json.loads(exc.read())["error"])
"""


def exec_probe(tmp_path: Path, *options: str) -> Result:
    return run_vcctl(
        ["emulator", "exec", *options, "--", sys.executable, "-c", PROBE],
        clean_environment(tmp_path),
    )


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


def test_control_endpoint_masks_recorded_credentials(emulator: Emulator, vcctl: Runner) -> None:
    assert vcctl("rooms", "create", "--name", "masked", "-q").code == 0
    text = urllib.request.urlopen(emulator.base_url + "/_emulator/requests", timeout=10).read()
    assert API_KEY.encode() not in text
    assert API_TOKEN.encode() not in text
    [shown] = json.loads(text)
    headers = {name.lower(): value for name, value in shown["headers"].items()}
    assert (headers["apikey"], headers["apitoken"]) == (
        "****" + API_KEY[-4:],
        "****" + API_TOKEN[-4:],
    )
    # In the test's own process the log keeps what was sent, for exact request checks.
    assert emulator.recorded()[0].headers["apiKey"] == API_KEY


def test_request_log_keeps_only_the_last_max_recorded(tmp_path: Path) -> None:
    result = exec_probe(tmp_path, "--max-recorded", "2")
    assert (result.code, result.stderr) == (0, ""), result
    assert json.loads(result.stdout) == ["/api/v1/rooms/two", "/api/v1/rooms/three"]
    assert EmulatorConfig().max_recorded == 10_000


def test_non_loopback_host_warns_and_turns_control_endpoints_off(tmp_path: Path) -> None:
    refused = exec_probe(tmp_path, "--host", "0.0.0.0")
    allowed = exec_probe(tmp_path, "--host", "0.0.0.0", "--allow-remote-control")
    assert refused.code == 0, refused
    assert refused.stdout.startswith("403 control endpoints are off"), refused
    assert refused.stderr == (
        "vcctl: warning: the emulator listens on 0.0.0.0, reachable from other machines; "
        "its /_emulator/ endpoints are off (--allow-remote-control turns them on)\n"
    )
    assert allowed.code == 0, allowed
    assert len(json.loads(allowed.stdout)) == 3
    assert "endpoints are on (--allow-remote-control)" in allowed.stderr


def test_exec_on_every_address_gives_its_command_a_loopback_url(tmp_path: Path) -> None:
    script = 'echo "$VCCTL_BASE_URL"; "$0" -m vcctl rooms create --name wide -q'
    result = run_vcctl(
        ["emulator", "exec", "--host", "0.0.0.0", "--", "sh", "-c", script, sys.executable],
        clean_environment(tmp_path),
    )
    assert result.code == 0, result
    url, room_id = result.stdout.splitlines()
    assert url.startswith("http://127.0.0.1:")
    assert len(room_id) == 6


def test_rate_limit_is_a_sliding_window_per_api_key() -> None:
    now = [100.0]
    limiter = WindowRateLimit(2, clock=lambda: now[0])
    assert [limiter.admit("a"), limiter.admit("a"), limiter.admit("b")] == [None, None, None]
    now[0] = 100.2
    assert limiter.admit("a") == 1  # at least a whole second, even when less is left
    now[0] = 100.9
    assert limiter.admit("a") == 1
    now[0] = 101.0  # both requests of 100.0 left the window; refused ones never counted
    assert [limiter.admit("a"), limiter.admit("a"), limiter.admit("a")] == [None, None, 1]
    slow = WindowRateLimit(0.25, clock=lambda: now[0])
    assert (slow.admit("a"), slow.admit("a")) == (None, 4)
    burst = WindowRateLimit(1, burst=3, clock=lambda: now[0])
    assert [burst.admit("a") for _ in range(4)] == [None, None, None, 3]


def test_rate_limited_answers_are_logged_with_monotonic_times(tmp_path: Path) -> None:
    config = EmulatorConfig(api_key=API_KEY, api_token=API_TOKEN, rate_limit=2)
    with Emulator(config) as emulator:
        before = time.monotonic()
        statuses = []
        for key in (API_KEY, API_KEY, API_KEY, "other-key"):
            request = urllib.request.Request(
                emulator.base_url + "/api/v1/rooms/none", headers={"apiKey": key}
            )
            try:
                urllib.request.urlopen(request, timeout=10)
            except urllib.error.HTTPError as exc:
                statuses.append((exc.code, exc.headers.get("Retry-After")))
        after = time.monotonic()
        records = emulator.recorded()
        shown = get_json(emulator.base_url + "/_emulator/requests")
    # Two per second per key: the third is refused, another key is not.
    assert statuses == [(401, None), (401, None), (429, "1"), (401, None)]
    assert [(r.answered, r.retry_after) for r in records] == [
        (401, None), (401, None), (429, "1"), (401, None)
    ]  # fmt: skip
    for record in records:
        assert record.answered_at is not None
        assert before <= record.received_at <= record.answered_at <= after
    assert [r["received_at"] for r in shown] == [r.received_at for r in records]
    assert shown[2]["retry_after"] == "1"
    assert isinstance(shown[2]["answered_at"], float)
