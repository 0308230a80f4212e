"""Creates with a key: the same key twice makes one resource.

The key is held in the inventory before the create is sent (other processes with the same key
wait for its outcome); a live record under the key is fetched again instead of created; one
found gone (404) is created anew under the same key; a create whose outcome is unknown blocks
the key until the user checks and forgets it (or retries on purpose).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vcctl.errors import NotFoundError
from vcctl.inventory.claims import Claim
from vcctl.inventory.recorder import RecordingApi, outcome_unknown
from vcctl.inventory.records import Record
from vcctl.resources import Kind


class Existing(dict[str, Any]):
    """A resource a key already named: printed exactly as a created one; the type tells."""


def key_scope(kind: Kind, fields: Mapping[str, Any]) -> str:
    """Participant keys are scoped by their room; room keys by nothing."""
    return str(fields.get("room_id", "")) if kind == "participant" else ""


def create_with_key(
    api: RecordingApi, kind: Kind, fields: dict[str, Any], key: str, *, retry_unknown: bool
) -> Any:
    """The resource `key` names (an `Existing`, after one GET), or a new one created under it.

    Raises KeyBlockedError / KeyPendingError / InventoryError (exit 2, nothing sent) or the
    create's own error (the key then blocked when the outcome is unknown, else freed).
    """
    recorder = api.recorder
    inventory = recorder.require()
    account = recorder.account
    scope = key_scope(kind, fields)
    while True:
        held = inventory.claim_key(account, kind, scope, key, retry_unknown=retry_unknown)
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
        if outcome_unknown(exc):
            claim.unknown()
        else:
            claim.failed()
        raise
    if isinstance(resource, Mapping) and "id" in resource:
        claim.created(resource)  # committed before the caller prints it
    else:
        claim.unknown()  # an answer without an id: cannot tell what the key names
    return resource


def differences(asked: Mapping[str, Any], resource: Any) -> list[str]:
    """The fields asked for that the existing resource holds otherwise."""
    if not isinstance(resource, Mapping):
        return []
    return [name for name, value in asked.items() if resource.get(name) != value]
