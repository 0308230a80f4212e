"""A refresh's changes in words, for the console's event log: "Ada Lovelace joined",
"Bob: video/audio off", "renamed Bob → Robert". Many people doing the same thing at once (a
mute-all turns everyone off) make one line, not one each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from vcctl.watch.changes import Change

Tone = Literal["info", "ok", "fail", "joined", "left", "changed"]
GROUP_FROM = 4  # this many people with the same news share one line
NAMES_IN_GROUP = 3


def _shown(value: Any) -> str:
    from vcctl.output.views import cell_text

    return cell_text(value) or "(none)"


def field_news(name: str, old: Any, new: Any) -> str:
    """One field's change in words."""
    if name == "video_and_audio_on":
        return f"video/audio {_shown(new)}"
    if name == "username":
        return f"renamed {_shown(old)} → {_shown(new)}"
    if name == "name":
        return f"room renamed {_shown(old)} → {_shown(new)}"
    if name == "color":
        return f"room colour {_shown(old)} → {_shown(new)}"
    return f"{_shown(name)} {_shown(old)} → {_shown(new)}"


def news_of(change: Change) -> str:
    """What happened to the participant (or the room), without their name."""
    if change.kind in ("joined", "left"):
        return change.kind
    return ", ".join(field_news(name, old, new) for name, (old, new) in change.fields.items())


def change_entries(changes: Sequence[Change]) -> list[tuple[str, Tone]]:
    """(text, tone) per log line, in the changes' order, a group where its first member was."""
    groups: dict[tuple[str, str], list[Change]] = {}
    for change in changes:
        if change.kind != "room_changed":
            groups.setdefault((change.kind, news_of(change)), []).append(change)
    lines: list[tuple[str, Tone]] = []
    done: set[tuple[str, str]] = set()
    for change in changes:
        tone: Tone = "changed"
        if change.kind in ("joined", "left"):
            tone = "joined" if change.kind == "joined" else "left"
        if change.kind == "room_changed":
            lines.append((news_of(change), tone))
            continue
        group_key = (change.kind, news_of(change))
        members = groups[group_key]
        if len(members) < GROUP_FROM:
            lines.append((_one(change), tone))
            continue
        if group_key in done:
            continue
        done.add(group_key)
        names = ", ".join(_name(member) for member in members[:NAMES_IN_GROUP])
        lines.append((f"{len(members)} participants: {group_key[1]} ({names}, …)", tone))
    return lines


def _name(change: Change) -> str:
    from vcctl.output.views import cell_text

    return cell_text(change.subject.get("username")) or cell_text(change.subject.get("id"))


def _one(change: Change) -> str:
    news = news_of(change)
    if change.kind in ("joined", "left"):
        return f"{_name(change)} {news}"
    return f"{_name(change)}: {news}"
