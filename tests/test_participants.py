"""`vcctl participants create|get|list|update|delete`, end to end against the emulator."""

from __future__ import annotations

import json

from tests.helpers import (
    Runner,
    assert_refused,
    assert_sent,
    json_lines,
    pretty,
    run_in_process,
    run_in_pty,
    seed_participant,
    seed_room,
)
from vcctl.emulator.server import Emulator


def test_create_sends_every_field_given_and_prints_the_api_json(
    vcctl: Runner, emulator: Emulator, env: dict[str, str]
) -> None:
    room = seed_room(emulator)

    result = vcctl(
        "participants", "create", "--room", room["id"], "--username", "Zoë Ñúñez",
        "--language", "en", "--no-video-and-audio", "--json",
    )  # fmt: skip

    assert (result.code, result.stderr) == (0, "")
    [request] = emulator.recorded()
    assert_sent(
        request,
        "POST",
        "/api/v1/participants",
        {"room_id": room["id"], "username": "Zoë Ñúñez", "language": "en",
         "video_and_audio_on": False},
    )  # fmt: skip
    [participant] = emulator.state()["participants"]
    assert result.stdout == pretty(participant)

    quiet = run_in_process(
        ["participants", "create", "--room", room["id"], "--username", "Bob", "-q"], env
    )

    bob = emulator.state()["participants"][1]
    assert (quiet.code, quiet.stdout, quiet.stderr) == (0, bob["id"] + "\n", "")
    # Only the fields given: the API's defaults apply to the others.
    assert_sent(
        emulator.recorded()[-1], "POST", "/api/v1/participants",
        {"room_id": room["id"], "username": "Bob"},
    )  # fmt: skip
    assert (bob["language"], bob["video_and_audio_on"]) == ("fr", True)


def test_list_shows_the_rooms_participants_from_the_rooms_get(
    vcctl: Runner, emulator: Emulator, env: dict[str, str]
) -> None:
    room = seed_room(emulator)
    ada = seed_participant(emulator, room["id"], "Ada", language="en")
    bob = seed_participant(emulator, room["id"], "Bob", video_and_audio_on=False)
    seed_participant(emulator, seed_room(emulator)["id"], "Elsewhere")

    plain = vcctl("participants", "list", "--room", room["id"])

    assert (plain.code, plain.stderr) == (0, "")
    assert plain.stdout == (
        "ID      USERNAME  LANGUAGE  VIDEO/AUDIO  CREATED\n"
        f"{ada['id']}  Ada       en        on           {ada['created_at']}\n"
        f"{bob['id']}  Bob       fr        off          {bob['created_at']}\n"
    )
    [request] = emulator.recorded()
    assert_sent(request, "GET", f"/fr/api/v1/rooms/{room['id']}")

    as_json = run_in_process(["participants", "list", "--room", room["id"], "--json"], env)

    assert (as_json.code, as_json.stderr) == (0, "")
    # JSON Lines, as every list prints (it was one indented array with --room).
    assert [json.loads(line) for line in as_json.stdout.splitlines()] == [ada, bob]
    assert as_json.stdout == "".join(
        json.dumps(p, ensure_ascii=False, separators=(",", ":")) + "\n" for p in (ada, bob)
    )


def test_list_aligns_wide_characters_by_display_width(vcctl: Runner, emulator: Emulator) -> None:
    room = seed_room(emulator)
    yamada = seed_participant(emulator, room["id"], "山田太郎さん", language="ja")
    ada = seed_participant(emulator, room["id"], "Ada", language="en")

    plain = vcctl("participants", "list", "--room", room["id"])

    # 山田太郎さん is 6 characters but 12 terminal cells: the column is 12 cells wide.
    assert (plain.code, plain.stderr) == (0, "")
    assert plain.stdout == (
        "ID      USERNAME      LANGUAGE  VIDEO/AUDIO  CREATED\n"
        f"{yamada['id']}  山田太郎さん  ja        on           {yamada['created_at']}\n"
        f"{ada['id']}  Ada           en        on           {ada['created_at']}\n"
    )


def test_get_one_or_several(emulator: Emulator, env: dict[str, str]) -> None:
    room = seed_room(emulator)
    ada = seed_participant(emulator, room["id"], "Ada")
    bob = seed_participant(emulator, room["id"], "Bob")

    one = run_in_process(["participants", "get", ada["id"]], env)
    # One at a time, so that the order they are sent in is known.
    several = run_in_process(
        ["participants", "get", bob["id"], ada["id"], "--json", "--concurrency", "1"], env
    )

    assert (one.code, one.stderr) == (0, "")
    assert one.stdout == (
        f"id:                  {ada['id']}\n"
        f"room_id:             {room['id']}\n"
        "username:            Ada\n"
        "video_and_audio_on:  on\n"
        "language:            fr\n"
        f"created_at:          {ada['created_at']}\n"
    )
    assert (several.code, several.stderr) == (0, "")
    assert several.stdout == json_lines(bob, ada)
    paths = [r.path for r in emulator.recorded()]
    assert paths == [f"/fr/api/v1/participants/{p['id']}" for p in (ada, bob, ada)]
    for request in emulator.recorded():
        assert_sent(request, "GET", request.path)


def test_update_sends_only_the_fields_given(emulator: Emulator, env: dict[str, str]) -> None:
    room, other_room = seed_room(emulator), seed_room(emulator)
    ada = seed_participant(emulator, room["id"], "Ada", language="en")
    path = f"/fr/api/v1/participants/{ada['id']}"

    switched_off = run_in_process(
        ["participants", "update", ada["id"], "--no-video-and-audio", "--json"], env
    )

    [request] = emulator.recorded()
    assert_sent(request, "POST", path, {"video_and_audio_on": False})
    [updated] = emulator.state()["participants"]
    assert updated == {**ada, "video_and_audio_on": False}
    assert (switched_off.code, switched_off.stdout, switched_off.stderr) == (0, pretty(updated), "")

    for args, body in (
        (["--username", "Ada L."], {"username": "Ada L."}),
        (["--language", "de", "--video-and-audio"], {"language": "de", "video_and_audio_on": True}),
        (["--room", other_room["id"]], {"room_id": other_room["id"]}),
    ):
        result = run_in_process(["participants", "update", ada["id"], *args], env)
        assert (result.code, result.stderr) == (0, ""), args
        assert_sent(emulator.recorded()[-1], "POST", path, body)
    assert emulator.state()["participants"] == [
        {**ada, "username": "Ada L.", "language": "de", "room_id": other_room["id"]}
    ]


def test_invalid_input_is_refused_before_anything_is_sent(
    emulator: Emulator, env: dict[str, str]
) -> None:
    room = seed_room(emulator)
    ada = seed_participant(emulator, room["id"])
    create = ["participants", "create", "--room", room["id"]]
    cases = {
        "--username must not be empty": [*create, "--username", " "],
        "invalid --language 'F1'": [*create, "--username", "x", "--language", "F1"],
        "invalid --language 'fra'": ["participants", "update", ada["id"], "--language", "fra"],
        "invalid --language 'f'": [*create, "--username", "x", "--language", "f"],
        "missing option --username": create,
        "missing option --room": ["participants", "create", "--username", "x"],
        "--room must not be empty": ["participants", "update", ada["id"], "--room", ""],
        "nothing to update": ["participants", "update", ada["id"]],
        "PARTICIPANT_ID must not be empty": ["participants", "get", ""],
        "list the inventory: drop --room": [
            "participants",
            "list",
            "--room",
            "r",
            "--all-accounts",
        ],
        "refusing to delete": ["participants", "delete", ada["id"]],
    }

    for message, args in cases.items():
        assert_refused(run_in_process(args, env), message)

    assert emulator.recorded() == []
    assert emulator.state()["participants"] == [ada]


def test_delete_several_with_yes(emulator: Emulator, env: dict[str, str]) -> None:
    room = seed_room(emulator)
    ada = seed_participant(emulator, room["id"], "Ada")
    bob = seed_participant(emulator, room["id"], "Bob")

    result = run_in_process(["participants", "delete", bob["id"], ada["id"], "--yes"], env)

    assert (result.code, result.stderr) == (0, "")
    assert result.stdout == (
        f"deleted participant {bob['id']} (Bob)\ndeleted participant {ada['id']} (Ada)\n"
    )
    # Sent concurrently (in any order), each exactly once; printed in input order.
    paths = sorted(f"/fr/api/v1/participants/{p['id']}" for p in (bob, ada))
    assert sorted(r.path for r in emulator.recorded()) == paths
    for request in emulator.recorded():
        assert_sent(request, "DELETE", request.path)
    assert emulator.state() == {"rooms": [room], "participants": []}


def test_delete_on_a_terminal_names_the_participant(
    emulator: Emulator, env: dict[str, str]
) -> None:
    room = seed_room(emulator)
    ada = seed_participant(emulator, room["id"], "Ada")

    result = run_in_pty(["participants", "delete", ada["id"]], env, answers=[("[y/N]", "n")])

    assert result.code == 2, result
    assert f'Delete participant {ada["id"]} "Ada"? [y/N]' in result.stdout
    assert [r.method for r in emulator.recorded()] == ["GET"]
    assert emulator.state()["participants"] == [ada]
