"""From a request target to the operation that serves it: path splitting and the route table.

Every API path also answers behind a locale prefix (`/fr`, `/en`, `/en-US`); the query string
is ignored. Each path segment is percent-decoded on its own, so `a%2Fb` is the single id "a/b":
that is what keeps an id from reaching another path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from vcctl.emulator.answers import ApiRefusal

CONTROL_PREFIX = "_emulator"
_LOCALE_RE = re.compile(r"[a-z]{2}(?:-[A-Z]{2})?")


@dataclass(frozen=True)
class Route:
    """One endpoint: `method` on /api/v1/`resource`, with an id segment when `with_id`."""

    method: str
    resource: str
    with_id: bool
    operation: str  # the name of the store's method that serves it


# The API's endpoints. Adding one is a line here and a method on `ApiStore`.
ROUTES: tuple[Route, ...] = (
    Route("POST", "rooms", False, "create_room"),
    Route("GET", "rooms", True, "get_room"),
    Route("POST", "rooms", True, "update_room"),
    Route("DELETE", "rooms", True, "delete_room"),
    Route("POST", "participants", False, "create_participant"),
    Route("GET", "participants", True, "get_participant"),
    Route("POST", "participants", True, "update_participant"),
    Route("DELETE", "participants", True, "delete_participant"),
    Route("POST", "events", False, "send_event"),
)
_BY_KEY = {(route.method, route.resource, route.with_id): route for route in ROUTES}


def split_target(raw_path: str) -> list[str]:
    """The percent-decoded segments of a request target's path, without the leading "/".

    Segments are split on the raw "/" before decoding, so an encoded "/" stays inside its
    segment.
    """
    target = raw_path
    if not target.startswith("/"):
        # Absolute form ("GET http://host/path"), which HTTP/1.1 servers must accept.
        parts = urlsplit(target)
        target = parts.path if parts.scheme in ("http", "https") else ""
    path = target.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        return []
    return [unquote(segment) for segment in path[1:].split("/")]


def is_control(raw_path: str) -> bool:
    """Whether the target is one of the emulator's own /_emulator/... endpoints."""
    segments = split_target(raw_path)
    return bool(segments) and segments[0] == CONTROL_PREFIX


def route(method: str, raw_path: str) -> tuple[Route, str | None]:
    """(route, id or None) for an API request; ApiRefusal(404) for anything else."""
    segments = split_target(raw_path)
    if segments and _LOCALE_RE.fullmatch(segments[0]):
        segments = segments[1:]
    if len(segments) in (3, 4) and segments[:2] == ["api", "v1"]:
        item_id = segments[3] if len(segments) == 4 else None
        found = _BY_KEY.get((method, segments[2], item_id is not None))
        if found is not None:
            return found, item_id
    raise ApiRefusal(404, "Not found")
