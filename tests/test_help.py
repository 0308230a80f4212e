"""`--help` teaches at 80 columns: examples, where the global options are, one metavar style,
no type names, nothing cut off; vcctl's own usage errors point at the help like the parser's."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import clean_environment, run_in_process
from vcctl.cli.app import build_tree, full_tree
from vcctl.docgen import tree as model

TYPE_NOISE = ("<str>", "<int", "<float", "<path>", "<text>", "TEXT", "INTEGER", "FLOAT RANGE")


@pytest.fixture(scope="module")
def helps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """`vcctl ... --help` of every command, at 80 columns."""
    env = clean_environment(tmp_path_factory.mktemp("help")) | {"COLUMNS": "80"}
    shown: dict[str, str] = {}
    for command in model.load_tree().root.walk():
        if command.hidden:
            continue
        result = run_in_process([*command.path, "--help"], env)
        assert (result.code, result.stderr) == (0, ""), (command.full_name, result)
        shown[command.full_name] = result.stdout
    assert len(shown) > 25
    return shown


def test_nothing_is_cut_off_or_wider_than_80_columns(helps: dict[str, str]) -> None:
    for name, text in helps.items():
        for line in text.splitlines():
            assert len(line) <= 80, (name, line)
            assert "…" not in line, (name, line)


def test_no_type_names_and_one_metavar_style(helps: dict[str, str]) -> None:
    for name, text in helps.items():
        for noise in TYPE_NOISE:
            assert noise not in text, (name, noise)
        usage = next(line for line in text.splitlines() if "Usage:" in line)
        assert "{" not in usage, (name, usage)
        assert "<" not in usage, (name, usage)
    assert "Usage: vcctl rooms get [OPTIONS] ROOM_ID..." in helps["vcctl rooms get"]
    # ROOM_ID is optional since update --from-file names the rooms in the file.
    assert "Usage: vcctl rooms update [OPTIONS] [ROOM_ID]" in helps["vcctl rooms update"]
    assert "--room  " in helps["vcctl participants create"]
    assert "ROOM_ID" in helps["vcctl participants create"]


def test_every_subcommand_shows_examples_and_where_the_global_options_are(
    helps: dict[str, str],
) -> None:
    for name, text in helps.items():
        if name == "vcctl":
            assert "--base-url" in text
            assert "Examples:" in text
            continue
        assert (
            " Global options (--profile, --base-url, --debug, ...): see 'vcctl --help'." in text
        ), name


def test_example_lines_fit_80_columns_so_they_paste_whole(helps: dict[str, str]) -> None:
    for command in model.load_tree().root.walk():
        for example in command.examples:
            for line in example.lines:
                assert len(line) <= 76, (command.full_name, line)  # shown indented by 3 + border


def test_json_help_says_what_that_command_prints(helps: dict[str, str]) -> None:
    def json_help(name: str) -> str:
        flat = " ".join(line.strip(" │") for line in helps[name].splitlines())
        return " ".join(flat.split("--json", 1)[1].split("--help", 1)[0].split())

    assert "JSON Lines" in json_help("vcctl rooms get")
    assert "JSON Lines" in json_help("vcctl participants delete")
    assert "JSON Lines" in json_help("vcctl rooms create")  # with --from-file
    for one_object in ("vcctl rooms update", "vcctl participants update", "vcctl events mute-all"):
        assert "JSON Lines" not in json_help(one_object), one_object
        assert "object" in json_help(one_object), one_object
    assert "list" in json_help("vcctl participants list")


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["rooms", "create"], "vcctl rooms create"),
        (["--profile", "x", "rooms", "create", "--color", "#fff"], "vcctl rooms create"),
        (["participants", "create", "--username", "Ada"], "vcctl participants create"),
        (["rooms", "update", "abc123"], "vcctl rooms update"),
        (["rooms", "update", "abc123", "--name", " "], "vcctl rooms update"),
    ],
)
def test_vcctls_own_usage_errors_point_at_the_help(
    tmp_path: Path, args: list[str], command: str
) -> None:
    result = run_in_process(args, clean_environment(tmp_path))
    assert result.code == 2, result
    assert result.stdout == ""
    [error, hint] = result.stderr.splitlines()
    assert error.startswith("vcctl: error: "), result
    assert hint == f"hint: see '{command} --help'"


def test_a_refusal_with_its_own_hint_keeps_it(tmp_path: Path) -> None:
    result = run_in_process(["rooms", "delete", "abc123"], clean_environment(tmp_path))
    assert result.stderr.splitlines()[-1] == "hint: pass --yes to delete without asking"


def test_help_paragraphs_are_whole_sentences_at_any_width(tmp_path: Path) -> None:
    # A terminal wider than the source's lines: a paragraph is one line, not broken mid-sentence.
    env = clean_environment(tmp_path) | {"COLUMNS": "250"}
    api = run_in_process(["api", "--help"], env).stdout
    assert "A JSON answer is printed indented" in api, api
    login = run_in_process(["auth", "login", "--help"], env).stdout
    assert "choose the profile and store its base URL and locale." in login, login
    # Every command and option help, as --help gets it: paragraphs without line breaks.
    command = build_tree().load_all()  # each command tidied as it loads
    pending = [command]
    while pending:
        current = pending.pop()
        texts = [
            current.help or "",
            *(getattr(param, "help", None) or "" for param in current.params),
        ]
        for text in texts:
            for paragraph in text.split("\n\n"):
                assert paragraph.startswith("\b") or "\n" not in paragraph, (current, paragraph)
        pending += getattr(current, "commands", {}).values()


def test_json_help_of_auth_commands_says_they_print_local_settings(helps: dict[str, str]) -> None:
    for name in ("vcctl auth status", "vcctl auth list"):
        flat = " ".join(line.strip(" │") for line in helps[name].splitlines())
        assert "as received" not in flat, name
        assert "keys masked" in flat, name


def test_the_from_file_columns_are_shown_once(tmp_path: Path) -> None:
    # The help style sets each help back whole: the generated part must not be added twice.
    env = clean_environment(tmp_path) | {"COLUMNS": "250"}
    for noun in ("rooms", "participants"):
        shown = run_in_process([noun, "create", "--help"], env).stdout
        assert shown.count("--from-file reads a .csv file") == 1, shown


def test_help_is_written_in_whole_sentences_in_the_source() -> None:
    # As typer builds the commands, before the help style joins anything: every paragraph of a
    # command's or a parameter's help is one line (a click \b block keeps its own lines).
    pending = [full_tree()]
    while pending:
        current = pending.pop()
        texts = [
            getattr(current, "own_help", None) or current.help or "",
            *(getattr(param, "help", None) or "" for param in current.params),
        ]
        for text in texts:
            for paragraph in text.split("\n\n"):
                assert paragraph.startswith("\b") or "\n" not in paragraph, (current, paragraph)
        pending += getattr(current, "commands", {}).values()
