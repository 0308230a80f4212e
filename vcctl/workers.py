"""The worker engine: items run on a bounded pool of threads, handed back in input order (or as
they finish), and stopped by the run's halt (`vcctl.halt`).

Every command that does several things at once goes through it: multi-id calls, `list
--refresh`, apply's fetch and its changes, batches. On a stop signal the engine

- takes no more work: what no worker has started is dropped (`Stop.unstarted`), and a worker
  that picks an item up after the halt does not run it;
- wakes what waits: the rate limiter and every retry wait watch the same halt, so a request
  waiting for its turn gives up unsent (`vcctl.errors.NotSent`) instead of waiting out a pause;
- waits for the requests already sent and hands each one's result back, since it may have done
  something the user must hear about;
- on a second signal, stops waiting: what is still under way is named (`Stop.outcome_unknown`)
  and the threads are left behind (the caller ends the process without joining them).

The main thread does the reporting; it is held (`vcctl.halt.held`) for the whole run, so that a
signal acts only where the engine waits, never in the middle of a report.

`run_in_order` covers the common shape (one result per item, reported in input order as soon
as the oldest is done, with a bounded read-ahead); `Workers` is the engine itself, for callers
that add work as results come in (apply's participants wait for their room).
"""

from __future__ import annotations

import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sized
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from vcctl import halt as halting
from vcctl.halt import Halt

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Finished(Generic[T, R]):
    """One item's result: the work's return value, or the exception it raised."""

    item: T
    value: R | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Stop(Generic[T]):
    """How a run ended short of its input: the signal, what was never started (nothing was sent
    for those), and what was under way when a second signal ended the wait."""

    signum: int | None
    unstarted: list[T] = field(default_factory=list)
    outcome_unknown: list[T] = field(default_factory=list)

    @property
    def abandoned(self) -> bool:
        """Threads are still at work: end the process without joining them."""
        return bool(self.outcome_unknown)


class Halted(Exception):
    """The run's halt was tripped while the main thread waited for the workers."""


def _halted() -> Halted:
    """Halted, for a halt the engine saw tripped (rather than being interrupted by it): the
    signals so far are acknowledged, so that only a later one counts as the second."""
    halting.acknowledge()
    return Halted()


class _NotStarted(Exception):
    """A worker took an item after the halt: it was not run."""


class Workers(Generic[T, R]):
    """`work(item)` on up to `workers` threads. Use it as a context manager from the thread that
    reports (normally the main one): the waits below raise `Halted` when the run is stopping,
    and leaving drops what has not started.
    """

    def __init__(
        self,
        work: Callable[[T], R],
        workers: int,
        *,
        halt: Halt | None = None,
        name: str = "vcctl-work",
    ) -> None:
        self.work = work
        self.halt = halt if halt is not None else halting.process_halt()
        self._executor = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=name)
        self._pending: dict[Future[R], T] = {}
        self._abandon = False

    def __enter__(self) -> Workers[T, R]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- giving work -----------------------------------------------------------------------------

    def submit(self, item: T) -> Future[R]:
        """Queue `item`; raises Halted (and queues nothing) when the run is stopping."""
        if self.halt.tripped:
            raise _halted()
        future = self._executor.submit(self._run, item)
        self._pending[future] = item
        return future

    def _run(self, item: T) -> R:
        if self.halt.tripped:
            raise _NotStarted
        return self.work(item)

    @property
    def under_way(self) -> int:
        return len(self._pending)

    # -- taking results --------------------------------------------------------------------------

    def result(self, future: Future[R]) -> Finished[T, R]:
        """Wait for one item (Halted if the run stops meanwhile), and take its result."""
        if not future.done():
            self._wait([future], return_when="ALL_COMPLETED")
        return self._take(future)

    def next_finished(self) -> list[Finished[T, R]]:
        """Wait until at least one item is done (Halted if the run stops meanwhile); their
        results, in the order they were submitted."""
        done = [future for future in self._pending if future.done()]
        if not done:
            self._wait(list(self._pending), return_when=FIRST_COMPLETED)
            done = [future for future in self._pending if future.done()]
        return [self._take(future) for future in done]

    def _wait(self, futures: list[Future[R]], *, return_when: str) -> None:
        if self.halt.tripped:
            raise _halted()
        try:
            with halting.interruptible():
                wait_futures(futures, return_when=return_when)
        except KeyboardInterrupt:
            if not self.halt.tripped:  # Ctrl-C without vcctl's handler (embedding)
                self.halt.trip(signal.SIGINT)
            raise Halted from None
        if self.halt.tripped:
            raise _halted()

    def _take(self, future: Future[R]) -> Finished[T, R]:
        item = self._pending.pop(future)
        problem = future.exception()
        if problem is None:
            return Finished(item, future.result())
        return Finished(item, None, problem)

    # -- stopping --------------------------------------------------------------------------------

    def stop(self) -> list[T]:
        """Drop what no worker has started; returns those items, in the order given."""
        dropped = [item for future, item in self._pending.items() if future.cancel()]
        self._pending = {f: item for f, item in self._pending.items() if not f.cancelled()}
        return dropped

    def settle(self, future: Future[R]) -> bool:
        """After a stop: wait for `future` unless a second signal comes (then, and from then
        on, False: the threads are abandoned, see `close`)."""
        if self._abandon or self.halt.repeated:
            self._abandon = True
            halting.acknowledge()  # the second signal, seen here: not to be raised later
            return future.done()
        try:
            with halting.interruptible():
                wait_futures([future])
        except KeyboardInterrupt:
            self._abandon = True
            return future.done()
        return True

    def drain(self, report: Callable[[Finished[T, R]], None]) -> tuple[list[T], list[T]]:
        """After `stop`: wait for the items under way and report each as it finishes. Returns
        (items a worker took only after the halt, so never ran; items still under way when a
        second signal ended the wait: their outcome is unknown)."""
        not_run: list[T] = []
        while self._pending and not self._abandon:
            done = [future for future in self._pending if future.done()]
            if not done:
                self.settle_any()
                continue
            for future in done:
                finished = self._take(future)
                if isinstance(finished.error, _NotStarted):
                    not_run.append(finished.item)
                else:
                    report(finished)
        return not_run, list(self._pending.values())

    def settle_any(self) -> None:
        """After a stop: wait for any item under way, unless a second signal comes."""
        if self._abandon or self.halt.repeated:
            self._abandon = True
            halting.acknowledge()
            return
        try:
            with halting.interruptible():
                wait_futures(list(self._pending), return_when=FIRST_COMPLETED)
        except KeyboardInterrupt:
            self._abandon = True

    @property
    def abandoned(self) -> bool:
        return self._abandon

    def close(self) -> None:
        """Drop what has not started; wait for the rest unless a second signal abandoned it."""
        self._executor.shutdown(wait=not self._abandon, cancel_futures=True)


def never_started(future: Future[Any]) -> bool:
    """Dropped by `stop`, or taken by a worker only after the halt: the work never ran."""
    if future.cancelled():
        return True
    return future.done() and isinstance(future.exception(), _NotStarted)


def run_in_order(
    items: Iterable[T],
    work: Callable[[T], R],
    report: Callable[[Finished[T, R]], None],
    *,
    workers: int,
    window: int | None = None,
    ready: Callable[[T], BaseException | None] | None = None,
    stopping: Callable[[int], None] | None = None,
    halt: Halt | None = None,
    name: str = "vcctl-work",
) -> Stop[T] | None:
    """Run `work` on each item on `workers` threads; `report` each result in input order, as
    soon as every earlier one is reported (the progress hook). Returns None when every item was
    reported, or how a stop signal ended it (see `Stop`).

    `window`: items taken from `items` ahead of the oldest unreported one (default: all of a
    sized input, so a list is queued at once; a file read lazily passes a few per worker, so
    that memory stays flat). `ready(item)`: an error that settles the item without running it
    (a row that failed validation), reported in its turn. `stopping(under_way)`: called once on
    a stop, with how many requests it now waits for. Items are taken from `items` in the main
    thread, interruptibly: a read from a terminal or a pipe is a wait a signal ends.
    """
    with halting.held(), Workers(work, workers, halt=halt, name=name) as engine:
        queue: deque[tuple[T, Future[R] | BaseException]] = deque()
        limit = (
            window
            if window is not None
            else (len(items) if isinstance(items, Sized) else 4 * workers)
        )
        limit = max(1, limit)
        source = iter(items)
        try:
            for item in _pulled(source):
                settled = ready(item) if ready is not None else None
                queue.append((item, settled if settled is not None else engine.submit(item)))
                while queue and (len(queue) >= limit or _done(queue[0][1])):
                    _report_head(engine, queue, report)
            while queue:
                _report_head(engine, queue, report)
        except Halted:
            return _stopped(engine, queue, report, stopping)
    return None


def _pulled(source: Iterator[T]) -> Iterator[T]:
    """The items, each taken in an interruptible wait (Halted when the run stops meanwhile)."""
    halt = halting.process_halt()
    while True:
        if halt.tripped:
            raise _halted()
        try:
            with halting.interruptible():
                item = next(source)
        except StopIteration:
            return
        except KeyboardInterrupt:
            if not halt.tripped:
                halt.trip(signal.SIGINT)
            raise Halted from None
        yield item


def _done(entry: Future[Any] | BaseException) -> bool:
    return not isinstance(entry, Future) or entry.done()


def _report_head(
    engine: Workers[T, R],
    queue: deque[tuple[T, Future[R] | BaseException]],
    report: Callable[[Finished[T, R]], None],
) -> None:
    item, entry = queue[0]
    finished = engine.result(entry) if isinstance(entry, Future) else Finished(item, None, entry)
    queue.popleft()
    report(finished)  # a signal during the report is held: it acts at the next wait


def _stopped(
    engine: Workers[T, R],
    queue: deque[tuple[T, Future[R] | BaseException]],
    report: Callable[[Finished[T, R]], None],
    stopping: Callable[[int], None] | None,
) -> Stop[T]:
    """Send nothing more; report, in input order, each item that ran."""
    stop: Stop[T] = Stop(engine.halt.signum)
    engine.stop()
    if stopping is not None:
        stopping(sum(1 for _, entry in queue if isinstance(entry, Future) and not entry.done()))
    for item, entry in queue:
        if not isinstance(entry, Future):
            report(Finished(item, None, entry))
            continue
        if not entry.done():
            engine.settle(entry)
        if never_started(entry):
            stop.unstarted.append(item)
        elif not entry.done():
            stop.outcome_unknown.append(item)
        else:
            report(_settled(item, entry))
    return stop


def _settled(item: T, future: Future[R]) -> Finished[T, R]:
    problem = future.exception()
    return Finished(item, None, problem) if problem is not None else Finished(item, future.result())
