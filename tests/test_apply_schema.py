"""The stack file described once: `vcctl apply --schema` (a JSON Schema editors use), the STACK
FILE section of `apply --help` and vcctl-apply(1), and the hint of apply's schema errors.

No JSON Schema library is a dependency: `_check` below evaluates the keywords the schema uses
(and refuses any other), which is enough to hold the schema to what the validator accepts.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import clean_environment, run_vcctl
from vcctl.apply import stackfile

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {
    "$schema",
    "$defs",
    "$ref",
    "title",
    "description",
    "type",
    "properties",
    "patternProperties",
    "additionalProperties",
    "required",
    "pattern",
    "minLength",
}
TYPES = {"object": dict, "string": str, "boolean": bool}


def _check(schema: dict[str, Any], node: dict[str, Any], value: Any, path: str) -> list[str]:
    """The problems of `value` under `node`, a part of `schema` (empty when it is valid)."""
    assert set(node) <= KEYWORDS, f"a keyword the test does not know: {set(node) - KEYWORDS}"
    if "$ref" in node:
        target: Any = schema
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return _check(schema, target, value, path)
    wanted = TYPES.get(node.get("type", ""))
    if wanted is not None and (
        not isinstance(value, wanted) or (wanted is not bool and isinstance(value, bool))
    ):
        return [f"{path}: not a {node['type']}"]
    problems: list[str] = []
    if isinstance(value, str):
        if len(value) < node.get("minLength", 0):
            problems.append(f"{path}: too short")
        if "pattern" in node and not re.search(node["pattern"], value):
            problems.append(f"{path}: does not match {node['pattern']}")
    if isinstance(value, dict):
        problems += [f"{path}: no {name}" for name in node.get("required", ()) if name not in value]
        for name, item in value.items():
            child = f"{path}.{name}"
            if name in node.get("properties", {}):
                problems += _check(schema, node["properties"][name], item, child)
                continue
            matched = [p for p in node.get("patternProperties", {}) if re.search(p, name)]
            for pattern in matched:
                problems += _check(schema, node["patternProperties"][pattern], item, child)
            if not matched and node.get("additionalProperties", True) is False:
                problems.append(f"{child}: not allowed")
    return problems


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What `vcctl apply --schema` prints, with no credentials and no config file."""
    result = run_vcctl(["apply", "--schema"], clean_environment(tmp_path_factory.mktemp("s")))
    assert result.code == 0, result
    assert result.stderr == ""
    printed: dict[str, Any] = json.loads(result.stdout)
    return printed


def readme_stack() -> str:
    readme = (ROOT / "README.md").read_text()
    [block] = re.findall(r"```toml\n(# rooms\.toml\n.*?)```", readme, re.DOTALL)
    return str(block)


def test_schema_is_draft_2020_12_and_accepts_the_readme_stack(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    document = tomllib.loads(readme_stack())
    assert _check(schema, schema, document, "") == []
    stackfile.parse_toml(readme_stack(), "README.md")  # and the validator agrees


def test_schema_names_exactly_the_fields_the_validator_knows(schema: dict[str, Any]) -> None:
    assert set(schema["properties"]) == set(stackfile.TOP_LEVEL_FIELDS)
    room, participant = schema["$defs"]["room"], schema["$defs"]["participant"]
    assert set(room["properties"]) == {"name", "color", "participants"}
    assert room["required"] == ["name"]
    assert set(participant["properties"]) == {"username", "language", "video_and_audio_on"}
    assert participant["required"] == ["username"]


GOOD_ROOM = '[rooms.board]\nname = "Board"\n'
REFUSED = [
    ('stack = "weekly"\nowner = "ada"\n', "unknown field owner"),
    ('[rooms.board]\nname = "Board"\ncolour = "#fff"\n', "did you mean 'color'"),
    ('[rooms.board]\nname = "Board"\ncolor = "#12"\n', "expected a colour"),
    ('[rooms.board]\ncolor = "#123"\n', "has no name"),
    ('[rooms.board]\nname = "  "\n', "must not be empty"),
    ('[rooms.board]\nname = "Tab\\there"\n', "control characters"),
    ('[rooms."bad key"]\nname = "Board"\n', "invalid key"),
    ("stack = 5\n" + GOOD_ROOM, "stack must be a string"),
    ('stack = "has space"\n' + GOOD_ROOM, "invalid stack name"),
    ('"$schema" = 1\n' + GOOD_ROOM, "must be a string"),
    (GOOD_ROOM + '[rooms.board.participants.ada]\nusername = "Ada"\nlanguage = "eng"\n', "two"),
    (GOOD_ROOM + '[rooms.board.participants.ada]\nusername = "Ada"\nroom_id = "x"\n', "unknown"),
    (GOOD_ROOM + "[rooms.board.participants.ada]\nvideo_and_audio_on = 'yes'\n", "no username"),
    (GOOD_ROOM + '[rooms.board.participants.ada]\nusername = "A"\nvideo_and_audio_on = 1\n', "or"),
]
ACCEPTED = [
    '#:schema ./stack.schema.json\n"$schema" = "./stack.schema.json"\n' + GOOD_ROOM,
    '[rooms.board]\nname = "Board"\ncolor = "#FFF"\n',
    GOOD_ROOM + '[rooms.board.participants.ada]\nusername = "Ada"\nlanguage = "EN"\n',
    'stack = "w"\n',
]


@pytest.mark.parametrize(("text", "message"), REFUSED)
def test_schema_refuses_what_the_validator_refuses(
    schema: dict[str, Any], text: str, message: str
) -> None:
    with pytest.raises(stackfile.StackFileError) as caught:
        stackfile.parse_toml(text, "stack.toml")
    assert message in caught.value.message
    assert _check(schema, schema, tomllib.loads(text), "") != [], text


@pytest.mark.parametrize("text", ACCEPTED)
def test_schema_accepts_what_the_validator_accepts(schema: dict[str, Any], text: str) -> None:
    stackfile.parse_toml(text, "stack.toml")
    assert _check(schema, schema, tomllib.loads(text), "") == []


def test_a_schema_error_points_to_the_schema_and_the_help(tmp_path: Path) -> None:
    path = tmp_path / "rooms.toml"
    path.write_text('[rooms.board]\nname = "Board"\ncolour = "#fff"\n')
    result = run_vcctl(["apply", "-f", str(path), "--dry-run"], clean_environment(tmp_path))
    assert result.code == 2, result
    assert result.stdout == ""
    [error, hint] = result.stderr.splitlines()
    assert error.startswith(f"vcctl: error: invalid stack file {path}:3: unknown field"), error
    assert hint == (
        "hint: the fields are listed under STACK FILE in 'vcctl apply --help'; "
        "'vcctl apply --schema' prints them as a JSON Schema for editors"
    )


FIELDS = [
    "stack",
    "[rooms.KEY]",
    "rooms.KEY.name",
    "rooms.KEY.color",
    "[rooms.KEY.participants.KEY]",
    "rooms.KEY.participants.KEY.username",
    "rooms.KEY.participants.KEY.language",
    "rooms.KEY.participants.KEY.video_and_audio_on",
    "$schema",
]


def test_apply_help_and_man_page_list_every_field(tmp_path: Path) -> None:
    env = clean_environment(tmp_path) | {"COLUMNS": "250"}
    shown = run_vcctl(["apply", "--help"], env).stdout
    lines = [line.strip(" │") for line in shown.splitlines()]
    assert "STACK FILE:" in lines
    for field in FIELDS:
        assert any(line.startswith(f"{field}: ") for line in lines), field
    page = (ROOT / "man" / "vcctl-apply.1").read_text()
    section = page.split(".SH STACK FILE\n", 1)[1].split("\n.SH ", 1)[0]
    terms = re.findall(r"^\.TP\n\\fB(.*?)\\fR$", section, re.MULTILINE)
    assert [term.replace("\\-", "-") for term in terms] == FIELDS
