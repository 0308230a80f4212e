"""Creates with a key (`--key`, a batch row): the same key twice makes one resource.

The key is claimed through the key protocol (`vcctl.inventory.claims`) before the create is sent:
another process with the same key waits for its outcome; a live record under the key is fetched
again instead of created; one found gone (404) is created anew under the same key; a create
whose outcome is unknown blocks the key until the user checks and forgets it (or retries on
purpose). A create the API carried out is never hidden: if recording it fails, it is returned
all the same, marked `Unrecorded`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from vcctl.errors import InventoryError, NotFoundError, VcctlError
from vcctl.inventory import claims
from vcctl.inventory.claims import CREATED, Claim, KeyRef, Patience
from vcctl.inventory.recorder import Recorder, RecordingApi
from vcctl.inventory.records import Record
from vcctl.resources import Kind


class Existing(dict[str, Any]):
    """A resource a key already named: printed exactly as a created one; the type tells."""


class Unrecorded(dict[str, Any]):
    """A resource the API created whose record could not be written: printed as created, with
    `problem` as a warning (what could not be recorded, and what follows for its key)."""

    problem: str = ""


def key_scope(kind: Kind, fields: Mapping[str, Any]) -> str:
    """Participant keys are scoped by their room; room keys by nothing (see `scopes`)."""
    return str(fields.get("room_id", "")) if kind == "participant" else ""


def create_with_key(
    api: RecordingApi,
    kind: Kind,
    fields: dict[str, Any],
    key: str,
    *,
    retry_unknown: bool,
    patience: Patience | None = None,
) -> Any:
    """The resource `key` names (an `Existing`, after one GET), or a new one created under it
    (an `Unrecorded` when the inventory could not take it).

    Raises KeyBlockedError / KeyPendingError (exit 11), InventoryError (exit 2), nothing sent;
    or the create's own error (the key then blocked when the outcome is unknown, else freed).
    """
    recorder = api.recorder
    inventory = recorder.require()
    account = recorder.account
    scope = key_scope(kind, fields)
    ref = KeyRef(account, kind, scope, key)
    while True:
        held = claims.claim(inventory, ref, retry_unknown=retry_unknown, patience=patience)
        if isinstance(held, Record):
            try:
                found = api.get_room(held.id) if kind == "room" else api.get_participant(held.id)
            except NotFoundError:
                continue  # marked gone by the Api: the next claim creates it anew
            return Existing(found) if isinstance(found, dict) else found
        return _send(api, kind, fields, held)


def _send(api: RecordingApi, kind: Kind, fields: dict[str, Any], claim: Claim) -> Any:
    try:
        resource = api.send_create(kind, fields)
    except BaseException as exc:
        with contextlib.suppress(InventoryError):
            # Else still pending under this process: once it ends, the key reads as unknown.
            claim.resolve(exc)
        raise
    if not isinstance(resource, Mapping) or "id" not in resource:
        # Created, but which resource the key names cannot be told: blocked until checked.
        with contextlib.suppress(InventoryError):
            claim.unknown()
        return resource
    try:
        claim.created(resource)  # committed before the caller prints it
    except InventoryError as exc:
        unrecorded = Unrecorded(resource)
        unrecorded.problem = (
            f"{kind} {resource['id']} was created, but {exc.message}: it is not in the "
            f"inventory, and key {claim.ref.key!r} will read as an unknown outcome"
        )
        return unrecorded
    return resource


def differences(asked: Mapping[str, Any], resource: Any) -> list[str]:
    """The fields asked for that the existing resource holds otherwise."""
    if not isinstance(resource, Mapping):
        return []
    return [name for name, value in asked.items() if resource.get(name) != value]


@dataclass(frozen=True)
class Foreseen:
    """What `create_with_key` would do now, as the inventory tells without claiming anything:
    `get` the resource `id` the key names, `create` one, or `blocked` (an earlier create's
    outcome is unknown: `problem`, exit 11) or `waits` for another vcctl's create in flight
    (`problem` says whose)."""

    step: Literal["get", "create", "blocked", "waits"]
    id: str | None = None
    problem: VcctlError | None = None


def foresee(
    recorder: Recorder, kind: Kind, fields: Mapping[str, Any], key: str, *, retry_unknown: bool
) -> Foreseen:
    """For --dry-run: what a create with `key` would do, read only (nothing is claimed or
    marked). A recorded resource is taken as existing: a run GETs it and creates it anew only
    if that GET answers 404. Raises what the inventory raises (InventoryError, exit 2)."""
    inventory = recorder.require()
    ref = KeyRef(recorder.account, kind, key_scope(kind, fields), key)
    row = inventory.read_key(ref)
    target = inventory.live_target(ref, row) if row is not None and row.state == CREATED else None
    step = claims.next_step(row, retry_unknown=retry_unknown, live=target is not None)
    if step == "found":
        assert target is not None
        return Foreseen("get", id=target.id)
    if step == "take":
        return Foreseen("create")
    assert row is not None
    if step == "wait":
        owner = row.owner.describe() if row.owner is not None else "another process"
        return Foreseen(
            "waits",
            problem=VcctlError(
                f"{ref.describe()} is being created by another vcctl ({owner}) since "
                f"{claims.local_time(row.since)}: a run would wait for its outcome"
            ),
        )
    # "abandoned" (its owner is gone) reads as unknown, as a claim would mark it.
    if retry_unknown:
        return Foreseen("create")
    return Foreseen("blocked", problem=claims.blocked_error(ref, row, inventory.release_hint(ref)))
