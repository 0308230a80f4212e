"""The commands' one door to the inventory: record what the API returned, mark deletes and 404s
gone, and make creates with a key repeatable.

`CommandContext.inventory()` gives the run's `Recorder`; `CommandContext.api()` gives a
`RecordingApi`, so that every create, get, update and delete a command sends is recorded without
the command doing anything. The recorder is a no-op when the inventory is off, and when the file
cannot be used it warns once and carries on: a plain API call never fails because of it. What
needs the inventory (`--key`, `rooms list`, `apply`) calls `require()`, which refuses instead.

Recording is a group commit: every thread that got a resource queues it and waits until it is
committed (before it is printed), and one of them writes everything queued so far in one
transaction, so a batch's workers share commits instead of taking one each.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vcctl.errors import InventoryError, NotFoundError, UsageError
from vcctl.http.api import Api, Transport
from vcctl.inventory import key_index
from vcctl.inventory.records import Account
from vcctl.resources import Kind

if TYPE_CHECKING:
    from vcctl.inventory.backend import InventoryStore
    from vcctl.inventory.location import Location

OFF_MESSAGE = "the inventory is off (VCCTL_INVENTORY=off, or inventory = false in the profile)"
OFF_HINT = "turn it on for one command with VCCTL_INVENTORY=on"


class Recorder:
    """The run's inventory: opened on first use, shared by every thread of the run."""

    def __init__(
        self, location: Location | Path, account: Callable[[], Account], *, enabled: bool
    ) -> None:
        if isinstance(location, Path):
            from vcctl.inventory.location import Location

            location = Location(location)
        self.location = location
        self.path = location.path  # the local file (apply's lock folder is next to it)
        self.enabled = enabled
        self._account_of = account
        self._account: Account | None = None
        self._inventory: InventoryStore | None = None
        self._broken: InventoryError | None = None
        self._cond = threading.Condition()
        self._queue: list[tuple[Kind, Mapping[str, Any]]] = []
        self._queued = 0
        self._flushed = 0
        self._flushing = False
        self.index_wanted = False  # refresh the key index at close even if no key changed

    # -- opening -------------------------------------------------------------------------------

    @property
    def account(self) -> Account:
        if self._account is None:
            self._account = self._account_of()
        return self._account

    def require(self) -> InventoryStore:
        """The open inventory, for what cannot work without it; InventoryError or UsageError
        (exit 2) when it is off or unusable, before anything is sent."""
        if not self.enabled:
            raise UsageError(OFF_MESSAGE, hint=OFF_HINT)
        with self._cond:
            if self._broken is not None:
                raise self._broken
            if self._inventory is None:
                from vcctl.inventory.location import open_store

                try:
                    self._inventory = open_store(self.location)
                except InventoryError as exc:
                    self._broken = exc
                    raise
                if self._inventory.warnings:
                    from vcctl.output.streams import warn

                    for warning in self._inventory.warnings:
                        warn(warning)
            return self._inventory

    def _usable(self) -> InventoryStore | None:
        """The inventory for best-effort recording: None when off or broken (warned once)."""
        if not self.enabled:
            return None
        if self._inventory is not None:
            return self._inventory
        if self._broken is not None:
            return None
        try:
            return self.require()
        except InventoryError as exc:
            self._warn(exc)
            return None

    def _warn(self, exc: InventoryError) -> None:
        from vcctl.output.streams import warn

        with self._cond:
            self._broken = self._broken or exc
            if getattr(self, "_warned", False):
                return
            self._warned = True
        warn(f"{exc.message} (the inventory was not updated)")

    def close(self) -> None:
        if self._inventory is not None:
            self._refresh_key_index(self._inventory)
            self._inventory.close()
            self._inventory = None

    def _refresh_key_index(self, store: InventoryStore) -> None:
        """Rewrite the shell completion's key index (`vcctl.inventory.key_index`) if this run
        changed keys, asked for it, or finds none. A cache: a failure is not the command's."""
        path = self.location.path
        wanted = store.keys_changed or self.index_wanted
        if not wanted and key_index.index_path(path).exists():
            return
        with contextlib.suppress(OSError, InventoryError):
            key_index.refresh(path, store.indexed_keys)

    # -- recording -----------------------------------------------------------------------------

    def seen(self, kind: Kind, resource: Any) -> None:
        """Record what the API returned; returns once it is committed (or cannot be)."""
        if not isinstance(resource, Mapping) or "id" not in resource:
            return
        if self._usable() is None:
            return
        with self._cond:
            self._queue.append((kind, resource))
            self._queued += 1
            ticket = self._queued
            while self._flushed < ticket:
                if self._flushing:
                    self._cond.wait()
                    continue
                batch, self._queue = self._queue, []
                self._flushing = True
                self._cond.release()
                try:
                    self._write(batch)
                finally:
                    self._cond.acquire()
                    self._flushing = False
                    self._flushed += len(batch)
                    self._cond.notify_all()

    def _write(self, batch: list[tuple[Kind, Mapping[str, Any]]]) -> None:
        inventory = self._usable()
        if inventory is None:
            return
        try:
            account = self.account
            for kind in ("room", "participant"):
                same = [resource for k, resource in batch if k == kind]
                if same:
                    inventory.record_many(account, kind, same, fetch=False)
        except InventoryError as exc:
            self._warn(exc)

    def suggest(self, error: NotFoundError, kind: Kind, resource_id: str) -> None:
        """End a 404's message with what the inventory knows that looks like `resource_id`
        (`hint: did you mean ...`); best effort: an unusable inventory suggests nothing."""
        inventory = self._usable()
        if inventory is None:
            return
        from vcctl.inventory.references import did_you_mean

        try:
            hint = did_you_mean(inventory, self.account, kind, resource_id)
        except InventoryError:
            return
        if hint is not None:
            error.hint = hint

    def room_listed(self, room: Any) -> None:
        """A room's GET answer lists its participants: those recorded for that room that it
        does not list were deleted outside vcctl, and are marked gone (as apply takes them).
        An answer without a participants list says nothing about them."""
        if not isinstance(room, Mapping):
            return
        room_id, participants = room.get("id"), room.get("participants")
        if not isinstance(room_id, str) or not isinstance(participants, list):
            return
        inventory = self._usable()
        if inventory is None:
            return
        listed = {p.get("id") for p in participants if isinstance(p, Mapping)}
        try:
            account = self.account
            for record in inventory.list_records(account, "participant", room_id=room_id):
                if record.id not in listed:
                    inventory.mark_gone(account, "participant", record.id)
        except InventoryError as exc:
            self._warn(exc)

    def gone(self, kind: Kind, resource_id: str) -> None:
        """A delete, or a 404 for this id: the record no longer exists."""
        inventory = self._usable()
        if inventory is None:
            return
        try:
            inventory.mark_gone(self.account, kind, resource_id)
        except InventoryError as exc:
            self._warn(exc)


class RecordingApi(Api):
    """The Api, recording every resource it returns and every id it finds gone."""

    def __init__(self, transport: Transport, locale: str, recorder: Recorder) -> None:
        super().__init__(transport, locale)
        self.recorder = recorder

    def _found(self, kind: Kind, resource_id: str, call: Callable[[], Any]) -> Any:
        try:
            resource = call()
        except NotFoundError as exc:
            self.recorder.gone(kind, resource_id)
            self.recorder.suggest(exc, kind, resource_id)
            raise
        self.recorder.seen(kind, resource)
        return resource

    def create_room(self, fields: dict[str, Any]) -> Any:
        room = super().create_room(fields)
        self.recorder.seen("room", room)
        return room

    def get_room(self, room_id: str) -> Any:
        room = self._found("room", room_id, lambda: super(RecordingApi, self).get_room(room_id))
        self.recorder.room_listed(room)
        return room

    def update_room(self, room_id: str, fields: dict[str, Any]) -> Any:
        return self._found(
            "room", room_id, lambda: super(RecordingApi, self).update_room(room_id, fields)
        )

    def _deleted(self, kind: Kind, resource_id: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        finally:
            # Deleted, or a 404: gone either way. (Not on other failures: it may still exist.)
            import sys

            failure = sys.exc_info()[1]
            if failure is None or isinstance(failure, NotFoundError):
                self.recorder.gone(kind, resource_id)
            if isinstance(failure, NotFoundError):
                self.recorder.suggest(failure, kind, resource_id)

    def delete_room(self, room_id: str) -> Any:
        return self._deleted(
            "room", room_id, lambda: super(RecordingApi, self).delete_room(room_id)
        )

    def create_participant(self, fields: dict[str, Any]) -> Any:
        participant = super().create_participant(fields)
        self.recorder.seen("participant", participant)
        return participant

    def get_participant(self, participant_id: str) -> Any:
        return self._found(
            "participant",
            participant_id,
            lambda: super(RecordingApi, self).get_participant(participant_id),
        )

    def update_participant(self, participant_id: str, fields: dict[str, Any]) -> Any:
        return self._found(
            "participant",
            participant_id,
            lambda: super(RecordingApi, self).update_participant(participant_id, fields),
        )

    def delete_participant(self, participant_id: str) -> Any:
        return self._deleted(
            "participant",
            participant_id,
            lambda: super(RecordingApi, self).delete_participant(participant_id),
        )

    def send_create(self, kind: Kind, fields: dict[str, Any]) -> Any:
        """A create that records nothing (the keyed create records through its claim)."""
        if kind == "room":
            return Api.create_room(self, fields)
        return Api.create_participant(self, fields)
