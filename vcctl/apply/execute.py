"""Carry out an apply's plan through the Api, once `vcctl.apply.fetch` has fetched what the plan
was made from.

`run_plan` sends the changes on a bounded pool of workers: room creates and updates with the
participant creates and updates of rooms that exist already, each participant create of a new
room as soon as its room's create has answered, then participant deletes, then room deletes.
Each worker records its own success in the `StackState` at once (under a lock), so what
succeeded is kept whatever happens next. A create is recorded as unknown before it is sent and
resolved by its answer: a definite refusal forgets the key again, an answer that may hide a done
create (a timeout or a 5xx after sending) leaves it blocked, as a crash would. Every finished
action is handed to a listener, in the order they finish. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from vcctl.apply.desired import StackEntry
from vcctl.apply.plan import Action, Counts, Plan
from vcctl.apply.state import StateFile
from vcctl.errors import (
    ApiError,
    InvalidResponseError,
    NetworkError,
    NotFoundError,
    NotSent,
    VcctlError,
)
from vcctl.halt import held
from vcctl.http.hints import MAYBE_CARRIED_OUT
from vcctl.workers import Finished, Halted, Workers

if TYPE_CHECKING:
    from vcctl.apply.state import StackState
    from vcctl.http.api import Api


@dataclass(frozen=True)
class Outcome:
    """How one action ended: `action` carries the id and the API's answer when it succeeded."""

    action: Action
    error: VcctlError | None = None
    unknown: bool = False  # a create whose outcome is unknown: its key is blocked
    skipped: bool = False  # not sent, because what it needed failed

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Result:
    outcomes: list[Outcome]
    unchanged: int
    not_sent: int = 0  # actions dropped by a stop signal before they were sent
    abandoned: bool = False  # a second signal: answers still under way were not waited for
    stopped: bool = False  # a stop signal ended it (not_sent says how much it left)

    @property
    def failures(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if not outcome.ok]

    def counts(self) -> Counts:
        done = [outcome.action.action for outcome in self.outcomes if outcome.ok]
        return Counts(
            created=done.count("create"),
            updated=done.count("update"),
            deleted=done.count("delete"),
            unchanged=self.unchanged,
            failed=len(self.failures),
        )


Listener = Callable[[Outcome], None]
# Told once when a stop signal came: the signal, and how many changes are still under way.
StopListener = Callable[[int | None, int], None]


class StateWriter:
    """The stack's records, changed by the workers one at a time.

    A state file is written in group commits: each change is made in memory under the lock,
    then written before the worker goes on; a worker whose change a concurrent write already
    carried skips its own. Eight workers thus share writes instead of queueing for one each.
    """

    def __init__(self, state: StackState) -> None:
        self.state = state
        self.lock = threading.Lock()
        self.save_lock = threading.Lock()
        self.file = state if isinstance(state, StateFile) else None
        if self.file is not None:
            self.file.autosave = False
        self.version = 0
        self.saved = 0

    def change(self, edit: Callable[[StackState], None]) -> None:
        with self.lock:
            edit(self.state)
            self.version += 1
            mine = self.version
        if self.file is None:
            return
        with self.save_lock:
            if self.saved >= mine:
                return
            with self.lock:
                version, text = self.version, self.file.to_text()
            self.file.save(text)
            self.saved = version

    def forget_all(self, records: Iterable[StackEntry]) -> None:
        def edit(state: StackState) -> None:
            for record in records:
                state.forget(record.kind, record.key, record.room_key)

        self.change(edit)

    def sending_create(self, action: Action) -> None:
        since = datetime.now(UTC).isoformat(timespec="seconds")
        self.change(
            lambda state: state.mark_unknown(action.kind, action.key, action.room_key, since=since)
        )

    def create_failed(self, action: Action, *, unknown: bool) -> None:
        if unknown:
            return  # stays marked unknown: the next apply refuses until someone checks
        self.change(lambda state: state.forget(action.kind, action.key, action.room_key))

    def succeeded(self, action: Action) -> None:
        if action.action == "create":
            assert action.id is not None
            new_id = action.id
            self.change(
                lambda state: state.remember(action.kind, action.key, new_id, action.room_key)
            )
        elif action.action == "delete":
            self.change(lambda state: state.forget(action.kind, action.key, action.room_key))

    def close(self) -> None:
        if self.file is not None:
            self.file.autosave = True


def outcome_unknown(error: VcctlError) -> bool:
    """Whether a failed create may have been carried out all the same."""
    if isinstance(error, ApiError):
        return error.status is not None and error.status >= 500 and error.status != 503
    if isinstance(error, InvalidResponseError):
        return True  # the server answered something: it may have created it
    if isinstance(error, NetworkError):
        return error.hint == MAYBE_CARRIED_OUT
    return False


def perform(api: Api, action: Action, room_id: str | None = None) -> Any:
    """Send one action's request; returns the API's answer."""
    body = action.request_body(room_id)
    if action.action == "create":
        return api.create_room(body) if action.kind == "room" else api.create_participant(body)
    assert action.id is not None
    if action.action == "update":
        if action.kind == "room":
            return api.update_room(action.id, body)
        return api.update_participant(action.id, body)
    if action.kind == "room":
        return api.delete_room(action.id)
    return api.delete_participant(action.id)


class _Runner:
    """Runs the phases on the worker engine, submitting each participant create of a new room
    once its room's create has answered."""

    def __init__(
        self, api: Api, recorder: StateWriter, listener: Listener, on_stop: StopListener
    ) -> None:
        self.api = api
        self.recorder = recorder
        self.listener = listener
        self.on_stop = on_stop
        self.outcomes: list[Outcome] = []
        self.waiting: dict[str, list[Action]] = {}  # room key -> participant creates
        self.engine: Workers[Job, Outcome] | None = None
        self.stopped = False
        self.abandoned = False

    def work(self, job: Job) -> Outcome:
        action, room_id = job
        try:
            if action.action == "create":
                self.recorder.sending_create(action)
        except VcctlError as exc:  # the record could not be written: do not send
            return Outcome(action, exc)
        try:
            try:
                answer = perform(self.api, action, room_id)
            except NotFoundError:
                if action.action != "delete":
                    raise
                answer = None  # deleted meanwhile: what was wanted
            done = _with_answer(action, answer, room_id)
        except VcctlError as exc:
            unknown = action.action == "create" and outcome_unknown(exc)
            if action.action == "create":
                with contextlib.suppress(VcctlError):  # if not, the key stays unknown: safe
                    self.recorder.create_failed(action, unknown=unknown)
            return Outcome(action, exc, unknown=unknown)
        try:
            self.recorder.succeeded(done)
        except VcctlError as exc:
            message = f"{exc.message} (the API {done.action}d {done.kind} {done.id})"
            return Outcome(done, VcctlError(message, hint=exc.hint))
        return Outcome(done)

    def submit(self, action: Action, room_id: str | None = None) -> None:
        assert self.engine is not None
        self.engine.submit((action, room_id))

    def finish(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.listener(outcome)
        action = outcome.action
        if action.kind != "room" or action.action != "create":
            return
        for participant in self.waiting.pop(action.key, []):
            if outcome.ok:
                self.submit(participant, action.id)
            else:
                error = VcctlError(f"not sent: its room {action.key} was not created")
                self.finish(Outcome(participant, error, skipped=True))

    def drain(self) -> None:
        assert self.engine is not None
        while self.engine.under_way:
            for done in self.engine.next_finished():
                self.finish(_outcome(done))

    def run(self, phases: list[list[Action]], concurrency: int) -> int:
        """Run the phases one after the other; returns how many actions a stop left unsent."""
        with held(), Workers(self.work, concurrency, name="vcctl-apply") as self.engine:
            try:
                for phase in phases:
                    for action in phase:
                        if _waits_for_its_room(action):
                            assert action.room_key is not None
                            self.waiting.setdefault(action.room_key, []).append(action)
                            continue
                        self.submit(action)
                    self.drain()
                    for actions in self.waiting.values():  # defensive: a room never created
                        for action in actions:
                            error = VcctlError(f"not sent: its room {action.room_key} has no id")
                            self.finish(Outcome(action, error, skipped=True))
                    self.waiting.clear()
            except Halted:
                return self.interrupted(phases)
        return 0

    def interrupted(self, phases: list[list[Action]]) -> int:
        """A stop signal: send nothing more, but wait for and report what is under way; after
        a second signal, name what is still under way as of unknown outcome."""
        assert self.engine is not None
        self.stopped = True
        self.engine.stop()
        self.waiting.clear()
        if self.engine.under_way:
            self.on_stop(self.engine.halt.signum, self.engine.under_way)

        def report(done: Finished[Job, Outcome]) -> None:
            outcome = _outcome(done)
            if not isinstance(outcome.error, NotSent):  # woken while waiting for its turn
                self.outcomes.append(outcome)
                self.listener(outcome)

        _, under_way = self.engine.drain(report)
        for action, _ in under_way:
            self.abandoned = True
            error = VcctlError("no answer: vcctl stopped waiting for it (a second signal)")
            self.outcomes.append(Outcome(action, error, unknown=action.action == "create"))
            self.listener(self.outcomes[-1])
        total = sum(len(phase) for phase in phases)
        return total - len(self.outcomes)


Job = tuple[Action, "str | None"]  # an action, and the id of its room when just created


def _outcome(done: Finished[Job, Outcome]) -> Outcome:
    if done.error is not None:
        raise done.error  # work() turns every VcctlError into an Outcome: this is a bug
    assert done.value is not None
    return done.value


def run_plan(
    api: Api,
    plan: Plan,
    state: StackState,
    *,
    concurrency: int,
    listener: Listener = lambda outcome: None,
    on_stop: StopListener = lambda signum, under_way: None,
) -> Result:
    """Forget the records the plan found gone, then carry out its changes.

    Returns every change's outcome; `Result.stopped` when a stop signal ended it (Ctrl-C,
    SIGTERM, SIGHUP: see vcctl.workers), `Result.not_sent` the changes it left unsent.
    """
    recorder = StateWriter(state)
    recorder.forget_all(plan.forget)
    runner = _Runner(api, recorder, listener, on_stop)
    try:
        not_sent = runner.run(_groups(plan), concurrency)
    finally:
        recorder.close()
    return Result(
        runner.outcomes, plan.counts().unchanged, not_sent, runner.abandoned, runner.stopped
    )


def _groups(plan: Plan) -> list[list[Action]]:
    """The plan's phases, creates and updates of rooms and participants merged into one group:
    a participant create waits only for its own room's create, not for every room's."""
    groups: list[list[Action]] = [[]]
    for phase in plan.phases():
        if phase[0].action == "delete":
            groups.append(phase)
        else:
            groups[0].extend(phase)
    return [group for group in groups if group]


def _waits_for_its_room(action: Action) -> bool:
    """A participant create in a room that is being created in this run."""
    return action.kind == "participant" and action.action == "create" and action.room_id is None


def _with_answer(action: Action, answer: Any, room_id: str | None) -> Action:
    resource = answer if isinstance(answer, dict) else action.resource
    new_id = action.id
    if action.action == "create":
        new_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(new_id, str) or not new_id:
            raise InvalidResponseError(f"the API's answer to a {action.kind} create has no id")
    return replace(action, id=new_id, resource=resource, room_id=room_id or action.room_id)
