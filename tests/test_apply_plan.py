"""The planner: what to create, update and delete, in which order, and that it converges."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from typing import Any

import pytest

from vcctl.apply import stackfile
from vcctl.apply.desired import DesiredStack, StackEntry
from vcctl.apply.plan import (
    GONE,
    Action,
    Live,
    Plan,
    live_from_rooms,
    make_plan,
    rooms_to_fetch,
    same_value,
)
from vcctl.apply.render import plain_plan
from vcctl.apply.state import MemoryState, StackState
from vcctl.errors import UsageError

STACK = """\
stack = "weekly"

[rooms.board]
name = "Board meeting"
color = "#1e90ff"

[rooms.board.participants.ada]
username = "Ada"
language = "en"

[rooms.board.participants.bob]
username = "Bob"

[rooms.sales]
name = "Sales"
"""


class FakeApi:
    """The API's rooms and participants in memory, with the emulator's defaults."""

    def __init__(self) -> None:
        self.rooms: dict[str, dict[str, Any]] = {}
        self.participants: dict[str, dict[str, Any]] = {}
        self.ids = (f"id{n}" for n in itertools.count(1))
        self.requests: list[tuple[str, str]] = []

    def create_room(self, body: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(("POST", "rooms"))
        room = {"id": next(self.ids), "color": "#5f5f5f", **body, "created_at": "t"}
        self.rooms[room["id"]] = room
        return dict(room)

    def create_participant(self, body: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(("POST", "participants"))
        assert body["room_id"] in self.rooms
        participant = {
            "id": next(self.ids),
            "video_and_audio_on": True,
            "language": "fr",
            **body,
            "created_at": "t",
        }
        self.participants[participant["id"]] = participant
        return dict(participant)

    def get_room(self, room_id: str) -> Live:
        if room_id not in self.rooms:
            return GONE
        listed = [dict(p) for p in self.participants.values() if p["room_id"] == room_id]
        return {**self.rooms[room_id], "participants": listed}

    def delete_room(self, room_id: str) -> None:
        self.requests.append(("DELETE", "rooms"))
        del self.rooms[room_id]
        for pid in [p["id"] for p in self.participants.values() if p["room_id"] == room_id]:
            del self.participants[pid]

    def live(
        self, desired: DesiredStack, records: list[StackEntry], prune: bool
    ) -> dict[str, Live]:
        ids = [r.id for r in rooms_to_fetch(desired, records, prune=prune) if r.id]
        live, to_fetch = live_from_rooms({i: self.get_room(i) for i in ids}, records)
        assert to_fetch == []
        return live


def plan_for(api: FakeApi, desired: DesiredStack, state: StackState, prune: bool = False) -> Plan:
    records = state.entries()
    return make_plan(desired, records, api.live(desired, records, prune), prune=prune)


def execute(api: FakeApi, plan: Plan, state: StackState) -> None:
    """What the apply command does with a plan, without HTTP."""
    for record in plan.forget:
        state.forget(record.kind, record.key, record.room_key)
    for action in plan.changes:
        if action.kind == "room" and action.action == "create":
            created = api.create_room(action.request_body())
            state.remember("room", action.key, created["id"])
        elif action.kind == "participant" and action.action == "create":
            room = state.lookup("room", action.room_key or "")
            assert room is not None
            assert room.id is not None
            created = api.create_participant(action.request_body(room.id))
            state.remember("participant", action.key, created["id"], action.room_key)
        elif action.action == "update":
            api.requests.append(("POST", f"{action.kind}s/{action.id}"))
            table = api.rooms if action.kind == "room" else api.participants
            assert action.id is not None
            table[action.id].update(action.request_body())
        elif action.kind == "participant":
            api.requests.append(("DELETE", "participants"))
            del api.participants[action.id or ""]
            state.forget("participant", action.key, action.room_key)
        else:
            api.delete_room(action.id or "")
            state.forget("room", action.key)


def parse(text: str) -> DesiredStack:
    return stackfile.parse_toml(text, "stack.toml")


def summary(plan: Plan) -> list[tuple[str, str, str, dict[str, list[Any]]]]:
    return [(a.action, a.kind, a.qualified_key, a.changes) for a in plan.actions]


def test_a_first_plan_creates_rooms_then_participants() -> None:
    plan = make_plan(parse(STACK), [], {})
    assert summary(plan) == [
        ("create", "room", "board", {"name": [None, "Board meeting"], "color": [None, "#1e90ff"]}),
        ("create", "room", "sales", {"name": [None, "Sales"]}),
        (
            "create",
            "participant",
            "board/ada",
            {"username": [None, "Ada"], "language": [None, "en"]},
        ),
        ("create", "participant", "board/bob", {"username": [None, "Bob"]}),
    ]
    assert plan.actions[2].body == {"username": "Ada", "language": "en"}
    assert plan.actions[2].request_body("R1") == {
        "room_id": "R1",
        "username": "Ada",
        "language": "en",
    }
    with pytest.raises(ValueError, match="its room has no id yet"):
        plan.actions[2].request_body()
    assert [[a.qualified_key for a in phase] for phase in plan.phases()] == [
        ["board", "sales"],
        ["board/ada", "board/bob"],
    ]


def converged(text: str) -> tuple[FakeApi, MemoryState, DesiredStack]:
    api, state, desired = FakeApi(), MemoryState("weekly"), parse(text)
    execute(api, plan_for(api, desired, state), state)
    return api, state, desired


def test_a_second_plan_is_all_unchanged_and_only_reads() -> None:
    api, state, desired = converged(STACK)
    api.requests.clear()
    plan = plan_for(api, desired, state, prune=True)
    assert plan.changes == ()
    assert plan.forget == ()
    assert plan.counts().unchanged == 4
    assert [a.action for a in plan.actions] == ["unchanged"] * 4
    assert plan.actions[0].resource == api.rooms[plan.actions[0].id or ""] | {
        "participants": [api.participants[p] for p in api.participants]
    }
    assert api.requests == []


def test_an_update_sends_only_the_fields_that_differ() -> None:
    api, state, _ = converged(STACK)
    changed = STACK.replace('color = "#1e90ff"', 'color = "#FF0000"').replace(
        'language = "en"', 'language = "de"'
    )
    plan = plan_for(api, parse(changed), state)
    assert [(a.action, a.qualified_key, a.changes, a.body) for a in plan.changes] == [
        # The stack file's '#FF0000' is sent in the API's spelling.
        ("update", "board", {"color": ["#1e90ff", "#ff0000"]}, {"color": "#ff0000"}),
        ("update", "board/ada", {"language": ["en", "de"]}, {"language": "de"}),
    ]
    assert plan.changes[0].id == state.lookup("room", "board").id  # type: ignore[union-attr]


def test_fields_the_file_does_not_give_are_not_managed() -> None:
    api, state, desired = converged(STACK)
    sales = state.lookup("room", "sales")
    assert sales is not None
    api.rooms[sales.id or ""]["color"] = "#000000"
    assert plan_for(api, desired, state).changes == ()


def test_colours_compare_without_case_and_booleans_strictly() -> None:
    assert same_value("room", "color", "#1E90FF", "#1e90ff")
    assert not same_value("room", "color", None, "#1e90ff")
    assert not same_value("participant", "video_and_audio_on", 1, True)
    assert not same_value("participant", "video_and_audio_on", None, False)
    assert same_value("participant", "video_and_audio_on", False, False)
    assert not same_value("participant", "language", "fr", "en")


def test_a_room_deleted_elsewhere_is_recreated_with_all_its_participants() -> None:
    api, state, desired = converged(STACK)
    board = state.lookup("room", "board")
    assert board is not None
    api.delete_room(board.id or "")
    plan = plan_for(api, desired, state)
    assert [(a.action, a.qualified_key) for a in plan.changes] == [
        ("create", "board"),
        ("create", "board/ada"),
        ("create", "board/bob"),
    ]
    assert {r.qualified_key for r in plan.forget} == {"board", "board/ada", "board/bob"}
    execute(api, plan, state)
    assert plan_for(api, desired, state).changes == ()
    assert len(api.rooms) == 2
    assert len(api.participants) == 2


def test_a_participant_deleted_elsewhere_is_recreated_in_its_room() -> None:
    api, state, desired = converged(STACK)
    ada = state.lookup("participant", "ada", "board")
    board = state.lookup("room", "board")
    assert ada is not None
    assert board is not None
    del api.participants[ada.id or ""]
    plan = plan_for(api, desired, state)
    (action,) = plan.changes
    assert (action.action, action.qualified_key, action.room_id) == (
        "create",
        "board/ada",
        board.id,
    )
    assert plan.forget == (ada,)


def test_prune_deletes_dropped_participants_then_dropped_rooms() -> None:
    api, state, _ = converged(STACK)
    smaller = parse(
        STACK.replace('[rooms.board.participants.bob]\nusername = "Bob"\n', "").replace(
            '[rooms.sales]\nname = "Sales"\n', ""
        )
    )
    assert plan_for(api, smaller, state).changes == ()  # without prune nothing goes
    plan = plan_for(api, smaller, state, prune=True)
    assert [(a.action, a.qualified_key) for a in plan.changes] == [
        ("delete", "board/bob"),
        ("delete", "sales"),
    ]
    assert [[a.qualified_key for a in phase] for phase in plan.phases()] == [
        ["board/bob"],
        ["sales"],
    ]
    assert plan.deletes == plan.changes
    assert plan.changes[1].resource is not None
    execute(api, plan, state)
    assert [r.qualified_key for r in state.entries()] == ["board", "board/ada"]
    assert plan_for(api, smaller, state, prune=True).changes == ()


def test_a_pruned_room_has_its_participants_deleted_first() -> None:
    api, state, _ = converged(STACK)
    only_sales = parse('stack = "weekly"\n[rooms.sales]\nname = "Sales"\n')
    plan = plan_for(api, only_sales, state, prune=True)
    assert [(a.action, a.qualified_key) for a in plan.changes] == [
        ("delete", "board/ada"),
        ("delete", "board/bob"),
        ("delete", "board"),
    ]
    assert [[a.kind for a in phase] for phase in plan.phases()] == [
        ["participant", "participant"],
        ["room"],
    ]
    execute(api, plan, state)
    assert api.participants == {}
    assert [r.qualified_key for r in state.entries()] == ["sales"]


def test_prune_forgets_records_whose_resources_are_already_gone() -> None:
    api, state, _ = converged(STACK)
    board = state.lookup("room", "board")
    assert board is not None
    api.delete_room(board.id or "")
    only_sales = parse('stack = "weekly"\n[rooms.sales]\nname = "Sales"\n')
    plan = plan_for(api, only_sales, state, prune=True)
    assert plan.changes == ()
    assert {r.qualified_key for r in plan.forget} == {"board", "board/ada", "board/bob"}


def test_prune_needs_a_stack_name() -> None:
    with pytest.raises(UsageError, match=r"--prune needs a stack name: f\.toml has no top-level"):
        make_plan(stackfile.parse_toml('[rooms.a]\nname = "A"\n', "f.toml"), [], {}, prune=True)


def test_a_create_with_an_unknown_outcome_blocks_its_key() -> None:
    records = [StackEntry("room", "board", None, unknown_since="2024-05-01T10:00:00Z")]
    plan = make_plan(parse(STACK), records, {})
    # The key is refused, and so are its room's participants; nothing else changes for it.
    assert [(a.action, a.kind, a.qualified_key) for a in plan.blocked] == [
        ("blocked", "room", "board"),
        ("blocked", "participant", "board/ada"),
        ("blocked", "participant", "board/bob"),
    ]
    assert plan.blocked[0].since == "2024-05-01T10:00:00Z"
    assert [a.qualified_key for a in plan.changes] == ["sales"]  # the rest goes ahead
    assert plan.forget == ()  # the blocked key stays recorded
    assert plain_plan(plan).splitlines()[:3] == [
        "? room board: an earlier create's outcome is unknown (since 2024-05-01T10:00:00Z)",
        "? participant board/ada: not sent while its room board is blocked",
        "? participant board/bob: not sent while its room board is blocked",
    ]
    assert plain_plan(plan).endswith("1 created, 0 updated, 0 deleted, 0 unchanged, 3 blocked\n")
    plan = make_plan(parse(STACK), records, {}, retry_unknown=True)
    assert plan.changes[0].action == "create"
    assert plan.blocked == ()
    # An undeclared unknown key blocks nothing.
    assert make_plan(parse('[rooms.sales]\nname = "S"\n'), records, {}).blocked == ()


def test_a_key_in_flight_elsewhere_is_planned_as_a_create_and_never_forgotten() -> None:
    # No id and no unknown time: another vcctl's create is in flight; the run's claim waits.
    records = [StackEntry("room", "board", None)]
    plan = make_plan(parse(STACK), records, {})
    assert [a.action for a in plan.changes][:1] == ["create"]
    assert plan.forget == ()


def test_a_recorded_id_without_an_answer_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="no API answer given for room board"):
        make_plan(parse(STACK), [StackEntry("room", "board", "R1")], {})


def test_rooms_to_fetch_are_the_declared_ones_unless_pruning() -> None:
    records = [StackEntry("room", "board", "R1"), StackEntry("room", "old", "R2")]
    desired = parse(STACK)
    assert rooms_to_fetch(desired, records, prune=False) == records[:1]
    assert rooms_to_fetch(desired, records, prune=True) == records


def test_live_from_rooms_spreads_answers_over_participants() -> None:
    records = [
        StackEntry("room", "a", "R1"),
        StackEntry("room", "b", "R2"),
        StackEntry("room", "c", "R3"),
        StackEntry("participant", "x", "P1", "a"),
        StackEntry("participant", "y", "P2", "a"),
        StackEntry("participant", "z", "P3", "b"),
        StackEntry("participant", "w", "P4", "c"),
    ]
    p1 = {"id": "P1", "room_id": "R1", "username": "X"}
    answers: dict[str, Live] = {
        "R1": {"id": "R1", "participants": [p1]},
        "R2": GONE,
        "R3": {"id": "R3"},
    }
    live, to_fetch = live_from_rooms(answers, records)
    assert live == {**answers, "P1": p1, "P2": GONE, "P3": GONE}
    assert to_fetch == [records[6]]


def test_actions_have_the_json_lines_shape() -> None:
    action = Action(
        "update",
        "participant",
        "ada",
        "board",
        "P1",
        {"language": ["fr", "en"]},
        {"language": "en"},
        {"id": "P1"},
    )
    assert action.to_json() == {
        "action": "update",
        "kind": "participant",
        "key": "board/ada",
        "id": "P1",
        "changes": {"language": ["fr", "en"]},
        "resource": {"id": "P1"},
    }
    done = replace(action, resource={"id": "P1", "language": "en"})
    assert done.to_json()["resource"] == {"id": "P1", "language": "en"}


# -- convergence, over many random stacks and random drift -----------------------------------

ROOM_KEYS = ["board", "sales", "open-house", "ops"]
PEOPLE = ["ada", "bob", "cy", "dee", "eve"]


def random_stack(rng: random.Random) -> str:
    lines = ['stack = "weekly"']
    for room in rng.sample(ROOM_KEYS, rng.randint(0, len(ROOM_KEYS))):
        lines += [f"[rooms.{room}]", f'name = "{room.title()} {rng.randint(1, 3)}"']
        if rng.random() < 0.5:
            lines.append(f'color = "#{rng.choice(["1e90ff", "1E90FF", "ff0000", "5f5f5f"])}"')
        for person in rng.sample(PEOPLE, rng.randint(0, 3)):
            lines += [
                f"[rooms.{room}.participants.{person}]",
                f'username = "{person} {rng.randint(1, 2)}"',
            ]
            if rng.random() < 0.5:
                lines.append(f'language = "{rng.choice(["fr", "en"])}"')
            if rng.random() < 0.5:
                lines.append(f"video_and_audio_on = {rng.choice(['true', 'false'])}")
    return "\n".join(lines) + "\n"


def drift(api: FakeApi, rng: random.Random) -> None:
    """What happens elsewhere between two applies."""
    for room_id in list(api.rooms):
        roll = rng.random()
        if roll < 0.15:
            api.delete_room(room_id)
        elif roll < 0.3:
            api.rooms[room_id]["name"] = "renamed"
    for pid in list(api.participants):
        roll = rng.random()
        if roll < 0.15:
            del api.participants[pid]
        elif roll < 0.3:
            api.participants[pid]["language"] = "de"


def assert_matches(api: FakeApi, desired: DesiredStack, state: StackState) -> None:
    for room_key, room in desired.rooms.items():
        record = state.lookup("room", room_key)
        assert record is not None
        live = api.rooms[record.id or ""]
        assert all(same_value("room", k, live[k], v) for k, v in room.fields.items())
        for key, participant in room.participants.items():
            precord = state.lookup("participant", key, room_key)
            assert precord is not None
            plive = api.participants[precord.id or ""]
            assert plive["room_id"] == record.id
            assert {k: plive[k] for k in participant.fields} == participant.fields


@pytest.mark.parametrize("seed", range(60))
def test_executing_a_plan_then_planning_again_finds_nothing_to_do(seed: int) -> None:
    rng = random.Random(seed)
    api, state = FakeApi(), MemoryState("weekly")
    for _ in range(4):
        desired = parse(random_stack(rng))
        prune = rng.random() < 0.6
        plan = plan_for(api, desired, state, prune=prune)
        execute(api, plan, state)
        again = plan_for(api, desired, state, prune=prune)
        assert again.changes == (), summary(again)
        assert again.counts().unchanged == desired.resource_count
        assert_matches(api, desired, state)
        if prune:
            managed = {r.id for r in state.entries()}
            assert managed == set(api.rooms) | set(api.participants)
        drift(api, rng)
