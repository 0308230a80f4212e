"""Working at the API's pace, end to end: batches and multi-id commands against a rate-limited
or slow emulator, checked from the emulator's request log.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import (
    API_KEY,
    API_TOKEN,
    clean_environment,
    run_in_process,
    run_in_pty,
    run_vcctl,
    seed_room,
)
from vcctl.emulator.server import Emulator, EmulatorConfig, Fault, RecordedRequest

# Requests whose turn came before the 429 reached vcctl may still arrive just after the API
# answered it: the shared pause is checked from this long after that answer.
IN_FLIGHT_SLACK = 0.05


@pytest.fixture
def limited() -> Iterator[Emulator]:
    """An emulator allowing 20 requests per second (429 with Retry-After beyond)."""
    config = EmulatorConfig(api_key=API_KEY, api_token=API_TOKEN, rate_limit=20)
    with Emulator(config) as server:
        yield server


@pytest.fixture
def slow() -> Iterator[Emulator]:
    """An emulator adding 100 ms to every answer."""
    config = EmulatorConfig(api_key=API_KEY, api_token=API_TOKEN, latency_ms=100)
    with Emulator(config) as server:
        yield server


def environment(tmp_path: Path, server: Emulator) -> dict[str, str]:
    env = clean_environment(tmp_path)
    env.update(VCCTL_BASE_URL=server.base_url, VCCTL_API_KEY=API_KEY, VCCTL_API_TOKEN=API_TOKEN)
    return env


def rooms_file(tmp_path: Path, count: int) -> Path:
    source = tmp_path / "rooms.csv"
    source.write_text("name\n" + "".join(f"Room {n:03d}\n" for n in range(count)), "utf-8")
    return source


def posts(server: Emulator) -> list[RecordedRequest]:
    return [r for r in server.recorded() if r.method == "POST"]


def test_a_batch_against_a_rate_limit_creates_every_row_once_in_order(
    tmp_path: Path, limited: Emulator
) -> None:
    rows = 60
    source = rooms_file(tmp_path, rows)
    args = ["rooms", "create", "--from-file", str(source), "--concurrency", "8", "--json"]

    result = run_vcctl(args, environment(tmp_path, limited))

    assert result.code == 0, result
    names = [f"Room {n:03d}" for n in range(rows)]
    assert [json.loads(line)["name"] for line in result.stdout.splitlines()] == names
    assert sorted(room["name"] for room in limited.state()["rooms"]) == names
    sent = posts(limited)
    assert sorted(json.loads(r.body)["name"] for r in sent if r.answered == 200) == names
    # The limit was met (so the retries above were exercised), and every 429 was retried.
    answered_429 = [r for r in sent if r.answered == 429]
    assert answered_429
    assert len(sent) == rows + len(answered_429)
    assert json.loads(result.stderr) == {"summary": {"created": rows, "existing": 0, "failed": 0}}

    # The shared pause: once a 429 is answered, nobody sends until its Retry-After has passed.
    for refusal in answered_429:
        assert refusal.retry_after is not None
        assert refusal.answered_at is not None
        quiet_from = refusal.answered_at + IN_FLIGHT_SLACK
        quiet_until = refusal.answered_at + float(refusal.retry_after)
        early = [r for r in limited.recorded() if quiet_from < r.received_at < quiet_until]
        assert early == [], (refusal, early)


def test_rate_keeps_the_send_rate_under_its_value(tmp_path: Path, emulator: Emulator) -> None:
    rows = 20
    source = rooms_file(tmp_path, rows)
    args = ["rooms", "create", "--from-file", str(source), "-q", "--rate", "10"]

    result = run_in_process(args, environment(tmp_path, emulator))

    assert result.code == 0, result
    assert len(result.stdout.splitlines()) == rows
    received = sorted(r.received_at for r in posts(emulator))
    assert len(received) == rows
    # Sends are spaced 1/10 s apart: any 1 s holds at most 11 of them (both ends included),
    # and the whole run sends no faster than 10 per second.
    for first, later in zip(received, received[11:], strict=False):
        assert later - first > 1.0 - IN_FLIGHT_SLACK
    assert (rows - 1) / (received[-1] - received[0]) <= 10 * 1.05


def test_rate_comes_from_the_environment_and_the_profile_too(
    tmp_path: Path, emulator: Emulator
) -> None:
    env = environment(tmp_path, emulator)
    status = ["auth", "status", "--no-check", "--json"]
    unset = run_in_process(status, env)
    assert json.loads(unset.stdout)["rate"] == {"value": None, "source": "default"}
    config = Path(env["VCCTL_CONFIG_DIR"])
    config.mkdir(mode=0o700)
    (config / "config.toml").write_text("[profiles.default]\nrate = 2.5\n", "utf-8")
    (config / "config.toml").chmod(0o600)
    from_file = run_in_process(status, env)
    assert from_file.code == 0, from_file
    assert json.loads(from_file.stdout)["rate"] == {"value": 2.5, "source": "file"}
    from_env = run_in_process(status, {**env, "VCCTL_RATE": "3"})
    assert json.loads(from_env.stdout)["rate"] == {"value": 3.0, "source": "env"}
    from_flag = run_in_process([*status, "--rate", "4"], {**env, "VCCTL_RATE": "3"})
    assert json.loads(from_flag.stdout)["rate"] == {"value": 4.0, "source": "flag"}
    refused = run_in_process(["rooms", "get", "abcdef", "--rate", "0"], env)
    assert refused.code == 2, refused
    assert "invalid rate '0'" in refused.stderr or "invalid rate 0" in refused.stderr


def test_ignore_missing_counts_an_unknown_id_as_deleted(tmp_path: Path, emulator: Emulator) -> None:
    env = environment(tmp_path, emulator)
    kept, gone = seed_room(emulator, "One"), seed_room(emulator, "Two")

    result = run_in_process(
        ["rooms", "delete", kept["id"], "nope42", gone["id"], "--yes", "--ignore-missing"], env
    )

    assert (result.code, result.stderr) == (0, "")
    assert result.stdout == f"deleted room {kept['id']} (One)\ndeleted room {gone['id']} (Two)\n"
    assert emulator.state()["rooms"] == []
    assert sorted(r.answered for r in emulator.recorded()) == [200, 200, 404]

    alone = run_in_process(["rooms", "delete", "nope42", "--yes", "--ignore-missing"], env)
    assert (alone.code, alone.stdout, alone.stderr) == (0, "", "")
    without = run_in_process(["rooms", "delete", "nope42", "--yes"], env)
    assert without.code == 6, without
    participant = run_in_process(
        ["participants", "delete", "nope42", "--yes", "--ignore-missing", "--json"], env
    )
    assert (participant.code, participant.stdout, participant.stderr) == (0, "", "")

    on_terminal = run_in_pty(["rooms", "delete", "nope42", "--yes", "--ignore-missing"], env)
    assert on_terminal.code == 0, on_terminal
    assert "vcctl: room nope42 not found: nothing to delete" in on_terminal.stdout


def test_several_ids_are_fetched_concurrently_and_printed_in_input_order(
    tmp_path: Path, slow: Emulator
) -> None:
    rooms = [seed_room(slow, f"Room {n}") for n in range(6)]
    ids = [room["id"] for room in rooms]
    # The first id answers last of all.
    slow.add_fault(Fault("delay", delay_ms=300, method="GET", path_regex=f"/rooms/{ids[0]}$"))
    slow.clear_recorded()

    result = run_in_process(["rooms", "get", *ids, "--json"], environment(tmp_path, slow))

    assert (result.code, result.stderr) == (0, "")
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ids
    gets = slow.recorded()
    assert sorted(r.path for r in gets) == sorted(f"/fr/api/v1/rooms/{i}" for i in ids)
    # All were in flight at once: each was received before any was answered.
    first_answer = min(r.answered_at for r in gets if r.answered_at is not None)
    assert all(r.received_at < first_answer for r in gets)


def test_a_rate_limited_batch_on_a_terminal_prints_no_line_per_retry(
    tmp_path: Path, limited: Emulator
) -> None:
    rows = 40
    source = rooms_file(tmp_path, rows)
    args = ["rooms", "create", "--from-file", str(source), "-q"]

    result = run_in_pty(args, environment(tmp_path, limited), timeout=60)

    assert result.code == 0, result
    assert any(r.answered == 429 for r in limited.recorded())  # waits happened
    assert len(limited.state()["rooms"]) == rows
    assert "retrying in" not in result.stdout
    assert "vcctl: rate limited" not in result.stdout
    assert "created 40, existing 0, failed 0" in result.stdout


# A script run by `vcctl emulator exec`: the batch, timed, then what the emulator answered.
REFUSED_SHARE_SCRIPT = """
import json, subprocess, sys, time, urllib.request, os
started = time.monotonic()
batch = subprocess.run(
    [sys.executable, "-m", "vcctl", "rooms", "create", "--from-file", sys.argv[1],
     "--concurrency", "8", "--max-attempts", "12", "--json"],
    capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
)
seconds = time.monotonic() - started
with urllib.request.urlopen(os.environ["VCCTL_BASE_URL"] + "/_emulator/requests") as answer:
    log = json.load(answer)
print(json.dumps({"code": batch.returncode, "stdout": batch.stdout, "stderr": batch.stderr,
                  "seconds": seconds, "requests": log}))
"""


def test_a_share_refused_whatever_the_rate_costs_its_share_not_a_ratchet(tmp_path: Path) -> None:
    # `emulator exec --refuse-share` answers one request in five 429 (Retry-After 0) however
    # slowly they come. Each such 429 used to cut the pace to 95% of the second before, which
    # the cut itself had lowered: 150 rows took over a minute; now a few seconds. (More
    # attempts than the default, so that no row runs out of them by bad luck.)
    rows = 150
    script = tmp_path / "batch.py"
    script.write_text(REFUSED_SHARE_SCRIPT, "utf-8")
    source = rooms_file(tmp_path, rows)
    args = ["emulator", "exec", "--refuse-share", "0.2", "--refuse-retry-after", "0"]
    args += ["--seed", "7", "--", sys.executable, str(script), str(source)]

    result = run_vcctl(args, clean_environment(tmp_path), timeout=150)

    assert result.code == 0, result
    run = json.loads(result.stdout)
    assert run["code"] == 0, run["stderr"]
    names = [f"Room {n:03d}" for n in range(rows)]
    assert [json.loads(line)["name"] for line in run["stdout"].splitlines()] == names
    sent = [r for r in run["requests"] if r["method"] == "POST"]
    refused = [r for r in sent if r["answered"] == 429]
    assert refused
    assert {r["retry_after"] for r in refused} == {"0"}
    assert len(sent) == rows + len(refused)
    # Creates with nothing to wait for: a few seconds even on a loaded machine.
    assert run["seconds"] < 10, run["seconds"]
