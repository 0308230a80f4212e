"""The stop token of a run: Ctrl-C, SIGTERM and SIGHUP trip it, and every wait watches it.

How to wait (rate-limit pauses, retry backoff, a key-claim wait, a stack-lock wait): never
`time.sleep(seconds)`, always

    if process_halt().wait(seconds):
        raise NotSent("stopped before sending: the command is ending")  # or what fits

`wait` returns True at once, or as soon as a stop signal arrives, when the run is stopping; False
when the seconds passed. It works in any thread: the main thread and the engine's workers
(`vcctl.workers`) alike. A loop that polls (a lock retried every 50 ms) calls it for each pause
and checks `tripped` before each try. Code that sends checks `tripped` just before sending, so
that nothing leaves after the signal.

How signals reach the main thread (`install_stop_handlers`, called by the entry point): the
handler first trips the process halt (which wakes every wait, in every thread), then raises
`vcctl.errors.Stopped` (a KeyboardInterrupt) in the main thread, as Python does for Ctrl-C, so
that a single request blocked on a socket ends at once. Inside
`held()` it raises nothing: the main thread there is doing work a signal must not cut in two
(reporting a result, writing a record); it raises only in the `interruptible()` waits inside the
held region, and a signal that came while held is raised by the next one. The worker engine
holds the main thread for a whole run and waits interruptibly; a command that reports a
summary after the engine keeps holding until it is written, so that a second signal cannot cut
the report off.

Tripping is safe inside a signal handler: it assigns attributes and writes one byte to a pipe
(no lock a waiter could be holding), and waiters `select` on the pipes of the halt and its
parents.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
import weakref
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from vcctl import errors

# The signals that stop a run, as a shell reports them (exit 128 + number).
STOP_SIGNALS: tuple[int, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Halt:
    """A token tripped once a run must stop. A child (`Halt(parent)`) is tripped by its own
    `trip()` or by any parent's: a rate limiter closes its own without stopping the run, and
    stops when the run does."""

    def __init__(self, parent: Halt | None = None) -> None:
        self.parent = parent
        self._tripped = False
        self._signum: int | None = None
        self._trips = 0
        self._pipe_lock = threading.Lock()
        self._read_fd: int | None = None
        self._write_fd: int | None = None

    def trip(self, signum: int | None = None) -> None:
        """Stop: every wait on this halt or its children returns now. Safe in a signal handler."""
        if signum is not None and self._signum is None:
            self._signum = signum
        self._trips += 1
        self._tripped = True  # before the pipe is looked at: see `_fds`
        write_fd = self._write_fd
        if write_fd is not None:
            with contextlib.suppress(OSError):  # full (already readable) or closed: awake anyway
                os.write(write_fd, b"!")

    @property
    def tripped(self) -> bool:
        halt: Halt | None = self
        while halt is not None:
            if halt._tripped:
                return True
            halt = halt.parent
        return False

    @property
    def signum(self) -> int | None:
        """The signal that tripped it (or a parent), if a signal did."""
        halt: Halt | None = self
        while halt is not None:
            if halt._signum is not None:
                return halt._signum
            halt = halt.parent
        return None

    @property
    def repeated(self) -> bool:
        """Tripped more than once (a second Ctrl-C): stop waiting even for answers under way."""
        halt: Halt | None = self
        while halt is not None:
            if halt._trips > 1:
                return True
            halt = halt.parent
        return False

    def wait(self, seconds: float) -> bool:
        """Wait up to `seconds`; True as soon as this halt is tripped (at once if it was)."""
        if self.tripped:
            return True
        if seconds <= 0:
            return False
        fds = self._fds()
        if self.tripped:  # tripped before its pipe existed: the flag says so
            return True
        readable, _, _ = select.select(fds, [], [], seconds)
        return bool(readable) or self.tripped

    def _fds(self) -> list[int]:
        """The read ends of the pipes of this halt and its parents, made on first use. A pipe is
        made before the flag is read again, and `trip` sets the flag before it reads the pipe:
        a trip is seen either way."""
        fds = []
        halt: Halt | None = self
        while halt is not None:
            fds.append(halt._pipe())
            halt = halt.parent
        return fds

    def _pipe(self) -> int:
        with self._pipe_lock:
            if self._read_fd is None:
                read_fd, write_fd = os.pipe()
                os.set_blocking(write_fd, False)
                weakref.finalize(self, _close, read_fd, write_fd)
                self._read_fd = read_fd
                self._write_fd = write_fd
            return self._read_fd


def _close(*fds: int) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


_process_halt = Halt()


def process_halt() -> Halt:
    """The halt of the current run, tripped by the stop signals."""
    return _process_halt


def begin_run() -> Halt:
    """A fresh process halt, once per run (an earlier in-process run's stop is not inherited)."""
    global _process_halt, _held, _told
    _process_halt = Halt()
    _held, _told = 0, 0
    return _process_halt


# Main thread only (signal handlers run there): how deep in `held()` it is, whether it is in an
# `interruptible()` wait, and how many of the halt's trips the main thread has been told of
# (raised, or seen by `acknowledge`): a trip beyond those is raised by the next wait.
_held = 0
_interruptible = False
_told = 0


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    global _interruptible
    if _process_halt.signum is None:  # the first signal decides the exit code (128 + it)
        errors.note_stop_signal(signum)  # before the trip: the woken workers' errors take it
    _process_halt.trip(signum)
    if _held and not _interruptible:
        return  # told at the next interruptible() wait
    _interruptible = False  # raised once: the handler of the exception is not cut short
    _raise_owed()


def _owed() -> int | None:
    """The signal the main thread has not been told of yet, if any."""
    halt = _process_halt
    return (halt.signum or signal.SIGINT) if halt._trips > _told else None


def _raise_owed() -> None:
    global _told
    signum = _owed()
    if signum is not None:
        _told = _process_halt._trips
        _raise_for(signum)


def acknowledge() -> None:
    """The main thread has seen the halt tripped (and stops because of it): the signals so far
    need not be raised at it again; a later one will be."""
    global _told
    _told = _process_halt._trips


def _raise_for(signum: int) -> None:
    raise errors.Stopped(signum)  # a KeyboardInterrupt, never a bare one: see Stopped


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def held() -> Iterator[Halt]:
    """In the main thread, a stop signal only trips the halt (see the module docstring); it is
    raised in `interruptible()` waits, or when the outermost held region ends if nothing inside
    was told of it (an `interruptible()` wait or `acknowledge`)."""
    global _held
    if not _in_main_thread():
        yield _process_halt
        return
    _held += 1
    leaving_normally = False
    try:
        yield _process_halt
        leaving_normally = True
    finally:
        _held -= 1
        if _held == 0 and leaving_normally and _told == 0:
            _raise_owed()  # a stop nobody inside looked at; once told, the caller is stopping


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """A wait inside `held()` that a stop signal cuts short (Stopped, a KeyboardInterrupt); one
    that came while held is raised here at once."""
    global _interruptible
    if not _in_main_thread() or not _held:
        yield
        return
    _raise_owed()
    _interruptible = True
    try:
        yield
    finally:
        _interruptible = False


def install_stop_handlers() -> Callable[[], None]:
    """Ctrl-C, SIGTERM and SIGHUP stop the run through the process halt (where nobody set a
    handler of their own); returns what puts the previous handlers back."""
    previous: dict[int, Any] = {}
    if _in_main_thread():
        for signum in STOP_SIGNALS:
            current = signal.getsignal(signum)
            if current in (signal.SIG_DFL, signal.default_int_handler):
                previous[signum] = signal.signal(signum, _on_stop_signal)

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore
