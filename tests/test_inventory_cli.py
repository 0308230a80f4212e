"""The inventory from the command line: what is recorded, `rooms list`, keys that make creates
repeatable, batches that resume, and an inventory that cannot be used. Real processes against
the real emulator, each test with its own VCCTL_DATA_DIR (see `clean_environment`)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.helpers import Runner, run_concurrently, run_vcctl
from vcctl.emulator.server import Emulator, Fault


def posts(emulator: Emulator, path: str = "/api/v1/rooms") -> list[dict[str, object]]:
    return [
        json.loads(request.body)
        for request in emulator.recorded()
        if request.method == "POST" and request.path == path
    ]


def room_names(emulator: Emulator) -> Counter[str]:
    return Counter(room["name"] for room in emulator.state()["rooms"])


def test_rooms_list_shows_single_and_batch_creates_newest_first_and_sends_nothing(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    first = vcctl("rooms", "create", "--name", "solo", "-q").stdout.strip()
    source = tmp_path / "rooms.csv"
    source.write_text("name\nb1\nb2\n")
    batch = vcctl("rooms", "create", "--from-file", str(source), "-q").stdout.split()
    emulator.clear_recorded()

    listed = vcctl("rooms", "list", "-q")
    as_json = vcctl("rooms", "list", "--json")
    table = vcctl("rooms", "list")

    assert listed.code == 0, listed
    assert set(listed.stdout.split()) == {first, *batch}
    assert listed.stdout.split()[-1] == first  # the oldest last
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert {record["name"] for record in records} == {"solo", "b1", "b2"}
    solo = next(record for record in records if record["id"] == first)
    assert solo["vcctl"]["gone"] is False
    assert solo["vcctl"]["key"] is None
    assert solo["vcctl"]["base_url"] == emulator.base_url
    header = table.stdout.splitlines()[0].split()
    assert header == ["ID", "NAME", "KEY", "CREATED", "LAST", "SEEN", "PARTICIPANTS"]
    assert "\x1b" not in table.stdout
    assert emulator.recorded() == []  # no request without --refresh


def columns_of(table: str) -> list[dict[str, str]]:
    """The rows of a plain table, each cell read at its header's offset (so a misaligned or
    missing cell shows as a wrong value)."""
    header, *lines = table.splitlines()
    names = re.findall(r"\S+(?: \S+)*", header)
    starts = [header.index(name) for name in names]
    ends = [*starts[1:], None]
    return [
        {
            name: line[start:end].strip()
            for name, start, end in zip(names, starts, ends, strict=True)
        }
        for line in lines
    ]


def test_the_listing_table_shows_keys_participant_counts_and_what_is_gone(
    vcctl: Runner, emulator: Emulator
) -> None:
    board = vcctl("rooms", "create", "--name", "Board", "--key", "board", "-q").stdout.strip()
    old = vcctl("rooms", "create", "--name", "Old", "-q").stdout.strip()
    people = [
        vcctl("participants", "create", "--room", board, "--username", name, "-q").stdout.strip()
        for name in ("Ada", "Bo")
    ]
    assert vcctl("rooms", "delete", old, "--yes").code == 0

    everything = vcctl("rooms", "list", "--include-gone", "--all-accounts")
    live = vcctl("rooms", "list")
    participants = vcctl("participants", "list")

    when = r"\d{4}-\d\d-\d\d \d\d:\d\d"
    assert everything.code == 0, everything
    assert all(line == line.rstrip() for line in everything.stdout.splitlines())
    rows = {row["ID"]: row for row in columns_of(everything.stdout)}
    assert set(rows) == {board, old}
    assert (rows[board]["NAME"], rows[board]["KEY"], rows[board]["PARTICIPANTS"]) == (
        "Board", "board", "2",
    )  # fmt: skip
    assert (rows[old]["NAME"], rows[old]["KEY"], rows[old]["PARTICIPANTS"]) == ("Old", "", "0")
    assert re.fullmatch(when, rows[old]["GONE"])
    assert rows[board]["GONE"] == ""
    assert {row["BASE URL"] for row in rows.values()} == {emulator.base_url}
    assert all(re.fullmatch(when, row["CREATED"]) for row in rows.values())
    assert [row["ID"] for row in columns_of(live.stdout)] == [board]
    assert live.stdout.splitlines()[0].endswith(" PARTICIPANTS")  # no GONE, no BASE URL
    listed = columns_of(participants.stdout)
    assert sorted(row["ID"] for row in listed) == sorted(people)
    assert {(row["USERNAME"], row["ROOM"]) for row in listed} == {("Ada", board), ("Bo", board)}


def test_listings_are_per_account_unless_all_accounts(
    vcctl: Runner, env: dict[str, str], emulator: Emulator
) -> None:
    mine = vcctl("rooms", "create", "--name", "mine", "-q").stdout.strip()
    # Another account: the same server under another base URL.
    other_env = {**env, "VCCTL_BASE_URL": emulator.base_url.replace("127.0.0.1", "localhost")}
    theirs = run_vcctl(["rooms", "create", "--name", "theirs", "-q"], other_env).stdout.strip()

    assert vcctl("rooms", "list", "-q").stdout.split() == [mine]
    assert run_vcctl(["rooms", "list", "-q"], other_env).stdout.split() == [theirs]
    everyone = vcctl("rooms", "list", "--all-accounts")
    assert set(vcctl("rooms", "list", "-q", "--all-accounts").stdout.split()) == {mine, theirs}
    assert "BASE URL" in everyone.stdout.splitlines()[0]


def test_refresh_marks_a_room_deleted_on_the_server_as_gone(
    vcctl: Runner, env: dict[str, str], emulator: Emulator
) -> None:
    kept = vcctl("rooms", "create", "--name", "kept", "-q").stdout.strip()
    lost = vcctl("rooms", "create", "--name", "lost", "-q").stdout.strip()
    # Deleted behind the inventory's back.
    off = {**env, "VCCTL_INVENTORY": "off"}
    assert run_vcctl(["rooms", "delete", lost, "--yes"], off).code == 0
    assert set(vcctl("rooms", "list", "-q").stdout.split()) == {kept, lost}
    emulator.clear_recorded()

    refreshed = vcctl("rooms", "list", "-q", "--refresh")

    assert refreshed.code == 0, refreshed
    assert refreshed.stdout.split() == [kept]
    assert sorted(r.method + " " + r.path.rsplit("/", 1)[1] for r in emulator.recorded()) == sorted(
        [f"GET {kept}", f"GET {lost}"]
    )
    gone = [
        json.loads(line)
        for line in vcctl("rooms", "list", "--json", "--include-gone").stdout.splitlines()
    ]
    assert {(room["id"], room["vcctl"]["gone"]) for room in gone} == {(kept, False), (lost, True)}


def test_list_quiet_piped_into_delete_cleans_up(
    vcctl: Runner, env: dict[str, str], emulator: Emulator
) -> None:
    for name in ("a", "b", "c"):
        vcctl("rooms", "create", "--name", name)
    ids = vcctl("rooms", "list", "-q").stdout

    pipeline = subprocess.run(
        f"{sys.executable} -m vcctl rooms list -q | {sys.executable} -m vcctl rooms delete --yes -",
        shell=True, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert pipeline.returncode == 0, pipeline
    assert emulator.state()["rooms"] == []
    assert sorted(
        r.path.rsplit("/", 1)[1] for r in emulator.recorded() if r.method == "DELETE"
    ) == sorted(ids.split())
    assert vcctl("rooms", "list", "-q").stdout == ""
    assert vcctl("rooms", "delete", "-", "--yes", input="\n\n").code == 0  # nothing to delete


def test_delete_dash_from_a_terminal_is_a_usage_error(env: dict[str, str]) -> None:
    from tests.helpers import run_in_pty

    result = run_in_pty(["rooms", "delete", "-", "--yes"], env)
    assert result.code == 2, result
    assert "standard input, which is a terminal" in result.stdout + result.stderr


def test_a_key_created_twice_sends_one_post_and_prints_the_same(
    vcctl: Runner, emulator: Emulator
) -> None:
    first = vcctl("rooms", "create", "--name", "board", "--key", "board", "--json")
    again = vcctl("rooms", "create", "--name", "board", "--key", "board", "--json")
    quiet = vcctl("rooms", "create", "--name", "renamed", "--key", "board", "-q")

    assert (first.code, again.code, quiet.code) == (0, 0, 0), (first, again, quiet)
    room = json.loads(first.stdout)
    # Printed as a create prints: the API's object (as its GET answers now).
    assert {**json.loads(again.stdout), "participants": []} == {**room, "participants": []}
    assert quiet.stdout == f"{room['id']}\n"
    assert "differs from what was asked in name" in quiet.stderr
    assert len(posts(emulator)) == 1
    assert [r.method for r in emulator.recorded()] == ["POST", "GET", "GET"]


def test_a_gone_key_is_created_anew(vcctl: Runner, emulator: Emulator) -> None:
    first = vcctl("rooms", "create", "--name", "x", "--key", "k", "-q").stdout.strip()
    assert vcctl("rooms", "delete", first, "--yes").code == 0
    second = vcctl("rooms", "create", "--name", "x", "--key", "k", "-q")
    assert second.code == 0, second
    assert second.stdout.strip() != first
    assert len(posts(emulator)) == 2


def test_six_concurrent_processes_with_one_key_create_one_room(
    env: dict[str, str], emulator: Emulator
) -> None:
    emulator.add_fault(Fault("delay", delay_ms=300, method="POST", times=6))
    command = ["rooms", "create", "--name", "shared", "--key", "shared", "-q"]

    results = run_concurrently([(command, env)] * 6)

    assert [result.code for result in results] == [0] * 6, results
    ids = {result.stdout for result in results}
    assert len(ids) == 1
    assert len(posts(emulator)) == 1
    assert [room["id"] + "\n" for room in emulator.state()["rooms"]] == list(ids)


def test_a_keyed_batch_with_a_failed_row_is_finished_by_running_it_again(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    source = tmp_path / "rooms.csv"
    source.write_text("name,key\n" + "".join(f"R{i},k{i}\n" for i in range(30)))
    emulator.add_fault(Fault("status", status=400, method="POST", path_regex="rooms", message="no"))
    first = vcctl("rooms", "create", "--from-file", str(source), "-q", "--concurrency", "4")
    assert first.code == 10, first
    assert len(first.stdout.split()) == 29
    emulator.clear_recorded()

    again = vcctl("rooms", "create", "--from-file", str(source), "-q", "--concurrency", "4")

    assert again.code == 0, again
    assert len(posts(emulator)) == 1
    names = {room["id"]: room["name"] for room in emulator.state()["rooms"]}
    assert [names[i] for i in again.stdout.split()] == [f"R{i}" for i in range(30)]
    assert room_names(emulator) == Counter(f"R{i}" for i in range(30))


def test_ctrl_c_mid_batch_then_running_it_again_leaves_exactly_one_of_each(
    env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    source = tmp_path / "rooms.jsonl"
    source.write_text(
        "".join(json.dumps({"name": f"R{i}", "key": f"k{i}"}) + "\n" for i in range(40))
    )
    emulator.add_fault(Fault("delay", delay_ms=200, method="POST", times=40))
    child = subprocess.Popen(
        [sys.executable, "-m", "vcctl", "rooms", "create", "--from-file", str(source),
         "--concurrency", "3", "-q"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while len(emulator.recorded()) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)  # polling the emulator's log, with a deadline
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=30)
    finally:
        child.kill()
    assert child.returncode == 130, (stdout, stderr)
    assert 5 <= len(stdout.split()) < 40

    again = run_vcctl(["rooms", "create", "--from-file", str(source), "-q"], env)

    assert again.code == 0, again
    assert room_names(emulator) == Counter(f"R{i}" for i in range(40))
    assert again.stdout.split()[: len(stdout.split())] == stdout.split()


def test_an_unknown_outcome_blocks_the_key_until_forgotten(
    vcctl: Runner, emulator: Emulator
) -> None:
    emulator.add_fault(Fault("status", status=502, method="POST", apply=True))
    failed = vcctl("rooms", "create", "--name", "maybe", "--key", "maybe", "-q")
    assert failed.code == 8, failed

    blocked = vcctl("rooms", "create", "--name", "maybe", "--key", "maybe", "-q")
    assert blocked.code == 11, blocked  # blocked, nothing sent
    assert "room key 'maybe'" in blocked.stderr
    assert "an earlier create's outcome is unknown" in blocked.stderr
    assert "vcctl inventory forget --key maybe" in blocked.stderr
    assert len(posts(emulator)) == 1

    assert vcctl("inventory", "forget", "--key", "maybe").code == 0
    freed = vcctl("rooms", "create", "--name", "maybe", "--key", "maybe", "-q")
    assert freed.code == 0, freed
    assert len(posts(emulator)) == 2


def test_a_corrupt_inventory_leaves_plain_calls_working_refuses_keys_and_is_unchanged(
    vcctl: Runner, env: dict[str, str], emulator: Emulator
) -> None:
    data = Path(env["VCCTL_DATA_DIR"])
    data.mkdir(mode=0o700)
    corrupt = data / "inventory.sqlite3"
    content = b"this is not an SQLite file\n" * 100
    corrupt.write_bytes(content)
    corrupt.chmod(0o600)

    plain = vcctl("rooms", "create", "--name", "plain", "-q")
    keyed = vcctl("rooms", "create", "--name", "keyed", "--key", "k", "-q")
    listed = vcctl("rooms", "list")

    assert plain.code == 0, plain
    assert plain.stdout.strip() == emulator.state()["rooms"][0]["id"]
    assert plain.stderr.count("vcctl: warning:") == 1
    assert str(corrupt) in plain.stderr
    assert (keyed.code, keyed.stdout, listed.code) == (2, "", 2), (keyed, listed)
    assert len(posts(emulator)) == 1  # the keyed create sent nothing
    assert corrupt.read_bytes() == content
    assert sorted(p.name for p in data.iterdir()) == ["inventory.sqlite3"]


def test_inventory_off_reads_and_writes_nothing(env: dict[str, str], emulator: Emulator) -> None:
    off = {**env, "VCCTL_INVENTORY": "off"}
    created = run_vcctl(["rooms", "create", "--name", "x", "-q"], off)
    listed = run_vcctl(["rooms", "list"], off)
    keyed = run_vcctl(["rooms", "create", "--name", "x", "--key", "k"], off)

    assert created.code == 0, created
    assert (listed.code, keyed.code) == (2, 2)
    assert not Path(env["VCCTL_DATA_DIR"]).exists()


def test_participants_are_recorded_and_listed_without_room(
    vcctl: Runner, emulator: Emulator
) -> None:
    room = vcctl("rooms", "create", "--name", "r", "-q").stdout.strip()
    ada = vcctl("participants", "create", "--room", room, "--username", "Ada", "--key", "ada", "-q")
    again = vcctl(
        "participants", "create", "--room", room, "--username", "Ada", "--key", "ada", "-q"
    )
    assert ada.code == 0, ada
    assert again.stdout == ada.stdout
    assert len(posts(emulator, "/api/v1/participants")) == 1

    listed = [
        json.loads(line) for line in vcctl("participants", "list", "--json").stdout.splitlines()
    ]
    assert [(p["id"], p["username"], p["vcctl"]["key"]) for p in listed] == [
        (ada.stdout.strip(), "Ada", "ada")
    ]
    assert vcctl("participants", "delete", "-", "--yes", input=ada.stdout).code == 0
    assert vcctl("participants", "list", "-q").stdout == ""
    assert vcctl("participants", "list", "-q", "--include-gone").stdout == ada.stdout


def test_inventory_path_and_forget(vcctl: Runner, env: dict[str, str]) -> None:
    assert vcctl("inventory", "path").stdout == f"{env['VCCTL_DATA_DIR']}/inventory.sqlite3\n"
    room = vcctl("rooms", "create", "--name", "r", "-q").stdout.strip()
    forgotten = vcctl("inventory", "forget", room, "nope")
    assert forgotten.code == 0, forgotten
    assert "nope is not in the inventory" in forgotten.stderr
    assert vcctl("rooms", "list", "-q").stdout == ""


def test_an_age_in_capital_m_is_refused_and_the_units_are_named(
    vcctl: Runner, emulator: Emulator
) -> None:
    # `--created-before 6M` meant six minutes: in the cleanup pipeline, someone meaning six
    # months deleted everything older than six minutes.
    room = vcctl("rooms", "create", "--name", "fresh", "-q").stdout.strip()
    emulator.clear_recorded()
    for args in (
        ("rooms", "list", "-q", "--created-before", "6M"),
        ("participants", "list", "-q", "--created-after", "6M"),
    ):
        refused = vcctl(*args)
        assert refused.code == 2, refused
        assert refused.stdout == ""
        assert refused.stderr == (
            "vcctl: error: invalid time '6M': M could mean months or minutes: write 90m for "
            "minutes, or a date for months\n"
            "hint: units: s (seconds), m (minutes), h (hours), d (days), w (weeks)\n"
        )
    unknown = vcctl("rooms", "list", "--created-before", "6mo")
    assert unknown.code == 2, unknown
    assert "unknown unit 'mo'" in unknown.stderr
    assert emulator.recorded() == []
    # Lower-case m is minutes; the other units mean the same in either case.
    assert vcctl("rooms", "list", "-q", "--created-after", "10m").stdout.split() == [room]
    assert vcctl("rooms", "list", "-q", "--created-before", "10m").stdout == ""
    assert vcctl("rooms", "list", "-q", "--created-after", "1D").stdout.split() == [room]


def test_refresh_marks_a_participant_missing_from_its_rooms_list_as_gone(
    vcctl: Runner, env: dict[str, str], emulator: Emulator
) -> None:
    room = vcctl("rooms", "create", "--name", "board", "-q").stdout.strip()
    kept = vcctl("participants", "create", "--room", room, "--username", "Ada", "-q")
    lost = vcctl("participants", "create", "--room", room, "--username", "Bob", "-q")
    kept_id, lost_id = kept.stdout.strip(), lost.stdout.strip()
    # Deleted behind the inventory's back: it stayed live after a refresh, so the cleanup
    # pipeline tried to delete it again and exited 10.
    off = {**env, "VCCTL_INVENTORY": "off"}
    assert run_vcctl(["participants", "delete", lost_id, "--yes"], off).code == 0
    assert set(vcctl("participants", "list", "-q").stdout.split()) == {kept_id, lost_id}

    refreshed = vcctl("rooms", "list", "-q", "--refresh")

    assert refreshed.code == 0, refreshed
    assert refreshed.stdout.split() == [room]
    assert vcctl("participants", "list", "-q").stdout.split() == [kept_id]
    gone = [
        json.loads(line)
        for line in vcctl("participants", "list", "--json", "--include-gone").stdout.splitlines()
    ]
    assert {(p["id"], p["vcctl"]["gone"]) for p in gone} == {(kept_id, False), (lost_id, True)}
