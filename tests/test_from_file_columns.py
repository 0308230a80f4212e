"""The `--from-file` columns are written once (vcctl.resources) and shown the same everywhere:
`--help`, the man pages and the README say what the batch reader accepts and the API assumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import Runner, clean_environment, run_in_process, seed_room
from vcctl.docgen import tree as model
from vcctl.emulator.server import Emulator
from vcctl.resources import (
    BOOLEAN_FALSE,
    BOOLEAN_TRUE,
    KEY_COLUMN,
    RESOURCES,
    Noun,
    boolean_spellings,
    from_file_help,
    from_file_markdown,
)

ROOT = Path(__file__).resolve().parent.parent
NOUNS: tuple[Noun, ...] = ("rooms", "participants")


def words(text: str) -> str:
    """Text with its line breaks and box borders gone, so wrapped help compares with the source."""
    return " ".join(text.replace("│", " ").split())


def test_the_readme_holds_the_tables_resources_describes() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tables = from_file_markdown()
    assert tables in readme  # regenerate: print vcctl.resources.from_file_markdown()
    for resource in RESOURCES.values():
        for name in (*resource.field_names, KEY_COLUMN):
            assert f"| `{name}` |" in tables, (resource.noun, name)
    assert "| `name` | yes |" in tables
    assert "| `room_id` | yes, unless `--room` is given |" in tables
    assert "the API uses `#5f5f5f`" in tables
    assert "`--language`, else the API uses `fr`" in tables
    assert "else the API uses `true`" in tables
    assert "participant keys are scoped by room" in tables
    assert "true/false, 1/0 or yes/no (any case)" in tables


@pytest.mark.parametrize("noun", NOUNS)
def test_create_help_and_man_page_show_the_columns(noun: Noun, tmp_path: Path) -> None:
    env = clean_environment(tmp_path) | {"COLUMNS": "80"}
    shown = run_in_process([noun, "create", "--help"], env)
    assert (shown.code, shown.stderr) == (0, ""), shown
    for paragraph in from_file_help(noun).split("\n\n"):
        assert words(paragraph) in words(shown.stdout), paragraph
    for name in (*RESOURCES[noun].field_names, KEY_COLUMN):
        assert f"{name} (" in words(shown.stdout), name

    command = model.load_tree().find((noun, "create"))
    assert command is not None
    assert from_file_help(noun) in command.help
    page = words((ROOT / "man" / f"vcctl-{noun}-create.1").read_text(encoding="utf-8"))
    assert "\\-\\-from\\-file reads a .csv file" in page
    for name in (*RESOURCES[noun].field_names, KEY_COLUMN):
        assert f"{name} (" in page, name


def test_participants_help_names_the_options_that_fill_rows_and_the_booleans(
    tmp_path: Path,
) -> None:
    env = clean_environment(tmp_path) | {"COLUMNS": "80"}
    shown = words(run_in_process(["participants", "create", "--help"], env).stdout)
    assert (
        "--room, --language and --video-and-audio/--no-video-and-audio fill what a row leaves "
        "out; a row's own value wins." in shown
    )
    assert "participant keys are scoped by room" in shown
    assert f"In CSV a boolean is {boolean_spellings()} (any case)" in shown
    assert "true/false, 1/0 or yes/no" in shown
    rooms = words(run_in_process(["rooms", "create", "--help"], env).stdout)
    assert "color (if left out: the API uses #5f5f5f)" in rooms
    assert "boolean" not in rooms  # rooms have none


def test_the_reader_accepts_exactly_the_documented_boolean_spellings(
    vcctl: Runner, tmp_path: Path
) -> None:
    spellings = [*BOOLEAN_TRUE, *BOOLEAN_FALSE]
    cells = [*spellings, *(word.upper() for word in spellings), "maybe", "on"]
    source = tmp_path / "people.csv"
    source.write_text(
        "username,video_and_audio_on\n" + "".join(f"U{i},{cell}\n" for i, cell in enumerate(cells)),
        encoding="utf-8",
    )

    result = vcctl(
        "participants", "create", "--from-file", str(source), "--room", "r1", "--dry-run", "--json"
    )

    assert result.code == 2, result
    sent = {
        row["body"]["username"]: row["body"]["video_and_audio_on"]
        for row in map(json.loads, result.stdout.splitlines())
    }
    expected = [word in BOOLEAN_TRUE for word in spellings] * 2
    assert sent == {f"U{i}": value for i, value in enumerate(expected)}
    errors = [json.loads(line)["error"] for line in result.stderr.splitlines()[:-1]]
    assert [(error["line"], error["message"]) for error in errors] == [
        (len(cells), f"invalid video_and_audio_on 'maybe': expected {boolean_spellings()}"),
        (len(cells) + 1, f"invalid video_and_audio_on 'on': expected {boolean_spellings()}"),
    ]


def test_the_emulator_assumes_the_documented_defaults(
    vcctl: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    """A row that leaves a field out gets what the help says the API uses."""
    (tmp_path / "rooms.csv").write_text("name\nBare\n", encoding="utf-8")
    (tmp_path / "people.csv").write_text("username\nAda\n", encoding="utf-8")
    room = vcctl("rooms", "create", "--from-file", str(tmp_path / "rooms.csv"), "--json")
    host = seed_room(emulator, "Host")
    person = vcctl(
        "participants",
        "create",
        "--from-file",
        str(tmp_path / "people.csv"),
        "--room",
        host["id"],
        "--json",
    )

    assert (room.code, person.code) == (0, 0), (room, person)
    answers: dict[Noun, str] = {"rooms": room.stdout, "participants": person.stdout}
    for noun, answer in answers.items():
        created = json.loads(answer)
        defaults = {
            field.name: field.default_on_create
            for field in RESOURCES[noun].fields
            if field.default_on_create is not None
        }
        assert defaults, noun
        assert {name: created[name] for name in defaults} == defaults
