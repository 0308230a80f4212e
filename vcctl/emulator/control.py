"""The emulator's own endpoints under /_emulator/, for scripts and tests in another process.

They need no credentials and are never recorded, delayed or faulted. They are served only when
the emulator listens on loopback, or when `allow_remote_control` is set (403 otherwise)::

    GET    /_emulator/requests   the last recorded API requests, oldest first (JSON list), their
                                 apiKey / apiToken headers masked (last 4 characters at most)
    DELETE /_emulator/requests   forget the recorded requests
    POST   /_emulator/faults     add faults: a JSON object, or a list of them, with Fault's fields
    GET    /_emulator/faults     the faults still pending
    DELETE /_emulator/faults     drop the pending faults
    GET    /_emulator/state      {"rooms": [...], "participants": [...]}
    POST   /_emulator/reset      empty rooms, participants, faults and recorded requests
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from vcctl.emulator.answers import Answer, error_answer, json_answer
from vcctl.emulator.faults import faults_from_json
from vcctl.emulator.routes import split_target

if TYPE_CHECKING:
    from vcctl.emulator.server import Emulator


def handle_control(
    emulator: Emulator, method: str, raw_path: str, body: bytes, body_error: str | None
) -> Answer:
    """The answer of a control endpoint (404 for an unknown one)."""
    if body_error is not None:
        return error_answer(400, body_error, close=True)
    path = "/" + "/".join(split_target(raw_path)).rstrip("/")
    if path == "/_emulator/requests" and method == "GET":
        return json_answer(200, [r.to_dict(mask_secrets=True) for r in emulator.recorded()])
    if path == "/_emulator/requests" and method == "DELETE":
        emulator.clear_recorded()
        return json_answer(200, {"cleared": True})
    if path == "/_emulator/faults" and method == "GET":
        return json_answer(200, [f.to_dict() for f in emulator.pending_faults()])
    if path == "/_emulator/faults" and method == "DELETE":
        emulator.clear_faults()
        return json_answer(200, {"cleared": True})
    if path == "/_emulator/faults" and method == "POST":
        return _post_faults(emulator, body)
    if path == "/_emulator/state" and method == "GET":
        return json_answer(200, emulator.state())
    if path == "/_emulator/reset" and method == "POST":
        emulator.reset()
        return json_answer(200, {"reset": True})
    return error_answer(404, "Not found")


def _post_faults(emulator: Emulator, body: bytes) -> Answer:
    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError as exc:
        return error_answer(400, f"Request body is not valid JSON: {exc}")
    try:
        faults = faults_from_json(data)
    except ValueError as exc:
        return error_answer(400, str(exc))
    # All or nothing: a script that sent a bad list should not run with half of it.
    for fault in faults:
        emulator.add_fault(fault)
    return json_answer(200, [f.to_dict() for f in faults])
