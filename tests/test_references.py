"""`@KEY` where an id is expected, resolved in the inventory before anything is sent, and the
"did you mean" hint of a 404 for something the inventory knows under another spelling."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import Runner, assert_refused, assert_sent
from vcctl.emulator.server import Emulator


def created(vcctl: Runner, *args: str) -> str:
    result = vcctl(*args, "-q")
    assert result.code == 0, result
    return result.stdout.strip()


def test_a_room_key_stands_for_its_id_in_every_room_command(
    vcctl: Runner, emulator: Emulator
) -> None:
    room = created(vcctl, "rooms", "create", "--name", "6E Physics", "--key", "6E")
    emulator.clear_recorded()

    shown = vcctl("rooms", "get", "@6E", "--json")
    assert shown.code == 0, shown
    assert f'"id": "{room}"' in shown.stdout
    renamed = vcctl("rooms", "update", "@6E", "--name", "6E Physique")
    assert renamed.code == 0, renamed
    person = created(vcctl, "participants", "create", "--room", "@6E", "--username", "Ada")
    muted = vcctl("events", "mute-all", "--room", "@6E")
    assert muted.code == 0, muted
    requests = emulator.recorded()
    assert_sent(requests[0], "GET", f"/fr/api/v1/rooms/{room}")
    assert_sent(requests[1], "POST", f"/fr/api/v1/rooms/{room}", {"name": "6E Physique"})
    assert json.loads(requests[2].body)["room_id"] == room
    assert json.loads(requests[3].body) == {"room_event": "mute-all", "room_id": room}

    gone = vcctl("rooms", "delete", "--yes", "-", input="@6E\n")
    assert gone.code == 0, gone
    assert emulator.recorded()[-1].method == "DELETE"
    assert emulator.recorded()[-1].path == f"/fr/api/v1/rooms/{room}"
    assert person


def test_a_participant_key_is_looked_up_in_its_room(vcctl: Runner, emulator: Emulator) -> None:
    first = created(vcctl, "rooms", "create", "--name", "A", "--key", "a")
    second = created(vcctl, "rooms", "create", "--name", "B", "--key", "b")
    ada_a = created(vcctl, "participants", "create", "--room", first, "--username", "Ada",
                    "--key", "ada")  # fmt: skip
    ada_b = created(vcctl, "participants", "create", "--room", second, "--username", "Ada",
                    "--key", "ada")  # fmt: skip
    emulator.clear_recorded()

    both = vcctl("participants", "get", "@ada")
    assert_refused(both, "@ada names 2 participants")
    assert ada_a in both.stderr
    assert ada_b in both.stderr
    assert emulator.recorded() == []

    event = vcctl("events", "activate-video-and-audio", "--room", "@b", "--participant", "@ada")
    assert event.code == 0, event
    assert json.loads(emulator.recorded()[0].body) == {
        "room_event": "activate-video-and-audio",
        "room_id": second,
        "participant_id": ada_b,
    }


def test_a_reference_that_names_nothing_is_refused_before_sending(
    vcctl: Runner, emulator: Emulator
) -> None:
    refused = vcctl("rooms", "get", "@nothing")
    assert_refused(refused, "@nothing names no room in the inventory")
    refused = vcctl("rooms", "delete", "--yes", "@nothing")
    assert_refused(refused, "@nothing names no room")
    assert emulator.recorded() == []


def test_a_stack_key_is_written_stack_slash_key(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    stack = tmp_path / "weekly.toml"
    stack.write_text('stack = "weekly"\n[rooms.board]\nname = "Board"\n', encoding="utf-8")
    applied = vcctl("apply", "-f", str(stack), "--yes")
    assert applied.code == 0, applied

    plain = vcctl("rooms", "get", "@board")
    assert_refused(plain, "@board names no room")
    assert "did you mean @weekly/board?" in plain.stderr
    shown = vcctl("rooms", "get", "@weekly/board", "--json")
    assert shown.code == 0, shown
    assert '"name": "Board"' in shown.stdout


def test_a_404_suggests_what_the_inventory_knows(vcctl: Runner, emulator: Emulator) -> None:
    room = created(vcctl, "rooms", "create", "--name", "6E Physics", "--key", "6E")
    marie = created(vcctl, "participants", "create", "--room", room, "--username",
                    "Marie Curie")  # fmt: skip
    other_case = marie.swapcase()

    missed = vcctl("participants", "get", other_case)
    assert missed.code == 6, missed
    assert missed.stderr.endswith(f'hint: did you mean {marie} ("Marie Curie")?\n'), missed
    for typed in ("6E", "6E Physics"):
        missed = vcctl("rooms", "get", typed)
        assert missed.code == 6, missed
        assert missed.stderr.endswith(f'hint: did you mean {room} ("6E Physics")?\n'), missed


def test_an_id_the_inventory_does_not_know_keeps_the_plain_404(vcctl: Runner) -> None:
    missed = vcctl("rooms", "get", "zzzzzz")
    assert missed.code == 6, missed
    assert "did you mean" not in missed.stderr
