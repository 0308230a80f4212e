"""Run by tests/test_stop_signals.py as `python -m tests.stop_in_generated_code HANDLERS SIGNAL`:
vcctl's stop handlers (HANDLERS: `run`, those the entry point installs, or `watch`, those of a
watch) take a signal while Python runs code compiled from a string, as it does when an import
makes a dataclass; the KeyboardInterrupt they raise is caught, and the process exits 0. Under
`python -m`, a bare KeyboardInterrupt that once left such code made the process end by SIGINT.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator

from vcctl import halt
from vcctl.watch import _own_signals


@contextlib.contextmanager
def _run_handlers() -> Iterator[None]:
    halt.begin_run()
    restore = halt.install_stop_handlers()
    try:
        yield
    finally:
        restore()


HANDLERS = {"run": _run_handlers, "watch": _own_signals}
# The signal is handled at the loop's first check: the loop only bounds a handler that never runs.
GENERATED = "kill(getpid(), signum)\nfor _ in range(100_000_000):\n    pass\n"


def main() -> None:
    handlers, name = sys.argv[1:]
    signum = signal.Signals[name]
    with HANDLERS[handlers]():
        try:
            exec(GENERATED, {"kill": os.kill, "getpid": os.getpid, "signum": signum})
        except KeyboardInterrupt:
            sys.exit(0)
    sys.exit("the signal was not raised as a KeyboardInterrupt")


if __name__ == "__main__":
    main()
