"""The console's session: the terminal, the keys, the refresher and the action sender together.

Three threads. The main thread owns the console and the terminal: it waits (select) for a key,
news from the other threads (a byte on a wake-up pipe) or the next marker to expire, then updates
the console and draws what changed. The refresher thread runs the refresh loop
(vcctl.watch.follow), its sleep woken early when an action asks for a room to be looked at
again. The sender thread sends actions (vcctl.watch.actions). A key's action is handed to the
sender before the screen is redrawn, so its request goes out at once.

Ending: q, Ctrl-C (a key in raw mode, or SIGINT) and SIGTERM end the session normally; SIGHUP
(or a terminal that went away) ends it as a hang-up. Every room deleted ends it too. In all of
these, and on an error, the terminal is given back first (vcctl.watch.terminal).
"""

from __future__ import annotations

import dataclasses
import io
import os
import queue
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO, cast

from vcctl.watch.actions import ActionSender, Outcome
from vcctl.watch.console import Console, Quit, Redraw, Refresh, Send, Suspend
from vcctl.watch.follow import Pace, Refresher, Sightings
from vcctl.watch.keys import ESCAPE_WAIT, KeyDecoder
from vcctl.watch.layout import Palette
from vcctl.watch.screen import draw
from vcctl.watch.terminal import Terminal, TerminalGone

if TYPE_CHECKING:
    from vcctl.http.api import Api
    from vcctl.watch.changes import WatchState

SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGWINCH", "SIGTSTP", "SIGCONT")


class HungUp(Exception):
    """The terminal hung up (SIGHUP, or its end of input): not the user ending the watch."""


@dataclass
class Ended:
    """How the session ended: by the user (q, Ctrl-C, SIGTERM) or every room deleted."""

    deleted: bool


class Inbox:
    """Messages to the main thread from the others and from signal handlers, with a pipe that
    wakes its select. `SimpleQueue.put` is safe in a signal handler; the pipe write is
    non-blocking (a full pipe already wakes it)."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        os.set_blocking(self.write_fd, False)
        self.open = True

    def post(self, kind: str, value: Any = None) -> None:
        if not self.open:
            return
        self.queue.put((kind, value))
        with suppress(OSError):  # full (it wakes the loop anyway) or closed
            os.write(self.write_fd, b"!")

    def drain(self) -> list[tuple[str, Any]]:
        try:
            while os.read(self.read_fd, 4096):
                pass
        except OSError:
            pass
        messages = []
        while True:
            try:
                messages.append(self.queue.get_nowait())
            except queue.Empty:
                return messages

    def close(self) -> None:
        self.open = False
        for fd in (self.read_fd, self.write_fd):
            with suppress(OSError):
                os.close(fd)


class LiveOutput:
    """The refresher's news, as copies of the room's state, to the main thread."""

    def __init__(self, inbox: Inbox) -> None:
        self._inbox = inbox

    def _post(self, state: WatchState) -> None:
        self._inbox.post("state", dataclasses.replace(state))

    def started(self, state: WatchState) -> None:
        pass  # the console starts from the first states

    def refreshed(self, state: WatchState, recovered_after: int) -> None:
        self._post(state)

    def failed(self, state: WatchState) -> None:
        self._post(state)

    def deleted(self, state: WatchState) -> None:
        self._post(state)


class LogStream(io.TextIOBase):
    """Standard error while the console is on screen: each line goes to the event log instead
    of through the view (a retry notice, a --debug line, an inventory warning)."""

    def __init__(self, inbox: Inbox) -> None:
        self._inbox = inbox
        self._partial = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            lines = (self._partial + text).split("\n")
            self._partial = lines.pop()
        for line in lines:
            if line:
                self._inbox.post("stderr", line)
        return len(text)

    def isatty(self) -> bool:
        return True

    def flush(self) -> None:
        pass


def palette_for(environ: dict[str, str] | os._Environ[str]) -> Palette:
    colour = not environ.get("NO_COLOR")
    return Palette(colour=colour, truecolor=environ.get("COLORTERM") in ("truecolor", "24bit"))


def run_console(
    states: list[WatchState],
    *,
    refresh_api: Api,
    calls_api: Api,
    sightings: Sightings | None,
    sort: str,
    read_only: bool,
    keys: bool,
    pace: Pace,
) -> Ended:
    """Run the console until it ends; HungUp on a hang-up; a refresher's API error raised."""
    inbox = Inbox()
    poke = threading.Event()

    def sleep(seconds: float) -> float:
        started = time.monotonic()
        poke.wait(seconds)
        poke.clear()
        return time.monotonic() - started

    refresher = Refresher(
        refresh_api,
        states,
        LiveOutput(inbox),
        Pace(sleep=sleep, now=pace.now, rng=pace.rng),
        sightings,
    )
    console = Console(states, sort=sort, read_only=read_only)
    sender = ActionSender(calls_api, lambda outcome: inbox.post("outcome", outcome))
    terminal = Terminal(sys.stdout.fileno(), sys.stdin.fileno() if keys else None)

    def refresh_loop() -> None:
        try:
            refresher.started()
            refresher.run()
        except BaseException as error:  # an API error that ends the watch, or a bug
            inbox.post("error", error)

    try:
        with _signals_posted(inbox), terminal, _stderr_to(inbox):
            threading.Thread(target=refresh_loop, name="watch-refresh", daemon=True).start()
            session = Session(console, terminal, inbox, pace.now, palette_for(os.environ))

            def refresh_soon(room_id: str | None) -> None:
                refresher.refresh_soon(room_id)
                poke.set()

            session.on_refresh = refresh_soon
            session.on_send = sender.submit
            return session.run()
    finally:
        sender.stop()
        refresher.stop()
        poke.set()
        inbox.close()


class Session:
    """The main thread's loop."""

    def __init__(
        self,
        console: Console,
        terminal: Terminal,
        inbox: Inbox,
        now: Callable[[], datetime],
        palette: Palette,
    ) -> None:
        self.console = console
        self.terminal = terminal
        self.inbox = inbox
        self.now = now
        self.palette = palette
        self.decoder = KeyDecoder()
        self.on_refresh: Callable[[str | None], object] = lambda room_id: None
        self.on_send: Callable[[Any], None] = lambda action: None
        self.size = terminal.size(os.environ)

    def run(self) -> Ended:
        while True:
            now = self.now()
            self.console.expire(now)
            self._draw(now)
            if self.console.all_deleted:
                return Ended(deleted=True)
            keys = self._wait(now)
            now = self.now()
            for kind, value in self.inbox.drain():
                if self._news(kind, value, now):
                    return Ended(deleted=False)
            for key in keys:
                for command in self.console.key(key, now):
                    if isinstance(command, Quit):
                        return Ended(deleted=False)
                    self._carry_out(command)

    def _draw(self, now: datetime) -> None:
        width, height = self.size
        frame = draw(self.console, width, height, now, self.palette)
        self.terminal.show(frame.lines)

    def _wait(self, now: datetime) -> list[str]:
        """Keys typed, once something happened (a key, news, or the next expiry)."""
        timeout: float | None = None
        expiry = self.console.next_expiry()
        if expiry is not None:
            timeout = max(0.0, (expiry - now).total_seconds()) + 0.01
        if self.decoder.pending():
            timeout = ESCAPE_WAIT if timeout is None else min(timeout, ESCAPE_WAIT)
        sources = [self.inbox.read_fd]
        if self.terminal.in_fd is not None:
            sources.append(self.terminal.in_fd)
        ready, _, _ = select.select(sources, [], [], timeout)
        if self.terminal.in_fd is not None and self.terminal.in_fd in ready:
            try:
                return self.decoder.feed(self.terminal.read())
            except TerminalGone:
                raise HungUp from None
        if not ready and self.decoder.pending():
            return self.decoder.flush()
        return []

    def _news(self, kind: str, value: Any, now: datetime) -> bool:
        """Handle one message; True when it ends the session normally."""
        if kind == "state":
            self.console.refreshed(value, now)
        elif kind == "outcome":
            assert isinstance(value, Outcome)
            for command in self.console.action_done(value, now):
                self._carry_out(command)
        elif kind == "stderr":
            self.console.note(value, now)
        elif kind == "error":
            raise value
        elif kind == "signal":
            return self._signal(value)
        return False

    def _signal(self, signum: int) -> bool:
        if signum in (signal.SIGINT, signal.SIGTERM):
            return True
        if signum == signal.SIGHUP:
            raise HungUp
        if signum == signal.SIGWINCH:
            self.size = self.terminal.size(os.environ)
            self.terminal.invalidate()
        elif signum == getattr(signal, "SIGTSTP", None):
            self._suspend()
        elif signum == getattr(signal, "SIGCONT", None):
            self.terminal.invalidate()
        return False

    def _carry_out(self, command: object) -> None:
        if isinstance(command, Send):
            self.on_send(command.action)
        elif isinstance(command, Refresh):
            self.on_refresh(command.room_id)
        elif isinstance(command, Redraw):
            self.terminal.invalidate()
        elif isinstance(command, Suspend):
            self._suspend()

    def _suspend(self) -> None:
        """Ctrl-Z: the terminal given back, the process stopped as the shell expects; drawn
        again from scratch when it continues (the size may have changed meanwhile)."""
        self.terminal.close()
        previous = signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        try:
            os.kill(0, signal.SIGTSTP)  # the whole job, as a shell's Ctrl-Z would
        finally:
            signal.signal(signal.SIGTSTP, previous)
            self.terminal.open()
            self.size = self.terminal.size(os.environ)


@contextmanager
def _signals_posted(inbox: Inbox) -> Iterator[None]:
    """While the console runs, these signals become messages to its loop (the previous
    handlers come back after)."""
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: object) -> None:
        inbox.post("signal", signum)

    try:
        for name in SIGNALS:
            signum = getattr(signal, name, None)
            if signum is not None:
                previous[signum] = signal.signal(signum, handler)
    except ValueError:  # not the main thread: leave signals alone
        pass
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextmanager
def _stderr_to(inbox: Inbox) -> Iterator[None]:
    """Lines written to stderr go to the event log while the view covers the terminal (only
    when stderr is that terminal: a file or a pipe keeps getting them)."""
    real = sys.stderr
    if real is None or not real.isatty():
        yield
        return
    sys.stderr = cast(TextIO, LogStream(inbox))
    try:
        yield
    finally:
        sys.stderr = real
