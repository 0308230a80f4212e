"""The real vcctl in a real terminal emulator: a tmux pane of a chosen size, on a tmux server of
its own (`tmux -L <unique name>`), so that tests run in parallel without meeting.

A test types with `keys()` (tmux key names: "Up", "NPage", "C-c") and reads the screen with
`screen()`; it synchronises on what the pane shows (`wait_for`, polling with a deadline), never
on sleeps. The command runs inside a small shell script that notes the terminal's modes
(`stty -g`) before and after, and the exit code, so a test can check that vcctl gave the
terminal back as it found it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

DEADLINE = 20.0  # seconds: only a guard against a hang; screens normally change within 1 s
POLL = 0.02
# What the pane's shell prints before vcctl starts, to find on the screen after it ends.
BEFORE = "before-vcctl"
# Variables that describe the outer terminal: the pane has its own (tmux sets TERM).
OUTER_TERMINAL = ("TERM", "COLUMNS", "LINES", "TMUX", "TMUX_PANE", "NO_COLOR", "COLORTERM")


def tmux_available() -> bool:
    return shutil.which("tmux") is not None


class Pane:
    """One tmux server with one pane running `vcctl ARGS` in a shell script."""

    def __init__(self, tmp_path: Path, env: Mapping[str, str], width: int, height: int) -> None:
        self.folder = tmp_path / f"tmux-{uuid.uuid4().hex[:8]}"
        self.folder.mkdir()
        self.socket = f"vcctl-test-{uuid.uuid4().hex[:12]}"
        self.env = {k: v for k, v in env.items() if k not in OUTER_TERMINAL}
        self.width = width
        self.height = height
        self.started = False

    def tmux(self, *args: str) -> str:
        completed = subprocess.run(
            ["tmux", "-L", self.socket, "-f", os.devnull, *args],
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            check=False,
        )
        if completed.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {completed.stderr}")
        return completed.stdout

    def start(self, args: Sequence[str], *, extra_env: Mapping[str, str] | None = None) -> None:
        """Run `vcctl ARGS` in the pane (with the test's Python, as `python -m vcctl`)."""
        import sys

        env = {**self.env, **(extra_env or {})}
        exports = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())
        command = shlex.join([sys.executable, "-m", "vcctl", *args])
        script = self.folder / "run.sh"
        script.write_text(
            f"{exports}"
            f"cd {shlex.quote(str(self.folder))}\n"
            "stty -g > modes-before\n"
            f"printf '%s\\n' {BEFORE}\n"
            f"{command}\n"
            "code=$?\n"
            "stty -g > modes-after\n"
            "echo $code > exit-code.new && mv exit-code.new exit-code\n"  # last, and whole
            "exec sleep 600\n",  # the pane stays, for the test to read; kill-server ends it
            encoding="utf-8",
        )
        self.tmux(
            "new-session", "-d", "-s", "main", "-x", str(self.width), "-y", str(self.height),
            f"sh {shlex.quote(str(script))}",
        )  # fmt: skip
        self.started = True

    def close(self) -> None:
        """End the server (and the pane's processes with it), and remove its socket file, which
        tmux leaves behind."""
        if self.started:
            subprocess.run(
                ["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False
            )
            self.started = False
        folder = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
        (folder / self.socket).unlink(missing_ok=True)

    # -- reading and typing --------------------------------------------------------------------

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "main")

    def lines(self) -> list[str]:
        return self.screen().split("\n")[: self.height]

    def styled_screen(self) -> str:
        """The screen with its styles as SGR sequences (capture-pane -e)."""
        return self.tmux("capture-pane", "-p", "-e", "-t", "main")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "main", *keys)

    def text(self, text: str) -> None:
        """Type `text` literally (no key names)."""
        self.tmux("send-keys", "-t", "main", "-l", text)

    def resize(self, width: int, height: int) -> None:
        self.tmux("resize-window", "-t", "main", "-x", str(width), "-y", str(height))
        self.width, self.height = width, height

    def flag(self, name: str) -> str:
        """A tmux format variable of the pane (cursor_flag, alternate_on, pane_pid...)."""
        return self.tmux("display-message", "-p", "-t", "main", f"#{{{name}}}").strip()

    def wait_for(self, what: str | Callable[[str], bool], *, deadline: float = DEADLINE) -> str:
        """The screen, once it shows `what` (a text, or a test of the whole screen)."""
        test = what if callable(what) else (lambda screen: what in screen)
        end = time.monotonic() + deadline
        screen = ""
        while time.monotonic() < end:
            screen = self.screen()
            if test(screen):
                return screen
            time.sleep(POLL)  # polling the screen, not waiting for an outcome
        raise AssertionError(f"the pane never showed {what!r}; it shows:\n{screen}")

    def exit_code(self, *, deadline: float = DEADLINE) -> int:
        """vcctl's exit code, once it has ended."""
        path = self.folder / "exit-code"
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if path.exists():
                return int(path.read_text())
            time.sleep(POLL)
        raise AssertionError(f"vcctl did not end; the pane shows:\n{self.screen()}")

    def modes(self) -> tuple[str, str]:
        """The terminal's modes (stty -g) before vcctl started and after it ended."""
        return (
            (self.folder / "modes-before").read_text().strip(),
            (self.folder / "modes-after").read_text().strip(),
        )

    def vcctl_pid(self) -> int:
        """The pid of the vcctl process (the shell's only child)."""
        shell = int(self.flag("pane_pid"))
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            children = Path(f"/proc/{shell}/task/{shell}/children")
            found = children.read_text().split() if children.exists() else []
            if found:
                return int(found[0])
            time.sleep(POLL)
        raise AssertionError("no vcctl process in the pane")
