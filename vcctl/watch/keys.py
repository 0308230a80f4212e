"""Keys from a terminal in raw mode: bytes in, key names out.

A key is a printable character ("m", "/", "é") or a name: "up", "down", "pgup", "pgdn", "home",
"end", "tab", "backtab", "enter", "backspace", "esc", "ctrl-c", "ctrl-l", "ctrl-u", "ctrl-z".
Terminals send the arrows and the page keys as escape sequences, in either of the two forms
xterm uses (`ESC [ A` or `ESC O A`, `ESC [ 5 ~`), modifiers included (`ESC [ 1 ; 5 A` is an up
arrow). A lone ESC is the Escape key only once no byte follows it for a moment: the caller asks
`pending()` and calls `flush()` after `ESCAPE_WAIT` seconds without input.
"""

from __future__ import annotations

import codecs

ESCAPE_WAIT = 0.05  # seconds a lone ESC waits for the rest of a sequence

FINAL_KEYS = {"A": "up", "B": "down", "C": "right", "D": "left", "H": "home", "F": "end"}
TILDE_KEYS = {
    "1": "home",
    "7": "home",
    "4": "end",
    "8": "end",
    "5": "pgup",
    "6": "pgdn",
    "3": "delete",
    "2": "insert",
}
CONTROL_KEYS = {
    "\r": "enter",
    "\n": "enter",
    "\t": "tab",
    "\x7f": "backspace",
    "\x08": "backspace",
    "\x03": "ctrl-c",
    "\x0c": "ctrl-l",
    "\x15": "ctrl-u",
    "\x1a": "ctrl-z",
    "\x02": "pgup",  # Ctrl-B and Ctrl-F page, as in less and vi
    "\x06": "pgdn",
}


class KeyDecoder:
    """Turns the bytes read from the terminal into keys, across reads."""

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""

    def feed(self, data: bytes) -> list[str]:
        self._buffer += self._text.decode(data)
        return self._keys(final=False)

    def pending(self) -> bool:
        """An ESC (or a sequence's start) waits for the bytes that may follow it."""
        return bool(self._buffer)

    def flush(self) -> list[str]:
        """No more bytes came: what waits is what it is (a lone ESC is the Escape key)."""
        return self._keys(final=True)

    def _keys(self, *, final: bool) -> list[str]:
        keys: list[str] = []
        text = self._buffer
        index = 0
        while index < len(text):
            character = text[index]
            if character != "\x1b":
                keys.append(CONTROL_KEYS.get(character, character))
                index += 1
                continue
            key, used = _escape_sequence(text, index)
            if used == 0:  # incomplete
                if not final:
                    break
                keys.append("esc")
                index += 1
                continue
            if key is not None:
                keys.append(key)
            index += used
        self._buffer = text[index:]
        return [key for key in keys if key.isprintable() or key in KNOWN_NAMES]


KNOWN_NAMES = frozenset(
    {*FINAL_KEYS.values(), *TILDE_KEYS.values(), *CONTROL_KEYS.values(), "esc", "backtab"}
)


def _escape_sequence(text: str, start: int) -> tuple[str | None, int]:
    """(key or None for one not known, characters used) of the sequence at `start`; 0 used
    when it is not complete yet."""
    if start + 1 >= len(text):
        return None, 0
    kind = text[start + 1]
    if kind == "O":  # SS3: ESC O A (application cursor keys), ESC O H
        if start + 2 >= len(text):
            return None, 0
        return FINAL_KEYS.get(text[start + 2]), 3
    if kind != "[":
        return "esc", 1  # ESC then another key (Alt+key): the Escape key, then that key
    index = start + 2
    while index < len(text) and text[index] in "0123456789;":
        index += 1
    if index >= len(text):
        return None, 0
    final = text[index]
    parameters = text[start + 2 : index].split(";")
    used = index - start + 1
    if final == "~":
        return TILDE_KEYS.get(parameters[0]), used
    if final == "Z":
        return "backtab", used
    return FINAL_KEYS.get(final), used
