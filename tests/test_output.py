"""What vcctl prints: terminal views vs plain text, NO_COLOR, byte-clean JSON, unicode, hostile
text from the API, and the commands that need no credentials."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.helpers import (
    clean_environment,
    pretty,
    run_concurrently,
    run_in_process,
    run_in_pty,
    seed_participant,
    seed_room,
)
from vcctl import __version__
from vcctl.emulator.server import Emulator, Fault

ESC = "\x1b"
BOX_CHARACTERS = set("╭╮╰╯│┏┓┃━┗┛┡┩└┘─")
UNICODE_NAME = "Zoë 日本語 🎥"
HOSTILE_NAME = f"red{ESC}[31m{ESC}]0;pwned\x07\nnext"
HOSTILE_SHOWN = "red\\x1b[31m\\x1b]0;pwned\\x07\\nnext"


def test_terminal_gets_rich_views_unless_no_color(env: dict[str, str], emulator: Emulator) -> None:
    room = seed_room(emulator, "Colourful", color="#ff0000")
    hostile = seed_participant(emulator, room["id"], HOSTILE_NAME)

    with ThreadPoolExecutor(max_workers=2) as pool:
        rich_future = pool.submit(run_in_pty, ["participants", "get", hostile["id"]], env)
        plain_future = pool.submit(
            run_in_pty, ["rooms", "get", room["id"]], {**env, "NO_COLOR": "1"}
        )
        rich, plain = rich_future.result(), plain_future.result()

    assert rich.code == 0, rich
    assert f"Participant {hostile['id']}" in rich.stdout
    assert ESC in rich.stdout
    assert BOX_CHARACTERS & set(rich.stdout)
    # Text from the API is shown, never obeyed: its control characters come out escaped.
    assert HOSTILE_SHOWN in rich.stdout
    assert f"{ESC}]0;pwned" not in rich.stdout
    assert plain.code == 0, plain
    assert ESC not in plain.stdout
    assert not BOX_CHARACTERS & set(plain.stdout)
    assert "name:        Colourful\r\n" in plain.stdout
    assert "participants: 1\r\n" in plain.stdout


def test_json_and_plain_output_are_utf8_whatever_the_locale(
    env: dict[str, str], emulator: Emulator
) -> None:
    room = seed_room(emulator, UNICODE_NAME)
    hostile = seed_participant(emulator, room["id"], HOSTILE_NAME)
    ascii_terminal = {**env, "PYTHONIOENCODING": "ascii", "LC_ALL": "C"}

    as_json, plain = run_concurrently(
        [
            (["rooms", "get", room["id"], "--json"], ascii_terminal),
            (["participants", "get", hostile["id"]], ascii_terminal),
        ]
    )

    # run_vcctl decodes stdout as strict UTF-8: invalid bytes would fail there.
    assert (as_json.code, as_json.stderr) == (0, "")
    assert as_json.stdout == pretty({**room, "participants": [hostile]})
    assert UNICODE_NAME in as_json.stdout  # not \u-escaped
    assert ESC not in as_json.stdout  # JSON escapes control characters: \u001b
    assert json.loads(as_json.stdout)["participants"][0]["username"] == HOSTILE_NAME
    assert (plain.code, plain.stderr) == (0, "")
    assert f"username:            {HOSTILE_SHOWN}\n" in plain.stdout
    assert ESC not in plain.stdout


def test_text_from_the_api_cannot_drive_the_terminal(
    emulator: Emulator, env: dict[str, str]
) -> None:
    room = seed_room(emulator, HOSTILE_NAME)
    emulator.add_fault(Fault("status", status=400, method="POST", message=f"bad {ESC}[2J name"))

    shown = run_in_process(["rooms", "get", room["id"]], env)
    refused = run_in_process(["rooms", "update", room["id"], "--name", "x"], env)
    refused_json = run_in_process(["rooms", "get", "nope", "--json"], env)

    assert shown.code == 0, shown
    assert f"name:        {HOSTILE_SHOWN}\n" in shown.stdout
    assert ESC not in shown.stdout
    assert refused.code == 3, refused
    assert refused.stderr == "vcctl: error: HTTP 400 Bad Request: bad \\x1b[2J name\n"
    assert json.loads(refused_json.stderr)["error"]["status"] == 404


IMPORT_PROBE = """
import contextlib, io, json, sys
from vcctl.cli import main

report = {}
# A command's module imports what it runs with at its top: `participants create --help` loads
# vcctl.http.api (the paths of the API calls, no HTTP) with the inventory's recorder.
heavy = ("requests", "urllib3", "vcctl.http.client", "vcctl.http.session", "vcctl.emulator.server")
for args in (["--help"], ["rooms", "--help"], ["participants", "create", "--help"], ["--version"],
             ["events"], ["completion", "bash"]):
    if args[0] == "completion":  # the help and version runs are done
        report["imported"] = sorted(m for m in heavy if m in sys.modules)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main.main(args)
        except SystemExit as exit_:
            code = exit_.code
    report[" ".join(args)] = [code, out.getvalue()]
report["imported_by_completion"] = sorted(m for m in heavy if m in sys.modules)
print(json.dumps(report))
"""


def test_help_version_and_completion_need_no_credentials_nor_the_http_stack(tmp_path: Path) -> None:
    environment = clean_environment(tmp_path)  # no credentials, no config file
    environment["COLUMNS"] = "100"

    probe = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert probe.returncode == 0, probe.stderr
    assert probe.stderr == ""
    report: dict[str, Any] = json.loads(probe.stdout)
    assert report.pop("imported") == []
    # The completion script is drawn from the whole tree, so every command module is imported
    # (with what each imports at its top); the HTTP stack itself stays out.
    assert not {"requests", "urllib3", "vcctl.http.client"} & set(
        report.pop("imported_by_completion")
    )
    assert report.pop("--version") == [0, f"vcctl {__version__}\n"]
    completion_code, completion_script = report.pop("completion bash")
    assert completion_code == 0
    assert "complete" in completion_script
    for args, (code, text) in report.items():
        assert code == 0, args
        assert "Usage: vcctl" in text, args
    assert "--username" in report["participants create --help"][1]
    assert "mute-all" in report["events"][1]
    assert report["events"][1].count("Usage: vcctl events") == 1  # printed once
    assert not (tmp_path / "config").exists()
