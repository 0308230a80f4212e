"""The --state file: diff-friendly JSON, written through atomically, locked across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vcctl.apply.desired import StackEntry
from vcctl.apply.state import MemoryState, StackState, StateFile, open_state
from vcctl.apply.state_format import StateFileError
from vcctl.errors import BlockedError


def test_a_missing_file_is_a_new_state_and_records_are_written_through(tmp_path: Path) -> None:
    path = tmp_path / "weekly.state.json"
    with open_state(path, "weekly") as state:
        assert state.entries() == []
        assert not path.exists()
        state.remember("room", "board", "R1")
        state.remember("participant", "ada", "P1", "board")
        state.remember("room", "annex", "R2")
        # Already on disk, before the block ends: a crash now loses nothing.
        assert json.loads(path.read_text())["rooms"]["board"]["participants"] == {
            "ada": {"id": "P1"}
        }
    assert path.read_text() == (
        "{\n"
        '  "rooms": {\n'
        '    "annex": {\n'
        '      "id": "R2",\n'
        '      "participants": {}\n'
        "    },\n"
        '    "board": {\n'
        '      "id": "R1",\n'
        '      "participants": {\n'
        '        "ada": {\n'
        '          "id": "P1"\n'
        "        }\n"
        "      }\n"
        "    }\n"
        "  },\n"
        '  "stack": "weekly",\n'
        '  "version": 2\n'
        "}\n"
    )
    with open_state(path, "weekly") as state:
        assert state.entries() == [
            StackEntry("room", "annex", "R2"),
            StackEntry("room", "board", "R1"),
            StackEntry("participant", "ada", "P1", "board"),
        ]
        assert state.lookup("participant", "ada", "board") == StackEntry(
            "participant", "ada", "P1", "board"
        )
        assert state.lookup("participant", "ada", "annex") is None
        assert state.lookup("room", "nope") is None
    assert sorted(os.listdir(tmp_path)) == ["weekly.state.json", "weekly.state.json.lock"]


def test_forgetting_a_room_forgets_its_participants(tmp_path: Path) -> None:
    with open_state(tmp_path / "s.json", "s") as state:
        state.remember("room", "board", "R1")
        state.remember("participant", "ada", "P1", "board")
        state.forget("participant", "nobody", "board")
        state.forget("room", "nothing")
        state.forget("room", "board")
        assert state.entries() == []


def test_a_room_with_a_new_id_drops_the_old_ones_participants(tmp_path: Path) -> None:
    with open_state(tmp_path / "s.json", "s") as state:
        state.remember("room", "board", "R1")
        state.remember("participant", "ada", "P1", "board")
        state.remember("room", "board", "R1")
        assert len(state.entries()) == 2
        state.remember("room", "board", "R7")
        assert state.entries() == [StackEntry("room", "board", "R7")]


def test_unknown_outcomes_are_recorded_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with open_state(path, "s") as state:
        state.mark_unknown("room", "board", since="2024-05-01T10:00:00Z")
    with open_state(path, "s") as state:
        assert state.entries() == [
            StackEntry("room", "board", None, unknown_since="2024-05-01T10:00:00Z")
        ]


def test_a_participant_needs_its_room_recorded(tmp_path: Path) -> None:
    with open_state(tmp_path / "s.json", "s") as state:
        with pytest.raises(ValueError, match="its room board is not recorded"):
            state.remember("participant", "ada", "P1", "board")
        with pytest.raises(ValueError, match="needs its room key"):
            state.lookup("participant", "ada")


def test_a_file_of_another_stack_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with open_state(path, "one") as state:
        state.remember("room", "board", "R1")
    before = path.read_bytes()
    with (
        pytest.raises(StateFileError, match="holds stack 'one', not 'two'"),
        open_state(path, "two"),
    ):
        pass
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"is not valid JSON \(line 1, column 2: .*\); it was left as it is"),
        ("[]", "is not a vcctl state file: expected a JSON object"),
        (
            '{"version": 9, "stack": "s", "rooms": {}}',
            r"version 9 \(this vcctl reads up to version 2\)",
        ),
        ('{"version": 1, "stack": "s", "rooms": []}', "'rooms' is not an object"),
        ('{"version": 1, "stack": "s", "rooms": {"a": {"id": 3}}}', "rooms.a is not a record"),
        (
            '{"version": 1, "stack": "s", "rooms": {"a": {"id": "R", "participants": {"p": 1}}}}',
            "rooms.a.participants.p is not a record",
        ),
    ],
)
def test_an_unusable_file_is_reported_with_its_path(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "s.json"
    path.write_text(content)
    with pytest.raises(StateFileError, match=message) as caught, open_state(path, "s"):
        pass
    assert str(path) in caught.value.message
    assert path.read_text() == content


def test_an_empty_file_is_a_new_state(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("")
    with open_state(path, "s") as state:
        assert state.entries() == []


def test_rewrites_keep_the_files_mode_and_leave_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("")
    path.chmod(0o640)
    with open_state(path, "s") as state:
        state.remember("room", "a", "R1")
        state.remember("room", "b", "R2")
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(os.listdir(tmp_path)) == ["s.json", "s.json.lock"]


def test_a_folder_that_cannot_be_written_is_a_state_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "s.json"
    with pytest.raises(StateFileError, match="cannot lock state file"), open_state(missing, "s"):
        pass


HOLD = """
import sys
from vcctl.apply.state import open_state
with open_state(sys.argv[1], "s") as state:
    state.remember("room", "first", "R1")
    print("locked", flush=True)
    sys.stdin.readline()
"""


def test_the_lock_is_held_while_the_state_is_open(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        # Past the wait, a stack lock held by another run is exit 11 (BlockedError).
        locked = pytest.raises(BlockedError, match=r"is locked by another vcctl apply \(pid ")
        with locked, open_state(path, "s", timeout=0):
            pass
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    with open_state(path, "s", timeout=0) as state:
        assert state.entries() == [StackEntry("room", "first", "R1")]


ADD = """
import sys
from vcctl.apply.state import open_state
for n in range(15):
    with open_state(sys.argv[1], "s") as state:
        state.remember("room", f"{sys.argv[2]}-{n}", f"R{sys.argv[2]}{n}")
"""


def test_processes_sharing_the_file_lose_no_records(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    workers = [subprocess.Popen([sys.executable, "-c", ADD, str(path), name]) for name in "abcd"]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0, 0, 0]
    with open_state(path, "s") as state:
        assert len(state.entries()) == 60


def test_both_stores_satisfy_the_protocol(tmp_path: Path) -> None:
    def use(state: StackState) -> list[StackEntry]:
        state.remember("room", "a", "R1")
        return state.entries()

    assert use(MemoryState("s")) == [StackEntry("room", "a", "R1")]
    with open_state(tmp_path / "s.json", "s") as state:
        assert isinstance(state, StateFile)
        assert use(state) == [StackEntry("room", "a", "R1")]
