"""Taking a stack's lock: one apply of a stack at a time, whichever records it keeps (a --state
file or the inventory).

An apply that finds the lock taken says so on stderr (on a terminal or not: a CI log must show
why a job hangs) and waits its turn, in a wait a stop signal ends (`vcctl.halt`). A dry run does
not wait: it reads the records as they are (the state file is replaced atomically, the inventory
is transactional) and warns that the plan may change when the other apply finishes, so that a
pull request's plan never hangs behind an apply stopped at its prompt.
"""

from __future__ import annotations

import fcntl
import time

from vcctl.errors import Interrupted
from vcctl.halt import process_halt
from vcctl.output.streams import stderr_line, warn

# How often a waiting apply tries the lock again: a lock freed is taken within this.
POLL_SECONDS = 0.05


def take(lock: int, what: str, *, wait: bool, timeout: float | None = None) -> bool:
    """Lock `lock` (a descriptor) for the apply of `what` ("stack weekly"). True once held;
    False when another process holds it and `wait` is False (a dry run: warned, not held), or
    when `timeout` seconds passed. Raises Interrupted when a stop signal ends the wait."""
    if _try(lock):
        return True
    if not wait:
        warn(
            f"another vcctl apply of {what} is under way (or stopped at its prompt): this plan "
            "reads the records as they are now, and may change when it finishes"
        )
        return False
    if timeout is None:
        stderr_line(f"vcctl: waiting for another vcctl apply of {what} to finish (Ctrl-C to stop)")
    deadline = None if timeout is None else time.monotonic() + timeout
    halt = process_halt()
    while True:
        if deadline is not None and time.monotonic() >= deadline:
            return False
        if halt.wait(POLL_SECONDS):
            raise Interrupted(f"interrupted while waiting for the lock of {what}: nothing was sent")
        if _try(lock):
            return True


def _try(lock: int) -> bool:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
