"""Taking a stack's lock: one apply of a stack at a time, whichever records it keeps (a --state
file, the local inventory, or a shared PostgreSQL one, on any machine).

An apply that finds the lock taken says so on stderr, naming the holder (host, pid, since), on a
terminal or not (a CI log must show why a job hangs), and waits its turn up to `--lock-timeout`,
in a wait a stop signal ends (`vcctl.halt`); past it, it exits 11 with nothing sent. A dry run
does not wait: it reads the records as they are (the state file is replaced atomically, the
inventory is transactional) and warns that the plan may change when the other apply finishes,
so that a pull request's plan never hangs behind an apply stopped at its prompt.
"""

from __future__ import annotations

import time

from vcctl.errors import BlockedError, Interrupted
from vcctl.halt import process_halt
from vcctl.inventory.locks import Holder, Lock
from vcctl.output.streams import stderr_line, warn

# How long a waiter gives a holder that just took the lock to say who it is, before the message.
NAMING_GRACE = 1.0
DEFAULT_TIMEOUT = 300.0
DEFAULT_TIMEOUT_TEXT = "5m"
TIMEOUT_HINT = "wait for it to finish and run again, or give a longer --lock-timeout"


def take(
    lock: Lock,
    what: str,
    *,
    wait: bool,
    timeout: float | None = DEFAULT_TIMEOUT,
    timeout_text: str | None = None,
) -> bool:
    """Take `lock` for the apply of `what` ("stack weekly"). True once held; False when another
    process holds it and `wait` is False (a dry run: warned, not held). Waits up to `timeout`
    seconds (None: as long as it takes), then raises BlockedError (exit 11; `timeout_text`, as
    the user wrote it, names it). Raises Interrupted when a stop signal ends the wait."""
    if lock.try_take():
        return True
    if not wait:
        warn(
            f"another vcctl apply of {what} is under way ({_who(lock.holder())}, or stopped at "
            "its prompt): this plan reads the records as they are now, and may change when it "
            "finishes"
        )
        return False
    start = time.monotonic()
    deadline = None if timeout is None else start + timeout
    announced = False
    holder: Holder | None = None
    halt = process_halt()
    while True:
        holder = lock.holder() or holder
        if deadline is not None and time.monotonic() >= deadline:
            limit = f" --lock-timeout {timeout_text}" if timeout_text else " the wait"
            raise BlockedError(
                f"{what} is locked by another vcctl apply ({_who(holder)}) past{limit}: "
                "nothing was sent",
                hint=TIMEOUT_HINT,
            )
        if not announced and (holder is not None or time.monotonic() - start >= NAMING_GRACE):
            announced = True
            limit = "" if timeout_text is None else f"up to {timeout_text}, "
            stderr_line(
                f"vcctl: waiting for another vcctl apply of {what} to finish "
                f"({_who(holder)}; {limit}Ctrl-C to stop)"
            )
        pause = lock.poll_seconds
        if deadline is not None:
            pause = max(0.0, min(pause, deadline - time.monotonic()))
        if halt.wait(pause):
            raise Interrupted(f"interrupted while waiting for the lock of {what}: nothing was sent")
        if lock.try_take():
            return True


def _who(holder: Holder | None) -> str:
    return "holder not known yet" if holder is None else holder.describe()
