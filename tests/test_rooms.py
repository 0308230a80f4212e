"""`vcctl rooms create|get|update|delete`, end to end against the emulator."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

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
    sent_to,
)
from vcctl.emulator.server import Emulator, Fault

# -- create -----------------------------------------------------------------------------------


def test_create_sends_name_and_color_and_prints_the_api_json(
    vcctl: Runner, emulator: Emulator
) -> None:
    result = vcctl("rooms", "create", "--name", "Démo 🎥", "--color", "#1E90ff", "--json")

    assert result.code == 0, result
    assert result.stderr == ""
    [request] = emulator.recorded()
    # Sent in the API's own spelling of a colour: lower case.
    assert_sent(request, "POST", "/api/v1/rooms", {"name": "Démo 🎥", "color": "#1e90ff"})
    [room] = emulator.state()["rooms"]
    assert result.stdout == pretty(room)


def test_create_quiet_prints_only_the_id(emulator: Emulator, env: dict[str, str]) -> None:
    result = run_in_process(["rooms", "create", "--name", "Quiet", "-q"], env)

    [room] = emulator.state()["rooms"]
    assert (result.code, result.stdout, result.stderr) == (0, room["id"] + "\n", "")
    [request] = emulator.recorded()
    assert_sent(request, "POST", "/api/v1/rooms", {"name": "Quiet"})  # no colour unless given


# -- get --------------------------------------------------------------------------------------


def test_get_shows_the_room_and_its_participants_as_plain_text(
    vcctl: Runner, emulator: Emulator
) -> None:
    room = seed_room(emulator, "Weekly")
    ada = seed_participant(emulator, room["id"], "Ada", language="en")
    bob = seed_participant(emulator, room["id"], "Bob", video_and_audio_on=False)

    result = vcctl("rooms", "get", room["id"])

    assert result.code == 0, result
    assert result.stderr == ""
    [request] = emulator.recorded()
    assert_sent(request, "GET", f"/fr/api/v1/rooms/{room['id']}")
    assert result.stdout == (
        f"id:          {room['id']}\n"
        "name:        Weekly\n"
        "color:       #5f5f5f\n"
        f"created_at:  {room['created_at']}\n"
        "\n"
        "participants: 2\n"
        "ID      USERNAME  LANGUAGE  VIDEO/AUDIO  CREATED\n"
        f"{ada['id']}  Ada       en        on           {ada['created_at']}\n"
        f"{bob['id']}  Bob       fr        off          {bob['created_at']}\n"
    )


def test_get_several_rooms_json_prints_json_lines_in_order(
    emulator: Emulator, env: dict[str, str]
) -> None:
    first = seed_room(emulator, "First")
    second = seed_room(emulator, "Second", color="#000000")
    zoe = seed_participant(emulator, second["id"], "Zoë")

    result = run_in_process(["rooms", "get", second["id"], first["id"], "--json"], env)

    assert (result.code, result.stderr) == (0, "")
    assert result.stdout == json_lines(
        {**second, "participants": [zoe]}, {**first, "participants": []}
    )
    # Sent concurrently (in any order), each exactly once; printed in input order.
    paths = sorted(r.path for r in emulator.recorded())
    assert paths == sorted([f"/fr/api/v1/rooms/{second['id']}", f"/fr/api/v1/rooms/{first['id']}"])


# -- update -----------------------------------------------------------------------------------


def test_update_sends_only_the_fields_given(
    vcctl: Runner, emulator: Emulator, env: dict[str, str]
) -> None:
    room = seed_room(emulator, "Keeps its name", color="#123456")
    path = f"/fr/api/v1/rooms/{room['id']}"

    colour = vcctl("rooms", "update", room["id"], "--color", "#abcdef", "--json")

    [request] = emulator.recorded()
    assert_sent(request, "POST", path, {"color": "#abcdef"})
    [updated] = emulator.state()["rooms"]
    assert updated == {**room, "color": "#abcdef"}
    assert (colour.code, colour.stdout, colour.stderr) == (0, pretty(updated), "")

    name = run_in_process(["rooms", "update", room["id"], "--name", "New"], env)

    assert (name.code, name.stderr) == (0, "")
    assert "name:        New\n" in name.stdout
    assert_sent(emulator.recorded()[-1], "POST", path, {"name": "New"})
    assert emulator.state()["rooms"] == [{**updated, "name": "New"}]


# -- local refusals ---------------------------------------------------------------------------


def test_delete_off_a_terminal_refuses_without_yes(vcctl: Runner, emulator: Emulator) -> None:
    room = seed_room(emulator)

    result = vcctl("rooms", "delete", room["id"], input="y\n")

    assert_refused(result, "refusing to delete without confirmation")
    assert "hint: pass --yes to delete without asking" in result.stderr
    assert emulator.recorded() == []
    assert emulator.state()["rooms"] == [room]


def test_invalid_input_is_refused_before_anything_is_sent(
    emulator: Emulator, env: dict[str, str]
) -> None:
    room = seed_room(emulator)
    cases = [
        ("--name must not be empty", ["rooms", "create", "--name", ""]),
        ("--name must not be empty", ["rooms", "update", room["id"], "--name", "  "]),
        ("invalid --color 'red'", ["rooms", "create", "--name", "x", "--color", "red"]),
        ("invalid --color '#12345'", ["rooms", "update", room["id"], "--color", "#12345"]),
        (
            "invalid --color '#123456\\n'",
            ["rooms", "create", "--name", "x", "--color", "#123456\n"],
        ),
        ("nothing to update", ["rooms", "update", room["id"]]),
        ("missing option --name", ["rooms", "create", "--color", "#123456"]),
        ("ROOM_ID must not be empty", ["rooms", "get", room["id"], ""]),
        ("Missing argument 'ROOM_ID...'", ["rooms", "delete", "--yes"]),
        ("refusing to delete", ["rooms", "delete", room["id"]]),
    ]

    for message, args in cases:
        assert_refused(run_in_process(args, env), message)

    assert emulator.recorded() == []
    assert emulator.state()["rooms"] == [room]


# -- delete -----------------------------------------------------------------------------------


def test_delete_several_goes_on_after_a_failure_and_prints_json_lines(
    vcctl: Runner, emulator: Emulator
) -> None:
    first, second = seed_room(emulator, "One"), seed_room(emulator, "Two")
    seed_participant(emulator, first["id"])

    result = vcctl("rooms", "delete", second["id"], "missing", first["id"], "--yes", "--json")

    # Some deleted, one failed: exit 10, each failure reported on its own line.
    assert result.code == 10, result
    assert result.stdout == json_lines(second, first)
    error = json.loads(result.stderr)
    assert error["error"]["exit_code"] == 6
    assert error["error"]["status"] == 404
    assert error["error"]["item"] == "missing"
    assert result.stderr.count("\n") == 1
    # Sent concurrently (in any order), each exactly once.
    requests = sorted(emulator.recorded(), key=lambda request: request.path)
    room_ids = sorted(f"/fr/api/v1/rooms/{i}" for i in (second["id"], "missing", first["id"]))
    for request, path in zip(requests, room_ids, strict=True):
        assert_sent(request, "DELETE", path)
    assert emulator.state() == {"rooms": [], "participants": []}


def test_when_every_id_fails_the_exit_code_is_the_first_failures_in_input_order(
    vcctl: Runner, emulator: Emulator
) -> None:
    # missing1 answers 404 (exit 6), missing2 401 (exit 4): all failed, with different codes.
    emulator.add_fault(
        Fault("status", status=401, method="GET", path_regex="/rooms/missing2$", times=2)
    )

    first_404 = vcctl("rooms", "get", "missing1", "missing2")
    first_401 = vcctl("rooms", "get", "missing2", "missing1")

    assert first_404.code == 6, first_404
    assert first_401.code == 4, first_401
    assert first_404.stdout == first_401.stdout == ""
    assert first_404.stderr.splitlines()[0].startswith("vcctl: error: missing1: HTTP 404")
    assert first_404.stderr.splitlines()[2].startswith("vcctl: error: missing2: HTTP 401")
    # Each run sent both (concurrently, in any order): the exit code follows the input order.
    assert sorted(r.path for r in emulator.recorded()) == [
        "/fr/api/v1/rooms/missing1",
        "/fr/api/v1/rooms/missing1",
        "/fr/api/v1/rooms/missing2",
        "/fr/api/v1/rooms/missing2",
    ]


def test_delete_on_a_terminal_asks_first(env: dict[str, str], emulator: Emulator) -> None:
    kept = seed_room(emulator, "Kept")
    gone = seed_room(emulator, "Gone")

    with ThreadPoolExecutor(max_workers=2) as pool:
        declined_future = pool.submit(
            run_in_pty, ["rooms", "delete", kept["id"]], env, answers=[("[y/N]", "n")]
        )
        accepted_future = pool.submit(
            run_in_pty, ["rooms", "delete", gone["id"]], env, answers=[("[y/N]", "y")]
        )
        declined, accepted = declined_future.result(), accepted_future.result()

    assert declined.code == 2, declined
    # The question names what goes: the room's name and its participants (one GET first).
    assert f'Delete room {kept["id"]} "Kept" and its 0 participants? [y/N]' in declined.stdout
    assert "vcctl: error: not confirmed; nothing was deleted" in declined.stdout
    [look] = sent_to(emulator, f"/fr/api/v1/rooms/{kept['id']}")
    assert_sent(look, "GET", look.path)
    assert accepted.code == 0, accepted
    assert f"deleted room {gone['id']} (Gone)" in accepted.stdout
    look, request = sent_to(emulator, f"/fr/api/v1/rooms/{gone['id']}")
    assert_sent(look, "GET", look.path)
    assert_sent(request, "DELETE", request.path)
    assert emulator.state()["rooms"] == [kept]


def test_the_delete_question_counts_participants_and_lists_several_rooms(
    env: dict[str, str], emulator: Emulator
) -> None:
    board = seed_room(emulator, "Board")
    for name in ("Ada", "Grace", "Linus"):
        seed_participant(emulator, board["id"], name)
    solo = seed_room(emulator, "Solo")
    seed_participant(emulator, solo["id"], "Ken")

    one = run_in_pty(["rooms", "delete", board["id"]], env, answers=[("[y/N]", "n")])
    several = run_in_pty(
        ["rooms", "delete", board["id"], solo["id"], "gone00"], env, answers=[("[y/N]", "n")]
    )

    assert one.code == 2, one
    assert f'Delete room {board["id"]} "Board" and its 3 participants? [y/N]' in one.stdout
    assert several.code == 2, several
    lines = [line.rstrip() for line in several.stdout.splitlines()]
    start = lines.index("Delete these 3 rooms?")
    assert lines[start + 1 : start + 5] == [
        f'  room {board["id"]} "Board" and its 3 participants',
        f'  room {solo["id"]} "Solo" and its 1 participant',
        "  room gone00 (cannot read it: HTTP 404 Not Found: Room not found)",
        " [y/N]: n",
    ]
    assert [r.method for r in emulator.recorded()] == ["GET"] * 4  # nothing deleted


# -- terminal view ----------------------------------------------------------------------------


def test_get_on_a_terminal_draws_a_panel_and_the_participants_table(
    env: dict[str, str], emulator: Emulator
) -> None:
    room = seed_room(emulator, "Rich [bold]room[/bold]")
    seed_participant(emulator, room["id"], "Ada Lovelace")
    seed_participant(emulator, room["id"], "Bob", video_and_audio_on=False)

    result = run_in_pty(["rooms", "get", room["id"]], env)

    assert result.code == 0, result
    screen = result.stdout
    assert f"Room {room['id']}" in screen
    assert "╭" in screen  # the room's panel
    assert "┏" in screen  # the participants table
    assert "Participants (2)" in screen
    for text in ("Ada Lovelace", "Bob", "USERNAME", "VIDEO/AUDIO"):
        assert text in screen
    assert "Rich [bold]room[/bold]" in screen  # data is never read as markup
    assert "\x1b[" in screen  # colours on a terminal


def test_a_name_that_is_not_utf8_is_refused_locally(vcctl: Runner, emulator: Emulator) -> None:
    # "\udcff" is how Python passes the byte 0xff, which is not UTF-8, in a command-line argument.
    result = vcctl("rooms", "create", "--name", "caf\udcff")
    assert result.code == 2
    assert result.stderr == (
        "vcctl: error: --name is not valid UTF-8 text\nhint: see 'vcctl rooms create --help'\n"
    )
    assert emulator.recorded() == []


def test_global_flags_and_json_are_accepted_on_either_side_of_the_subcommand(
    env: dict[str, str], emulator: Emulator
) -> None:
    room = seed_room(emulator)
    for args in (
        ["--json", "--locale", "en", "rooms", "get", room["id"]],
        ["rooms", "get", room["id"], "--locale", "en", "--json"],
        ["rooms", "get", "--json", room["id"], "--locale=en"],
    ):
        result = run_in_process(args, env)
        assert result.code == 0, (args, result)
        assert json.loads(result.stdout)["id"] == room["id"]
    assert [r.path for r in emulator.recorded()][-3:] == [f"/en/api/v1/rooms/{room['id']}"] * 3
