"""Every item of a multi-item command told truly: `rooms list --refresh` exits by the multi-item
rule (each refresh is an item), and `rooms delete A B C --json` prints one JSON line per id,
whatever the answer.

Real processes against the emulator (or a hostile server), over real HTTP.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import Runner
from vcctl.emulator.server import Emulator, Fault


def three_listed_rooms(vcctl: Runner) -> list[str]:
    ids = [vcctl("rooms", "create", "--name", f"Listed {n}", "-q").stdout.strip() for n in range(3)]
    assert all(ids)
    return ids


@pytest.mark.parametrize(("status", "code"), [(401, 4), (500, 8)])
def test_a_refresh_that_fails_for_every_record_exits_with_their_code(
    vcctl: Runner, emulator: Emulator, status: int, code: int
) -> None:
    ids = three_listed_rooms(vcctl)
    emulator.add_fault(Fault("status", status=status, method="GET", times=100))

    refreshed = vcctl("rooms", "list", "-q", "--refresh", "--max-attempts", "1")

    assert refreshed.code == code, refreshed  # every item failed: their shared code, not 10
    assert sorted(refreshed.stdout.split()) == sorted(ids)  # the inventory is still listed
    assert refreshed.stderr.count("vcctl: error:") == 3, refreshed.stderr


def test_a_refresh_that_fails_for_some_records_exits_10(vcctl: Runner, emulator: Emulator) -> None:
    ids = three_listed_rooms(vcctl)
    emulator.add_fault(Fault("status", status=401, method="GET", path_regex=ids[1], times=100))

    refreshed = vcctl("rooms", "list", "-q", "--refresh")

    assert refreshed.code == 10, refreshed
    assert ids[1] in refreshed.stderr
    assert refreshed.stderr.count("vcctl: error:") == 1, refreshed.stderr


def test_a_multi_id_delete_with_json_prints_one_line_per_id_whatever_the_answer(
    vcctl: Runner, emulator: Emulator
) -> None:
    plain, empty, lost = three_listed_rooms(vcctl)
    unknown = "NoSuchRoom"
    # `empty` is answered 204 with no body; `lost`'s first answer is lost after the API deleted
    # it, and the retry is answered 404: deleted all the same.
    emulator.add_fault(Fault("empty", status=204, method="DELETE", path_regex=empty, apply=True))
    emulator.add_fault(Fault("drop", method="DELETE", path_regex=lost, apply=True))

    deleted = vcctl(
        "rooms", "delete", plain, empty, lost, unknown, "--yes", "--json", "--concurrency", "1"
    )

    assert deleted.code == 10, deleted  # three deleted, one not found
    lines = [json.loads(line) for line in deleted.stdout.splitlines()]
    assert [line["id"] for line in lines] == [plain, empty, lost]  # in input order
    assert lines[0]["name"] == "Listed 0"  # the API's answer, as received
    assert lines[1] == {"id": empty, "deleted": True}
    assert lines[2] == {"id": lost, "deleted": True}
    errors = [json.loads(line) for line in deleted.stderr.splitlines()]
    assert [error["error"]["item"] for error in errors] == [unknown]
    assert errors[0]["error"]["exit_code"] == 6
    assert emulator.state()["rooms"] == []
