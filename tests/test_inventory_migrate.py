"""`vcctl inventory migrate --to URL`: a laptop's inventory file copied into the team's PostgreSQL
inventory, end to end (real vcctl processes, the emulator, a real server)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run_vcctl, sent_to
from tests.test_inventory_postgres import SECRET, machine, with_password
from vcctl.emulator.server import Emulator

STACK = """stack = "weekly"
[rooms.board]
name = "Board"
[rooms.board.participants.ada]
username = "Ada"
"""


def posts(emulator: Emulator) -> int:
    return len([r for r in emulator.recorded() if r.method == "POST" and "/rooms/" not in r.path])


def test_the_local_records_and_keys_move_to_the_shared_inventory_and_again_changes_nothing(
    tmp_path: Path, emulator: Emulator, postgres_url: str
) -> None:
    laptop = machine(tmp_path, "laptop", emulator, "")  # its own file
    runner = machine(tmp_path, "runner", emulator, postgres_url)
    keyed = run_vcctl(["rooms", "create", "--name", "Sales", "--key", "sales", "-q"], laptop)
    plain = run_vcctl(["rooms", "create", "--name", "Scratch", "-q"], laptop)
    stack = tmp_path / "weekly.toml"
    stack.write_text(STACK, encoding="utf-8")
    assert run_vcctl(["apply", "-f", str(stack)], laptop).code == 0
    ids = sorted(run_vcctl(["rooms", "list", "-q"], laptop).stdout.split())
    sent = posts(emulator)
    to = with_password(postgres_url)

    migrated = run_vcctl(["inventory", "migrate", "--to", to], laptop)
    again = run_vcctl(["inventory", "migrate", "--to", to], laptop)

    masked = to.replace(SECRET, "****")
    assert migrated.code == 0, migrated
    assert migrated.stdout == f"copied 4 records and 3 keys into {masked}\n"
    assert again.code == 0, again
    assert again.stdout == f"copied 4 records and 0 keys into {masked} (3 keys there already)\n"
    for result in (migrated, again):
        assert SECRET not in result.stdout + result.stderr
    # The runner now knows everything the laptop made: it lists them, and creates nothing again.
    assert sorted(run_vcctl(["rooms", "list", "-q"], runner).stdout.split()) == ids
    same = run_vcctl(["rooms", "create", "--name", "Sales", "--key", "sales", "-q"], runner)
    assert (same.code, same.stdout) == (0, keyed.stdout)
    reapplied = run_vcctl(["apply", "-f", str(stack), "--json"], runner)
    assert reapplied.code == 0, reapplied
    assert '"action": "create"' not in reapplied.stdout
    assert posts(emulator) == sent
    assert plain.stdout.strip() in ids


def test_keys_the_two_map_to_different_ids_are_refused_and_listed_the_rest_copied(
    tmp_path: Path, emulator: Emulator, postgres_url: str
) -> None:
    laptop = machine(tmp_path, "laptop", emulator, "")
    runner = machine(tmp_path, "runner", emulator, postgres_url)
    theirs = run_vcctl(["rooms", "create", "--name", "HR", "--key", "hr", "-q"], runner)
    ours = run_vcctl(["rooms", "create", "--name", "HR", "--key", "hr", "-q"], laptop)
    legal = run_vcctl(["rooms", "create", "--name", "Legal", "--key", "legal", "-q"], laptop)
    there, here = theirs.stdout.strip(), ours.stdout.strip()
    assert here != there

    migrated = run_vcctl(["inventory", "migrate", "--to", postgres_url], laptop)

    assert migrated.code == 2, migrated
    assert f"room key 'hr' of {emulator.base_url}: {here} here, {there} there" in migrated.stderr
    assert "1 key name different ids here and in postgresql://" in migrated.stderr
    assert "copied 2 records and 1 key into" in migrated.stdout
    # The shared key still names its room; the other key came over; both HR rooms are listed.
    kept = run_vcctl(["rooms", "get", "@hr", "--json"], runner)
    assert f'"id": "{there}"' in kept.stdout, kept
    moved = run_vcctl(["rooms", "create", "--name", "Legal", "--key", "legal", "-q"], runner)
    assert moved.stdout == legal.stdout
    listed = run_vcctl(["rooms", "list", "-q"], runner).stdout.split()
    assert sorted(listed) == sorted([there, here, legal.stdout.strip()])
    assert len([r for r in sent_to(emulator, "/api/v1/rooms") if r.method == "POST"]) == 3


def test_without_a_local_file_there_is_nothing_to_copy(
    tmp_path: Path, emulator: Emulator, postgres_url: str
) -> None:
    laptop = machine(tmp_path, "laptop", emulator, "")
    migrated = run_vcctl(["inventory", "migrate", "--to", postgres_url], laptop)
    assert migrated.code == 0, migrated
    assert "no local inventory at" in migrated.stderr
    assert not (tmp_path / "laptop" / "data" / "inventory.sqlite3").exists()
