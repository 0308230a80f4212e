"""`vcctl emulator stop`: stop the emulator `start --detach` started."""

import os
import sys

import typer

from vcctl.cli.examples import examples
from vcctl.emulator import detach
from vcctl.errors import UsageError

app = typer.Typer()


@app.command(
    "stop",
    epilog=examples(
        (
            "Start an emulator in the background for a script, then stop it:",
            'eval "$(vcctl emulator start --detach --port 0)"',
            "vcctl emulator stop",
        ),
    ),
)
def stop() -> None:
    """Stop the emulator 'start --detach' started (VCCTL_EMULATOR_PID, else its pid file)."""
    hint = 'start one with: eval "$(vcctl emulator start --detach --port 0)"'
    try:
        pid, source = detach.find(os.environ)
        detach.stop(pid)
    except detach.DetachError as exc:
        raise UsageError(str(exc), hint=hint) from None
    detach.remove_pid_file(detach.pid_file(os.environ), pid)
    sys.stderr.write(f"vcctl: emulator {pid} stopped (pid from {source})\n")
