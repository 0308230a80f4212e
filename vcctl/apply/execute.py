"""Carry out an apply's plan through the Api, once `vcctl.apply.fetch` has fetched what the plan
was made from.

`run_plan` sends the changes on a bounded pool of workers: room creates and updates with the
participant creates and updates of rooms that exist already, each participant create of a new
room as soon as its room's create has answered, then participant deletes, then room deletes.
Each worker records its own success in the `StackState` at once, so what succeeded is kept
whatever happens next. A create claims its key through the key protocol (`vcctl.inventory.claims`)
before it is sent, and its answer resolves the claim: a definite refusal frees the key again, an
answer that may hide a done create (a timeout or a 5xx after sending) leaves it blocked, as a
crash would; a key another vcctl created meanwhile is taken as it is, nothing sent. A create the
API carried out is never hidden: if recording it fails, it is reported done, with a warning.
Every finished action is handed to a listener, in the order they finish. What the run set on each
resource (for a later plan's "changed outside vcctl") is kept in one write at the end: only
labels depend on it, so it costs one transaction per run, not one per change. Nothing here
prints.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from vcctl.apply.desired import Applied, StackEntry
from vcctl.apply.plan import Action, Counts, Plan, applied_values
from vcctl.errors import InvalidResponseError, NotFoundError, NotSent, VcctlError
from vcctl.halt import held
from vcctl.inventory.claims import Claim, Patience, outcome_unknown
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
    skipped: bool = False  # not sent: what it needed failed, or its key could not be claimed
    existing: bool = False  # a create another vcctl carried out meanwhile: nothing sent
    warning: str | None = None  # done, but its record could not be written

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
    blocked: int = 0  # the plan's blocked actions, never run
    warning: str | None = None  # done, but what apply set could not be kept

    @property
    def failures(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if not outcome.ok]

    def counts(self) -> Counts:
        done = [outcome.action.action for outcome in self.outcomes if outcome.ok]
        return Counts(
            created=done.count("create"),
            updated=done.count("update"),
            deleted=done.count("delete"),
            unchanged=self.unchanged + done.count("unchanged"),
            failed=len(self.failures),
            blocked=self.blocked,
        )


Listener = Callable[[Outcome], None]
# Told once when a stop signal came: the signal, and how many changes are still under way.
StopListener = Callable[[int | None, int], None]


class StateWriter:
    """The stack's records as the workers change them (the state keeps itself consistent and
    writes each change through; a state file shares its writes between workers)."""

    def __init__(
        self, state: StackState, *, retry_unknown: bool = False, patience: Patience | None = None
    ) -> None:
        self.state = state
        self.retry_unknown = retry_unknown
        self.patience = patience
        self._fields: list[Applied] = []  # what the run's creates and updates set
        self._fields_lock = threading.Lock()

    def forget_all(self, records: Iterable[StackEntry]) -> None:
        for record in records:
            self.state.forget(record.kind, record.key, record.room_key)

    def claim(self, action: Action, room_id: str | None) -> Claim | StackEntry:
        """Hold a create's key before it is sent (see `StackState.claim`)."""
        return self.state.claim(
            action.kind,
            action.key,
            action.room_key,
            room_id=room_id or action.room_id,
            retry_unknown=self.retry_unknown,
            patience=self.patience,
        )

    def succeeded(self, action: Action) -> None:
        if action.action == "delete":
            self.state.forget(action.kind, action.key, action.room_key)

    def set_fields(self, action: Action) -> None:
        """Note what a create or an update left set on its resource, for `keep_fields`."""
        fields = applied_values(action.managed, action.resource)
        with self._fields_lock:
            self._fields.append(_applied(action, fields))

    def keep_fields(self, unchanged: Iterable[Action]) -> str | None:
        """Keep, in one write at the end, what this run set (`set_fields`) and what the
        unchanged resources have where their records keep something else (or nothing yet);
        a warning when that cannot be written. Only later labels are at stake, so one write
        for the run rather than one per change."""
        with self._fields_lock:
            kept = list(self._fields)
        for action in unchanged:
            if action.id is None:
                continue
            fields = applied_values(action.managed, action.resource)
            if action.applied is None or dict(action.applied) != fields:
                kept.append(_applied(action, fields))
        if not kept:
            return None
        try:
            self.state.remember_applied(kept)
        except VcctlError as exc:
            return f"what apply set could not be kept (only labels are lost): {exc.message}"
        return None

    def close(self) -> None:
        pass


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
        if action.action == "create":
            return self.create(action, room_id)
        try:
            try:
                answer = perform(self.api, action, room_id)
            except NotFoundError:
                if action.action != "delete":
                    raise
                answer = None  # deleted meanwhile: what was wanted
            done = _with_answer(action, answer, room_id)
        except VcctlError as exc:
            return Outcome(action, exc)
        try:
            self.recorder.succeeded(done)
        except VcctlError as exc:
            message = f"{exc.message} (the API {done.action}d {done.kind} {done.id})"
            return Outcome(done, VcctlError(message, hint=exc.hint))
        if done.action == "update":
            self.recorder.set_fields(done)
        return Outcome(done)

    def create(self, action: Action, room_id: str | None) -> Outcome:
        try:
            claimed = self.recorder.claim(action, room_id)
        except VcctlError as exc:  # blocked, or the record cannot be written: not sent
            return Outcome(action, exc, skipped=True)
        if not isinstance(claimed, Claim):
            taken = replace(action, action="unchanged", id=claimed.id, resource=claimed.resource)
            return Outcome(taken, existing=True)
        try:
            done = _with_answer(action, perform(self.api, action, room_id), room_id)
        except BaseException as exc:
            with contextlib.suppress(VcctlError):  # if not, the key reads as unknown: safe
                claimed.resolve(exc)
            if not isinstance(exc, VcctlError):
                raise
            return Outcome(action, exc, unknown=outcome_unknown(exc))
        assert done.resource is not None
        try:
            claimed.created(done.resource)
        except VcctlError as exc:
            warning = (
                f"{done.kind} {done.qualified_key} was created as {done.id}, but could not be "
                f"recorded: {exc.message}"
            )
            return Outcome(done, warning=warning)
        self.recorder.set_fields(done)
        return Outcome(done)

    def submit(self, action: Action, room_id: str | None = None) -> None:
        assert self.engine is not None
        self.engine.submit((action, room_id))

    def finish(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.listener(outcome)
        action = outcome.action
        if action.kind != "room" or action.key not in self.waiting:
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
    retry_unknown: bool = False,
    patience: Patience | None = None,
) -> Result:
    """Forget the records the plan found gone, then carry out its changes (creates claim their
    keys with `retry_unknown` and `patience`; see `StackState.claim`).

    Returns every change's outcome; `Result.stopped` when a stop signal ended it (Ctrl-C,
    SIGTERM, SIGHUP: see vcctl.workers), `Result.not_sent` the changes it left unsent.
    """
    recorder = StateWriter(state, retry_unknown=retry_unknown, patience=patience)
    recorder.forget_all(plan.forget)
    runner = _Runner(api, recorder, listener, on_stop)
    try:
        not_sent = runner.run(_groups(plan), concurrency)
    finally:
        recorder.close()
    counts = plan.counts()
    unchanged = [action for action in plan.actions if action.action == "unchanged"]
    warning = None if runner.abandoned else recorder.keep_fields(unchanged)
    return Result(
        runner.outcomes,
        counts.unchanged,
        not_sent,
        runner.abandoned,
        runner.stopped,
        counts.blocked,
        warning,
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


def _applied(action: Action, fields: dict[str, Any]) -> Applied:
    assert action.id is not None
    return Applied(action.kind, action.key, action.id, fields, action.room_key, action.room_id)


def _with_answer(action: Action, answer: Any, room_id: str | None) -> Action:
    resource = answer if isinstance(answer, dict) else action.resource
    new_id = action.id
    if action.action == "create":
        new_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(new_id, str) or not new_id:
            raise InvalidResponseError(
                f"the API's answer to a {action.kind} create has no id", maybe_carried_out=True
            )
    return replace(action, id=new_id, resource=resource, room_id=room_id or action.room_id)
