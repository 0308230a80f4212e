"""The plan as a diff: one line per change, a summary line, server text escaped, colours."""

from __future__ import annotations

import sys

from vcctl.apply.plan import Action, Counts, Plan
from vcctl.apply.render import action_line, plain_plan, rich_plan, summary_line

PLAN = Plan(
    "weekly",
    (
        Action("create", "room", "board", body={"name": "Board meeting", "color": "#1e90ff"}),
        Action(
            "update",
            "room",
            "sales",
            id="R2",
            changes={"color": ["#5f5f5f", "#ff0000"], "name": ["S", "Sales"]},
        ),
        Action("unchanged", "room", "ops", id="R3"),
        Action("create", "participant", "ada", "board", body={"username": "Ada"}),
        Action(
            "update",
            "participant",
            "bob",
            "sales",
            "P2",
            changes={"language": ["fr", "en"], "video_and_audio_on": [True, False]},
        ),
        Action("delete", "participant", "cy", "sales", "P3", resource={"username": "Cy"}),
        Action(
            "delete",
            "room",
            "old",
            None,
            "R9",
            resource={"name": "Old room", "participants": [{"id": "P7"}, {"id": "P8"}]},
        ),
    ),
)


def test_the_plain_diff_has_one_line_per_change_and_a_summary() -> None:
    assert plain_plan(PLAN) == (
        '+ room board  "Board meeting"\n'
        '~ room sales  color: "#5f5f5f" → "#ff0000", name: "S" → "Sales"\n'
        '+ participant board/ada  "Ada"\n'
        '~ participant sales/bob  language: "fr" → "en", video_and_audio_on: true → false\n'
        '- participant sales/cy  "Cy" (id P3)\n'
        '- room old  "Old room" (id R9, with 2 participants)\n'
        "2 created, 2 updated, 2 deleted, 1 unchanged\n"
    )
    assert plain_plan(PLAN, summary=False).count("\n") == 6


def test_summary_lines() -> None:
    assert summary_line(Counts()) == "no changes"
    assert summary_line(Counts(unchanged=4)) == "no changes (4 unchanged)"
    assert summary_line(Counts(created=2, updated=1, deleted=1, unchanged=4)) == (
        "2 created, 1 updated, 1 deleted, 4 unchanged"
    )
    assert summary_line(Counts(created=1, unchanged=3, failed=2)) == (
        "1 created, 0 updated, 0 deleted, 3 unchanged, 2 failed"
    )
    assert plain_plan(Plan(None, (Action("unchanged", "room", "a", id="R"),))) == (
        "no changes (1 unchanged)\n"
    )


def test_text_from_the_server_or_a_state_file_is_escaped() -> None:
    hostile = "\x1b]52;c;AAAA\x07\x9b"
    delete = Action(
        "delete", "room", f"k{hostile}", None, f"R{hostile}", resource={"name": hostile}
    )
    update = Action("update", "room", "a", id="R", changes={"name": [hostile, "ok"]})
    for line in (action_line(delete), action_line(update)):
        assert "\x1b" not in line
        assert "\x07" not in line
        assert "\x9b" not in line
    assert action_line(update) == '~ room a  name: "\\u001b]52;c;AAAA\\u0007\\x9b" → "ok"'


def test_a_delete_without_a_name_still_names_key_and_id() -> None:
    assert action_line(Action("delete", "room", "old", None, "R9", resource={})) == (
        "- room old (id R9)"
    )


def test_the_rich_diff_is_the_same_text_coloured_by_sign() -> None:
    text = rich_plan(PLAN)
    assert text.plain == plain_plan(PLAN)
    styles = {
        text.plain[span.start : span.end].split(" ")[0]: str(span.style) for span in text.spans
    }
    assert styles == {"+": "green", "~": "yellow", "-": "red", "2": "bold"}


def test_importing_the_renderer_does_not_import_rich() -> None:
    import subprocess

    code = "import sys, vcctl.apply.render; print('rich' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout == "False\n"
