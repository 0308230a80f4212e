"""The command `vcctl emulator exec` runs: started without a shell, SIGTERM passed on to it,
its exit code (or the shell's 127/126 when it cannot be started) handed back."""

from __future__ import annotations

import signal
import subprocess

from vcctl.errors import UsageError

# What a shell, env(1) or timeout(1) answer when the command cannot be run: `exec` passes
# through the command's exit code, so a command that never ran gets the shell's codes too.
EXIT_COMMAND_NOT_FOUND = 127
EXIT_COMMAND_NOT_EXECUTABLE = 126


def run_command(command: list[str], env: dict[str, str]) -> int:
    """Run CMD and return its exit code (negative: the signal that ended it).

    A SIGTERM sent to vcctl (a cancelled CI job) is passed on to CMD, rather than ending vcctl
    and leaving CMD running against a stopped emulator.
    """
    started: list[subprocess.Popen[bytes]] = []
    terminated = False

    def forward(signum: int, frame: object) -> None:
        nonlocal terminated
        terminated = True
        for child in started:
            child.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        try:
            child = subprocess.Popen(command, env=env)
        except FileNotFoundError:
            raise cannot_run(f"command not found: {command[0]}", EXIT_COMMAND_NOT_FOUND) from None
        except PermissionError:
            raise cannot_run(
                f"command not executable: {command[0]}", EXIT_COMMAND_NOT_EXECUTABLE
            ) from None
        started.append(child)
        if terminated:  # the SIGTERM came while CMD was starting
            child.terminate()
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                # The child got the same Ctrl-C from the terminal; its exit code is the answer.
                continue
    finally:
        signal.signal(signal.SIGTERM, previous)


def cannot_run(message: str, exit_code: int) -> Exception:
    error = UsageError(
        message, hint="CMD runs without a shell: use -- sh -c '...' for pipes or variables"
    )
    error.exit_code = exit_code
    return error
