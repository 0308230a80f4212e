"""`--jq EXPR` on every --json command, through the jq extra; a clear error without it."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import Runner, run_vcctl, seed_participant, seed_room
from vcctl.emulator.server import Emulator


def test_jq_filters_what_json_prints_strings_as_text(vcctl: Runner, emulator: Emulator) -> None:
    room = seed_room(emulator, "Board")
    ada = seed_participant(emulator, room["id"], "Ada")
    seed_participant(emulator, room["id"], "Bob", video_and_audio_on=False)

    name = vcctl("rooms", "get", room["id"], "--jq", ".name")
    assert (name.code, name.stdout, name.stderr) == (0, "Board\n", "")
    count = vcctl("rooms", "get", room["id"], "--jq", ".participants | length")
    assert (count.code, count.stdout) == (0, "2\n")
    speaking = vcctl(
        "participants", "list", "--room", room["id"], "--jq", "select(.video_and_audio_on) | .id"
    )
    assert (speaking.code, speaking.stdout, speaking.stderr) == (0, f"{ada['id']}\n", "")
    listed = vcctl("rooms", "list", "--jq", "[.id, .vcctl.key]")
    assert (listed.code, listed.stdout) == (0, f'["{room["id"]}",null]\n'), listed


def test_a_bad_jq_program_is_refused_before_anything_is_sent(
    vcctl: Runner, emulator: Emulator
) -> None:
    result = vcctl("rooms", "get", "abc123", "--jq", ".[")
    assert result.code == 2, result
    assert result.stdout == ""
    assert result.stderr.startswith("vcctl: error: --jq: jq: error: syntax error"), result
    assert emulator.recorded() == []


def test_without_the_jq_extra_jq_names_it_and_sends_nothing(
    tmp_path: Path, env: dict[str, str], emulator: Emulator
) -> None:
    # The jq package as an environment without the extra sees it: not importable.
    shadow = tmp_path / "no-jq"
    (shadow / "jq").mkdir(parents=True)
    (shadow / "jq" / "__init__.py").write_text("raise ImportError(\"No module named 'jq'\")\n")
    result = run_vcctl(
        ["rooms", "get", "abc123", "--jq", ".name"], env | {"PYTHONPATH": str(shadow)}
    )
    assert result.code == 2, result
    assert result.stdout == ""
    assert result.stderr == (
        "vcctl: error: --jq needs the jq package, which is not installed\n"
        "hint: install the jq extra: pip install 'vcctl[jq]' (or pipe --json into the jq program)\n"
    )
    assert emulator.recorded() == []
    plain = run_vcctl(
        ["rooms", "get", seed_room(emulator)["id"], "--json"], env | {"PYTHONPATH": str(shadow)}
    )
    assert plain.code == 0, plain  # only --jq needs it
