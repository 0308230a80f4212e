"""The stack file reader: every problem found in one run, each with file, table path and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vcctl.apply import stackfile
from vcctl.apply.desired import DesiredParticipant, DesiredRoom, DesiredStack
from vcctl.apply.stackfile import StackFileError
from vcctl.errors import EXIT_USAGE, UsageError

GOOD = """\
stack = "weekly-board"

[rooms.board]
name = "Board meeting"
color = "#1e90ff"

[rooms.board.participants.ada]
username = "Ada Lovelace"
language = "en"
video_and_audio_on = true

[rooms.sales]
name = "Sales"
"""


def problems(text: str, source: str = "stack.toml") -> list[str]:
    with pytest.raises(StackFileError) as caught:
        stackfile.parse_toml(text, source)
    assert caught.value.exit_code == EXIT_USAGE
    return [str(problem) for problem in caught.value.problems]


def test_a_good_file_gives_the_desired_stack_in_file_order() -> None:
    stack = stackfile.parse_toml(GOOD, "stack.toml")
    assert stack.stack == "weekly-board"
    assert list(stack.rooms) == ["board", "sales"]
    assert stack.rooms["board"] == DesiredRoom(
        "board",
        {"name": "Board meeting", "color": "#1e90ff"},
        {
            "ada": DesiredParticipant(
                "ada",
                {"username": "Ada Lovelace", "language": "en", "video_and_audio_on": True},
                line=7,
            )
        },
        line=3,
    )
    assert stack.rooms["sales"].participants == {}
    assert stack.resource_count == 3


def shape(stack: DesiredStack) -> tuple[str | None, dict[str, Any]]:
    return stack.stack, {
        key: (room.fields, {p: part.fields for p, part in room.participants.items()})
        for key, room in stack.rooms.items()
    }


def test_json_of_the_same_shape_reads_the_same(tmp_path: Path) -> None:
    import tomllib

    path = tmp_path / "stack.json"
    path.write_text(json.dumps(tomllib.loads(GOOD)))
    assert shape(stackfile.load(str(path))) == shape(stackfile.parse_toml(GOOD, str(path)))


def test_stdin_is_toml_text_given_by_the_caller() -> None:
    stack = stackfile.load("-", stdin_text=GOOD)
    assert stack.source == "<stdin>"
    assert list(stack.rooms) == ["board", "sales"]


def test_the_stack_name_is_optional() -> None:
    stack = stackfile.parse_toml('[rooms.a]\nname = "A"\n', "f.toml")
    assert stack.stack is None


def test_every_problem_is_reported_at_once_with_lines_and_paths() -> None:
    text = """\
stack = "weekly"

[rooms.board]
name = "Board meeting"
colour = "#1e90ff"

[rooms.board.participants.ada]
username = "Ada"
language = "EN1"
video_and_audio_on = "yes"
room_id = "abc"

[rooms.sales]
color = "#12345"
"""
    assert problems(text) == [
        "stack.toml:5: unknown field rooms.board.colour (did you mean 'color'?)",
        "stack.toml:9: invalid rooms.board.participants.ada.language 'EN1': "
        "expected a two-letter code such as 'fr'",
        "stack.toml:10: rooms.board.participants.ada.video_and_audio_on must be true or false, "
        "not a string",
        "stack.toml:11: unknown field rooms.board.participants.ada.room_id "
        "(known: username, language, video_and_audio_on)",
        "stack.toml:13: rooms.sales has no name: a room needs one",
        "stack.toml:14: invalid rooms.sales.color '#12345': "
        "expected a colour such as '#1e90ff' (or '#fff')",
    ]


def test_the_error_is_a_usage_error_whose_one_line_names_the_file() -> None:
    with pytest.raises(UsageError) as caught:
        stackfile.parse_toml('[rooms.a]\nname = ""\n', "/srv/stack.toml")
    assert caught.value.message == (
        "invalid stack file /srv/stack.toml:2: rooms.a.name must not be empty"
    )
    assert "\n" not in caught.value.message


def test_a_toml_syntax_error_has_line_and_column() -> None:
    assert problems('stack = "x"\n[rooms.a]\nname = "A\n') == [
        "stack.toml:3:10: invalid TOML: Illegal character '\\n'"
    ]


def test_toml_duplicates_are_refused_by_the_parser_with_their_line() -> None:
    text = '[rooms.a]\nname = "A"\nname = "B"\n'
    (message,) = problems(text)
    assert message.startswith("stack.toml:3:")


def test_json_duplicate_keys_are_problems_at_every_level(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(
        '{"stack": "s", "rooms": {"a": {"name": "x"}, "a": {"name": "y", "name": "z"}}}'
    )
    with pytest.raises(StackFileError) as caught:
        stackfile.load(str(path))
    assert [str(p) for p in caught.value.problems] == [
        f"{path}: duplicate key rooms.a",
        f"{path}: duplicate key rooms.a.name",
    ]


def test_a_json_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{\n  "rooms": {,}\n}\n')
    with pytest.raises(StackFileError) as caught:
        stackfile.load(str(path))
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:2:13: invalid JSON: Expecting property name enclosed in double quotes"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[rooms."bad key"]\nname = "A"\n', "stack.toml:1: invalid key 'bad key' in rooms"),
        ('[rooms.""]\nname = "A"\n', "stack.toml:1: invalid key '' in rooms"),
        ('[rooms."a/b"]\nname = "A"\n', "stack.toml:1: invalid key 'a/b' in rooms"),
        ('[rooms."a.b"]\nname = "A"\n', "stack.toml:1: invalid key 'a.b' in rooms"),
        ('[rooms.-a]\nname = "A"\n', "stack.toml:1: invalid key '-a' in rooms"),
        (
            '[rooms.a]\nname = "A"\n[rooms.a.participants."é"]\nusername = "x"\n',
            "stack.toml:3: invalid key 'é' in rooms.a.participants",
        ),
        ('stack = "two words"\n', "stack.toml:1: invalid stack name 'two words'"),
    ],
)
def test_keys_must_be_plain(text: str, expected: str) -> None:
    (message,) = problems(text)
    assert message.startswith(expected)


def test_fields_under_a_bad_key_are_still_checked() -> None:
    found = problems('[rooms."bad key"]\nname = ""\n')
    assert len(found) == 2
    assert found[1] == 'stack.toml:2: rooms."bad key".name must not be empty'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stack = 3\n", "stack.toml:1: stack must be a string, not an integer"),
        ('rooms = "x"\n', "stack.toml:1: rooms must be a table of keyed tables, not a string"),
        ("[[rooms]]\nname = 'A'\n", "stack.toml:1: rooms must be a table of keyed tables"),
        ('[rooms]\nboard = "x"\n', "stack.toml:2: rooms.board must be a table, not a string"),
        ("[rooms.a]\nname = 7\n", "stack.toml:2: rooms.a.name must be a string, not an integer"),
        (
            "[rooms.a]\nname = 'A'\ncolor = 1979-05-27\n",
            "stack.toml:3: rooms.a.color must be a string, not a date or time",
        ),
        (
            "[rooms.a]\nname = 'A'\nparticipants = [1]\n",
            "stack.toml:3: rooms.a.participants must be a table of keyed tables, not an array",
        ),
        (
            "[rooms.a]\nname = 'A'\n[rooms.a.participants.p]\nusername = 'P'\n"
            "video_and_audio_on = 1\n",
            "stack.toml:5: rooms.a.participants.p.video_and_audio_on must be true or false, "
            "not an integer",
        ),
        (
            "[rooms.a]\nname = 'A'\n[rooms.a.participants.p]\nlanguage = 'fr'\n",
            "stack.toml:3: rooms.a.participants.p has no username: a participant needs one",
        ),
        ("stak = 'x'\n", "stack.toml:1: unknown field stak (did you mean 'stack'?)"),
        ("[room.a]\nname = 'A'\n", "stack.toml:1: unknown field room (did you mean 'rooms'?)"),
        (
            "[rooms.a]\nname = 'A'\nparticipant.p.username = 'x'\n",
            "stack.toml:3: unknown field rooms.a.participant (did you mean 'participants'?)",
        ),
        ("[rooms.a]\nname = '   '\n", "stack.toml:2: rooms.a.name must not be empty"),
    ],
)
def test_each_wrong_value_or_type_is_named(text: str, expected: str) -> None:
    (message,) = problems(text)
    assert message.startswith(expected)


def test_lines_are_found_for_dotted_keys_inline_tables_and_quoted_headers() -> None:
    text = """\
# a comment with [rooms.fake]
note = '''
[rooms.inside_a_string]
'''
[rooms]
a.name = "A"
a.colr = "#000000"
b = { name = "" }

[ "rooms" . "c" ]
name = "C"
color = "red"
"""
    assert problems(text) == [
        "stack.toml:2: unknown field note (known: stack, rooms)",
        "stack.toml:7: unknown field rooms.a.colr (did you mean 'color'?)",
        "stack.toml:8: rooms.b.name must not be empty",
        "stack.toml:12: invalid rooms.c.color 'red': "
        "expected a colour such as '#1e90ff' (or '#fff')",
    ]


def test_an_empty_file_declares_nothing() -> None:
    stack = stackfile.parse_toml("", "empty.toml")
    assert stack.stack is None
    assert stack.rooms == {}


def test_files_are_read_as_utf8_and_a_bom_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes("\ufeffstack = 's'\n[rooms.a]\nname = 'Réunion'\n".encode())
    assert stackfile.load(str(path)).rooms["a"].fields == {"name": "Réunion"}
    path.write_bytes(b"stack = 's'\n[rooms.a]\nname = '\xff'\n")
    with pytest.raises(StackFileError) as caught:
        stackfile.load(str(path))
    assert str(caught.value.problems[0]) == f"{path}:3: not valid UTF-8 text"


def test_unreadable_or_unknown_files_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"cannot read .*missing\.toml: No such file"):
        stackfile.load(str(tmp_path / "missing.toml"))
    with pytest.raises(UsageError, match=r"cannot tell the format of .*s\.yaml"):
        stackfile.load(str(tmp_path / "s.yaml"))
    with pytest.raises(ValueError, match="standard input"):
        stackfile.load("-")


def test_json_text_that_is_not_utf8_is_refused_like_on_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"rooms": {"a": {"name": "bad \\udc80"}}}')
    with pytest.raises(StackFileError) as caught:
        stackfile.load(str(path))
    assert str(caught.value.problems[0]) == f"{path}: rooms.a.name is not valid UTF-8 text"


def test_a_json_top_level_that_is_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("[1, 2]")
    with pytest.raises(StackFileError) as caught:
        stackfile.load(str(path))
    assert str(caught.value.problems[0]) == (
        f"{path}: expected a table of rooms at the top, not an array"
    )
