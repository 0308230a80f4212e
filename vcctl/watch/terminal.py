"""The terminal the console runs in: raw keys, the alternate screen, and always giving it back.

`Terminal.open()` saves the keyboard's terminal modes and switches to raw keys (no echo, no line
editing, Ctrl-C read as a key), then enters the alternate screen with the cursor hidden and line
wrap off. `close()` undoes all of it, whatever happened: it is called from `finally`, on quit,
on SIGTERM and SIGHUP, on an error, and before a Ctrl-Z suspends the process (`open()` again
after it continues). Output processing (OPOST) is left on, so that a line written by something
else still starts at the left margin.

Frames are drawn by line: only the lines that differ from the last frame are written, each
at its own position, in one write.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import termios
from collections.abc import Mapping, Sequence
from typing import Any

# Alternate screen (saves the shell's screen, restored on leaving), cursor hidden, no autowrap
# (a full-width last line must not scroll), cursor home and clear to the end.
ENTER = "\x1b[?1049h\x1b[?25l\x1b[?7l\x1b[H\x1b[J"
LEAVE = "\x1b[0m\x1b[?7h\x1b[?25h\x1b[?1049l"
DEFAULT_SIZE = (80, 24)


class TerminalGone(Exception):
    """Writing to or reading from the terminal failed as a hung-up terminal does (EIO)."""


def raw_modes(saved: list[Any]) -> list[Any]:
    """`saved` (tcgetattr) with raw keys: every byte at once, unechoed, no signals from keys,
    no flow control (Ctrl-S would freeze the view); output processing kept."""
    modes = list(saved)
    input_off = termios.BRKINT | termios.ICRNL | termios.INPCK | termios.ISTRIP | termios.IXON
    modes[0] = modes[0] & ~input_off
    modes[2] = (modes[2] & ~(termios.CSIZE | termios.PARENB)) | termios.CS8
    modes[3] = modes[3] & ~(termios.ECHO | termios.ICANON | termios.IEXTEN | termios.ISIG)
    control = list(modes[6])
    control[termios.VMIN] = 1
    control[termios.VTIME] = 0
    modes[6] = control
    return modes


class Terminal:
    """The screen on `out_fd`; raw keys on `in_fd` when given (standard input, a terminal)."""

    def __init__(self, out_fd: int, in_fd: int | None) -> None:
        self.out_fd = out_fd
        self.in_fd = in_fd
        self._saved: list[Any] | None = None
        self._active = False
        self._shown: list[str] = []

    def open(self) -> None:
        if self.in_fd is not None:
            saved: list[Any] = termios.tcgetattr(self.in_fd)
            self._saved = saved
            termios.tcsetattr(self.in_fd, termios.TCSANOW, raw_modes(saved))
        self._active = True
        self._shown = []
        self.write(ENTER)

    def close(self) -> None:
        """Everything as it was; never raises (the terminal may be gone already)."""
        if not self._active:
            return
        self._active = False
        with contextlib.suppress(OSError, TerminalGone):
            self.write(LEAVE)
        if self.in_fd is not None and self._saved is not None:
            # TCSADRAIN: what was typed after the last key read stays for the shell.
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(self.in_fd, termios.TCSADRAIN, self._saved)

    def __enter__(self) -> Terminal:
        try:
            self.open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def size(self, environ: Mapping[str, str]) -> tuple[int, int]:
        """(columns, lines): the terminal's own, else COLUMNS/LINES, else 80 by 24."""
        try:
            columns, lines = os.get_terminal_size(self.out_fd)
        except OSError:
            columns = lines = 0
        if columns <= 0 or lines <= 0:
            columns = _number(environ.get("COLUMNS")) or DEFAULT_SIZE[0]
            lines = _number(environ.get("LINES")) or DEFAULT_SIZE[1]
        return columns, lines

    def show(self, lines: Sequence[str]) -> None:
        """Draw a frame: the lines that changed since the last one (all after `invalidate`)."""
        parts: list[str] = []
        if len(self._shown) != len(lines):
            parts.append("\x1b[H\x1b[J")
            self._shown = [""] * len(lines)
        for number, line in enumerate(lines):
            if self._shown[number] != line:
                parts.append(f"\x1b[{number + 1};1H{line}\x1b[0m")
                self._shown[number] = line
        if parts:
            self.write("".join(parts))

    def invalidate(self) -> None:
        self._shown = []

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        while data:
            try:
                written = os.write(self.out_fd, data)
            except BlockingIOError:
                select.select([], [self.out_fd], [], 1.0)
                continue
            except OSError as error:
                if error.errno in (errno.EIO, errno.ENXIO):
                    raise TerminalGone from error
                raise
            data = data[written:]

    def read(self) -> bytes:
        """What was typed (after select said so); TerminalGone at the end of input."""
        assert self.in_fd is not None
        try:
            data = os.read(self.in_fd, 4096)
        except BlockingIOError:
            return b""
        except OSError as error:
            if error.errno in (errno.EIO, errno.ENXIO):
                raise TerminalGone from error
            raise
        if not data:
            raise TerminalGone
        return data


def _number(text: str | None) -> int:
    try:
        return max(0, int(text or ""))
    except ValueError:
        return 0
