"""Show a plan as a readable diff and a summary line: plain text, or a coloured rich Text.

`+ room board  "Board meeting"`, `~ participant board/ada  language: "fr" → "en"`,
`- room old  "Old room" (id aVZOke, with 2 participants)`, `? room board: an earlier create's
outcome is unknown (since ...)`. Unchanged resources are only counted. A carried-out create's
line ends with the id the API gave it (`+ room board  "Board meeting" → aVZOke`), an action that
did not succeed with what became of it (`(failed)`, `(not sent)`, `(outcome unknown)`).
A field whose live value is not what the last apply set is labelled `(changed outside vcctl)`.
Text that came from the server or a state file is escaped before it can reach a terminal.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from vcctl.apply.desired import RESOURCE_OF
from vcctl.apply.plan import Action, Counts, Plan
from vcctl.text import printable

if TYPE_CHECKING:
    from rich.text import Text

# An update's field whose live value is not what the last apply set on it.
OUTSIDE = "changed outside vcctl"
SIGNS = {"create": "+", "update": "~", "delete": "-", "unchanged": "=", "blocked": "?"}
STYLES = {
    "create": "green",
    "update": "yellow",
    "delete": "red",
    "unchanged": "dim",
    "blocked": "magenta",
}


def value_text(value: Any) -> str:
    """A field's value as JSON would write it ("fr", true, null), escaped for a terminal."""
    return printable(json.dumps(value, ensure_ascii=False))


def action_line(action: Action) -> str:
    """One line of the diff, without a trailing newline."""
    head = f"{SIGNS[action.action]} {action.kind} {printable(action.qualified_key)}"
    if action.action == "blocked":
        if action.since is None:
            return f"{head}: not sent while its room {printable(action.room_key or '')} is blocked"
        return f"{head}: an earlier create's outcome is unknown (since {printable(action.since)})"
    if action.action == "update":
        details = ", ".join(
            f"{printable(name)}: {value_text(old)} → {value_text(new)}"
            + (f" ({OUTSIDE})" if name in action.outside else "")
            for name, (old, new) in action.changes.items()
        )
        return f"{head}  {details}"
    resource = RESOURCE_OF[action.kind]
    label = action.body.get(resource.label_field) if action.action == "create" else None
    if label is None:
        label = resource.label(action.resource)
    line = f"{head}  {value_text(label)}" if label else head
    if action.action == "delete":
        facts = [f"id {printable(action.id or '?')}"]
        participants = (action.resource or {}).get("participants")
        if action.kind == "room" and isinstance(participants, list) and participants:
            count = len(participants)
            facts.append(f"with {count} participant{'s' if count != 1 else ''}")
        line += f" ({', '.join(facts)})"
    return line


def outcome_line(action: Action, *, id: str | None = None, note: str | None = None) -> str:
    """A planned action's line as a run reports it: a create's new `id` after an arrow (the
    same arrow as an update's old → new: stdout is UTF-8 whatever the locale), then `note` in
    parentheses."""
    line = action_line(action)
    if id is not None:
        line += f" → {printable(id)}"
    return f"{line} ({note})" if note else line


def summary_line(counts: Counts) -> str:
    """`2 created, 1 updated, 1 deleted, 4 unchanged` (plus `, N failed`), or `no changes`."""
    if counts.changed == 0 and counts.failed == 0 and counts.blocked == 0:
        return f"no changes ({counts.unchanged} unchanged)" if counts.unchanged else "no changes"
    line = (
        f"{counts.created} created, {counts.updated} updated, {counts.deleted} deleted, "
        f"{counts.unchanged} unchanged"
    )
    if counts.failed:
        line += f", {counts.failed} failed"
    return f"{line}, {counts.blocked} blocked" if counts.blocked else line


def plain_plan(plan: Plan, *, summary: bool = True) -> str:
    """The diff, one line per change, then (unless told not to) the summary line."""
    lines = [action_line(action) for action in plan.listed]
    if summary:
        lines.append(summary_line(plan.counts()))
    return "".join(line + "\n" for line in lines)


def rich_plan(plan: Plan, *, summary: bool = True) -> Text:
    """The same diff as `plain_plan`, coloured: green +, yellow ~, red -."""
    from rich.text import Text

    text = Text()
    for action in plan.listed:
        text.append(action_line(action) + "\n", style=STYLES[action.action])
    if summary:
        text.append(summary_line(plan.counts()) + "\n", style="bold")
    return text
