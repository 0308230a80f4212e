"""Inventory lookups by name: `participants list` filters combine with --room, and every list
prints exactly one id with --one, or fails (exit 2) listing what matched."""

from __future__ import annotations

from tests.helpers import Runner, assert_refused
from vcctl.emulator.server import Emulator


def make(vcctl: Runner, *args: str) -> str:
    result = vcctl(*args, "-q")
    assert result.code == 0, result
    return result.stdout.strip()


def test_room_and_name_filters_combine_and_one_gives_one_id(
    vcctl: Runner, emulator: Emulator
) -> None:
    physics = make(vcctl, "rooms", "create", "--name", "6E Physics", "--key", "6E")
    maths = make(vcctl, "rooms", "create", "--name", "5A Maths", "--key", "5A")
    hedy = make(vcctl, "participants", "create", "--room", physics, "--username", "Hedy Lamarr")
    make(vcctl, "participants", "create", "--room", maths, "--username", "Hedy Kiesler")
    make(vcctl, "participants", "create", "--room", physics, "--username", "Ada")
    emulator.clear_recorded()

    found = vcctl("participants", "list", "--room", "@6E", "--name", "Hedy*", "-q")
    assert (found.code, found.stdout) == (0, f"{hedy}\n"), found
    one = vcctl("participants", "list", "--room", "@6E", "--name", "Hedy*", "--one")
    assert (one.code, one.stdout, one.stderr) == (0, f"{hedy}\n", ""), one
    assert emulator.recorded() == []

    several = vcctl("participants", "list", "--name", "Hedy*", "--one")
    assert_refused(several, "--one: 2 participants match")
    assert "Hedy Lamarr" in several.stderr
    assert "Hedy Kiesler" in several.stderr
    none = vcctl("rooms", "list", "--name", "7*", "--one")
    assert_refused(none, "--one: no room matches")
    room = vcctl("rooms", "list", "--name", "6E*", "--one")
    assert (room.code, room.stdout) == (0, f"{physics}\n"), room
