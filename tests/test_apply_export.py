"""Export: a stack file for existing rooms that parses back and plans to nothing."""

from __future__ import annotations

import tomllib
from typing import Any

from vcctl.apply import stackfile
from vcctl.apply.desired import KEY_PATTERN, StackEntry
from vcctl.apply.export import export_stack, slug, unique_key
from vcctl.apply.plan import Live, live_from_rooms, make_plan


def room(room_id: str, name: str, color: str = "#5f5f5f", **extra: Any) -> dict[str, Any]:
    return {"id": room_id, "name": name, "color": color, "created_at": "t", **extra}


def person(pid: str, room_id: str, username: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": pid,
        "room_id": room_id,
        "username": username,
        "video_and_audio_on": True,
        "language": "fr",
        "created_at": "t",
        **fields,
    }


ROOMS = [
    room(
        "R1",
        "Board meeting",
        "#1E90FF",
        participants=[
            person("P1", "R1", "Ada Lovelace", language="en"),
            person("P2", "R1", "Ada Lovelace", video_and_audio_on=False),
            # Odd but sendable (a control character is not: see the test of left-out fields).
            person("P3", "R1", "Zoë \u202e[31m"),
        ],
    ),
    room("R2", "Board meeting", participants=[]),
    room("R3", "Équipe de vente !", participants=[]),
    room("R4", "???"),
]


def test_keys_come_from_names_made_unique() -> None:
    exported = export_stack(ROOMS, stack="adopted")
    document = tomllib.loads(exported.text)
    assert document["stack"] == "adopted"
    assert list(document["rooms"]) == [
        "board-meeting",
        "board-meeting-2",
        "equipe-de-vente",
        "room",
    ]
    board = document["rooms"]["board-meeting"]
    assert board["participants"] == {
        "ada-lovelace": {"username": "Ada Lovelace", "language": "en", "video_and_audio_on": True},
        "ada-lovelace-2": {
            "username": "Ada Lovelace",
            "language": "fr",
            "video_and_audio_on": False,
        },
        "zoe-31m": {"username": "Zoë \u202e[31m", "language": "fr", "video_and_audio_on": True},
    }
    assert {k: v for k, v in board.items() if k != "participants"} == {
        "name": "Board meeting",
        "color": "#1E90FF",
    }
    # A TOML escape holds it (nothing raw for a terminal); the value round-trips.
    assert "\u202e" not in exported.text
    assert "\\u202e" in exported.text
    assert exported.records == (
        StackEntry("room", "board-meeting", "R1"),
        StackEntry("participant", "ada-lovelace", "P1", "board-meeting"),
        StackEntry("participant", "ada-lovelace-2", "P2", "board-meeting"),
        StackEntry("participant", "zoe-31m", "P3", "board-meeting"),
        StackEntry("room", "board-meeting-2", "R2"),
        StackEntry("room", "equipe-de-vente", "R3"),
        StackEntry("room", "room", "R4"),
    )
    assert exported.warnings == ()


def test_export_then_parse_then_plan_is_all_unchanged() -> None:
    exported = export_stack(ROOMS, stack="adopted")
    desired = stackfile.parse_toml(exported.text, "exported.toml")
    records = list(exported.records)
    answers: dict[str, Live] = {r["id"]: r for r in ROOMS}
    live, to_fetch = live_from_rooms(answers, records)
    assert to_fetch == []  # R4's answer has no participants list, but none are recorded
    plan = make_plan(desired, records, live, prune=True)
    assert plan.changes == ()
    assert plan.counts().unchanged == 7


def test_recorded_ids_keep_their_keys_and_new_keys_avoid_recorded_ones() -> None:
    existing = [
        StackEntry("room", "board", "R1"),
        StackEntry("room", "board-meeting", "R9"),
        StackEntry("participant", "ada", "P1", "board"),
    ]
    exported = export_stack(ROOMS[:2], stack="s", existing=existing)
    assert [r.qualified_key for r in exported.records] == [
        "board",
        "board/ada",
        "board/ada-lovelace",
        "board/zoe-31m",
        "board-meeting-2",
    ]


def test_values_a_stack_file_would_refuse_are_left_out_with_a_warning() -> None:
    rooms = [
        room(
            "R1",
            "Odd",
            "red",
            participants=[
                person("P1", "R1", "X", language="EN\x1b"),
                person("P2", "R1", "Zoë \x1b[31m"),
            ],
        ),
        room("R2", "  "),
        {"name": "no id"},
        room("R1", "duplicate id"),
    ]
    exported = export_stack(rooms, stack=None)
    assert "stack" not in tomllib.loads(exported.text)
    assert exported.warnings == (
        "room R1: color left out: invalid color 'red': "
        "expected a colour such as '#1e90ff' (or '#fff')",
        "participant P1: language left out: invalid language 'EN\\x1b': "
        "expected a two-letter code such as 'fr'",
        "participant P2: username left out: username must not contain control characters "
        "(found \\x1b)",
        "participant P2 left out: it has no usable username",
        "room R2: name left out: name must not be empty",
        "room R2 left out: it has no usable name",
    )
    desired = stackfile.parse_toml(exported.text, "x.toml")
    assert desired.rooms["odd"].fields == {"name": "Odd"}
    assert desired.rooms["odd"].participants["x"].fields == {
        "username": "X",
        "video_and_audio_on": True,
    }


def test_slugs_are_valid_keys() -> None:
    for name in ["Board", "  ", "日本語", "a" * 200, "--x--", "Ünïcödé Room 2"]:
        assert KEY_PATTERN.fullmatch(slug(name, "room")), name
    assert slug("日本語", "room") == "room"
    taken = {"a", "a-2"}
    assert unique_key("a", taken) == "a-3"
    assert "a-3" in taken
    assert KEY_PATTERN.fullmatch(unique_key(slug("a" * 200, "room"), {slug("a" * 200, "room")}))
