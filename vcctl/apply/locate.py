"""Best-effort line numbers for the tables and keys of a TOML text, for error messages.

tomllib gives no positions for values it parsed fine, so this scans the text: table headers
(`[rooms.board]`, `[rooms."my room"]`) and `key =` / `dotted.key =` lines, remembering the first
line where each table path appears. Multi-line strings are skipped. It never raises: on text it
does not understand it simply knows fewer lines.
"""

from __future__ import annotations

import re
import tomllib

Path = tuple[str, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_WHITESPACE = re.compile(r"[ \t]*")


def toml_lines(text: str) -> dict[Path, int]:
    """Table path -> 1-based line of its first appearance (header, key or dotted key)."""
    lines: dict[Path, int] = {}
    table: Path = ()
    closing: str | None = None  # the delimiter ending the multi-line string we are inside
    for number, raw in enumerate(text.splitlines(), start=1):
        if closing is not None:
            if closing in raw:
                closing = None
            continue
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            header = _parse_key(line, 2 if line.startswith("[[") else 1)
            if header is not None:
                table = tuple(header[0])
                _note(lines, table, number)
            continue
        parsed = _parse_key(line, 0)
        if parsed is None:
            continue
        keys, end = parsed
        if not line[end:].startswith("="):
            continue
        _note(lines, table + tuple(keys), number)
        closing = _opens_multiline(line[end + 1 :])
    return lines


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of `path`, or of its nearest enclosing table that has one."""
    for length in range(len(path), 0, -1):
        if path[:length] in lines:
            return lines[path[:length]]
    return None


def _note(lines: dict[Path, int], path: Path, number: int) -> None:
    for length in range(1, len(path) + 1):
        lines.setdefault(path[:length], number)


def _opens_multiline(value: str) -> str | None:
    for delimiter in ('"""', "'''"):
        if value.lstrip().startswith(delimiter) and value.count(delimiter) % 2 == 1:
            return delimiter
    return None


def _parse_key(text: str, start: int) -> tuple[list[str], int] | None:
    """A dotted key starting at `start`: its parts and the index just past it (and any blanks)."""
    parts: list[str] = []
    index = start
    while True:
        index = _skip_blanks(text, index)
        if index >= len(text):
            return None
        quote = text[index]
        if quote in "\"'":
            end = _string_end(text, index)
            if end is None:
                return None
            part = _unquote(text[index:end])
            if part is None:
                return None
            parts.append(part)
            index = end
        else:
            match = _BARE_KEY.match(text, index)
            if match is None:
                return None
            parts.append(match.group())
            index = match.end()
        index = _skip_blanks(text, index)
        if index < len(text) and text[index] == ".":
            index += 1
            continue
        return parts, index


def _skip_blanks(text: str, index: int) -> int:
    match = _WHITESPACE.match(text, index)
    return match.end() if match else index


def _string_end(text: str, start: int) -> int | None:
    quote = text[start]
    index = start + 1
    while index < len(text):
        if quote == '"' and text[index] == "\\":
            index += 2
            continue
        if text[index] == quote:
            return index + 1
        index += 1
    return None


def _unquote(token: str) -> str | None:
    try:
        value = tomllib.loads(f"k = {token}")["k"]
    except tomllib.TOMLDecodeError:
        return None
    return value if isinstance(value, str) else None
