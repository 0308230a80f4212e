"""Where text goes: stdout for results, stderr for messages, and whether a terminal gets colour.

stdout is written as UTF-8 bytes whatever the locale says (--json must be byte-clean); stderr is
looked up on every line and never raises. rich is imported only when a console is asked for.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

from vcctl.errors import UsageError, VcctlError
from vcctl.text import printable

if TYPE_CHECKING:
    from rich.console import Console

    from vcctl.output.jq_filter import JqProgram

# -- stdout ---------------------------------------------------------------------------------------


def write_stdout(text: str) -> None:
    """Bytes, UTF-8, whatever the locale says: --json output must be byte-clean."""
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(text)
    else:
        stream.flush()
        buffer.write(text.encode("utf-8"))
    stream.flush()


def write_stdout_bytes(body: bytes) -> None:
    """Bytes exactly as received (a raw answer that is not JSON)."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        buffer.write(body)
        buffer.flush()
    else:
        sys.stdout.write(body.decode("utf-8", errors="replace"))


# --jq: the program every JSON result goes through before it is printed (None: printed as is).
_jq_program: JqProgram | None = None


def filter_json_with(program: JqProgram | None) -> None:
    global _jq_program
    _jq_program = program


def jq_given() -> bool:
    return _jq_program is not None


def print_json(data: Any) -> None:
    """The API's JSON as received, indented by 2 spaces (or what --jq makes of it)."""
    if _jq_program is not None:
        write_stdout(_jq_program.run(data))
        return
    write_stdout(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def print_json_line(data: Any) -> None:
    write_stdout(json_result_line(data))


def json_result_line(data: Any) -> str:
    """One JSON result as JSON Lines output prints it: a compact line, or what --jq makes of it."""
    if _jq_program is not None:
        return _jq_program.run(data)
    return json_line(data) + "\n"


def json_line(data: Any) -> str:
    """The JSON of `data` exactly (a resource as the API sent it): for stdout, where a program
    reads it."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def json_error_line(payload: Any) -> str:
    """An error as one JSON line for stderr, which a person often reads on a terminal: its text
    escaped as every text is (`printable`), so that a message quoting an API's answer cannot
    carry ESC or a bidi override there."""
    return json_line(_escaped(payload))


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable(str(key)): _escaped(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped(item) for item in value]
    return value


# -- terminal and colour --------------------------------------------------------------------------


def use_rich(stream: Any = None) -> bool:
    """Rich output only for a person at a terminal that accepts colour."""
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def is_terminal(stream: Any = None) -> bool:
    """A person at a terminal that can redraw a live view, colour or not (NO_COLOR only takes
    the colour away: rich's Console reads it)."""
    stream = stream or sys.stdout
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def rich_console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


# -- stdin ----------------------------------------------------------------------------------------


class ClosedStdin:
    """Standard input when vcctl was started with it closed (`vcctl ... <&-`): not a terminal
    (so a question is refused as off a terminal), and reading it is a usage error (exit 2)."""

    def isatty(self) -> bool:
        return False

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        raise _closed_stdin()

    def read(self, size: int | None = -1) -> str:
        raise _closed_stdin()

    def readline(self, size: int | None = -1) -> str:
        raise _closed_stdin()

    @property
    def buffer(self) -> Any:
        raise _closed_stdin()


def _closed_stdin() -> UsageError:
    return UsageError(
        "standard input is closed: nothing to read",
        hint="give the input on standard input (a file or a pipe), or use a file name",
    )


# -- stderr ---------------------------------------------------------------------------------------


def print_error(exc: VcctlError, *, json_mode: bool, subject: str | None = None) -> None:
    """One `vcctl: error:` line (plus a hint line), or one JSON line, on stderr."""
    if json_mode:
        # The documented shape; several items add which one failed.
        payload = exc.to_json()
        if subject is not None:
            payload["error"]["item"] = subject
        stderr_line(json.dumps(_escaped(payload), ensure_ascii=False))
        return
    prefix = f"{subject}: " if subject else ""
    stderr_line(printable(f"vcctl: error: {prefix}{exc.message}"))
    if exc.hint:
        stderr_line(printable(f"hint: {exc.hint}"))


def warn(message: str) -> None:
    stderr_line(printable(f"vcctl: warning: {message}"))


def stderr_line(line: str) -> None:
    """One line on stderr, looked up now (a progress bar may have replaced it), never failing."""
    if sys.stderr is None:  # started with stderr closed: errors have nowhere to go
        return
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def debug_line(line: str) -> None:
    """--debug: one line of the HTTP log on stderr."""
    sys.stderr.write(f"[debug] {printable(line)}\n")
    sys.stderr.flush()


def notice_on_terminal(message: str) -> None:
    """A `vcctl:` notice for a person at a terminal (a long retry wait); nothing in scripts."""
    if sys.stderr is not None and sys.stderr.isatty():
        sys.stderr.write(f"vcctl: {printable(message)}\n")
        sys.stderr.flush()
