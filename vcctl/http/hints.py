"""What a person reads when a call fails: the error message built from an answer, and the hint.

Pure text work on a received answer (no I/O); the client scrubs secrets from what it returns.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from vcctl.errors import ApiError, InvalidResponseError, api_error_class
from vcctl.http.retry import (
    MAY_HIDE_A_DONE_REQUEST,
    CallKind,
    is_idempotent,
    parse_retry_after,
)
from vcctl.text import printable

ERROR_EXCERPT_LIMIT = 200
REASONS = {402: "Request Failed"}  # the API's own name for 402


def reason_phrase(status: int) -> str:
    if status in REASONS:
        return REASONS[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def excerpt(body: bytes, limit: int = ERROR_EXCERPT_LIMIT) -> str:
    """The first bytes of a body, on one line, safe to print (the server chose them)."""
    text = body[:limit].decode("utf-8", errors="replace")
    text = printable(" ".join(text.split()))
    if not text:
        return "(empty body)"
    return text + ("…" if len(body) > limit else "")


def api_message(data: Any) -> str | None:
    """The API documents no error body: take the first of the usual fields."""
    if isinstance(data, dict):
        for key in ("error", "message", "errors", "info"):
            value = data.get(key)
            # `{"error": true, "message": "..."}`: a flag is not the message.
            if isinstance(value, str | list | dict) and value not in ("", [], {}):
                return _flatten(value)
    elif isinstance(data, str) and data:
        return data
    return None


def _flatten(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "; ".join(_flatten(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_flatten(item)}" for key, item in value.items())
    return json.dumps(value)


def error_for_status(
    status: int,
    body: bytes,
    retry_after_header: str | None,
    *,
    kind: CallKind,
    retried: bool,
    scrub: Callable[[str], str],
) -> ApiError:
    """The typed error for an error answer; `scrub` removes secrets from the text shown."""
    data: Any = None
    try:
        data = json.loads(body) if body.strip() else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        data = None
    message = api_message(data)
    phrase = reason_phrase(status)
    headline = f"HTTP {status}{' ' + phrase if phrase else ''}"
    if message and message.strip().lower() != phrase.lower():
        text = f"{headline}: {message}"
    elif message:
        text = headline
    elif status == 404:
        text = f"{headline}: not found (resource or endpoint)"
    else:
        text = f"{headline}: {excerpt(body)}"
    # The API's message is shown to the user: a server echoing the credentials must not
    # get them printed.
    text = scrub(text)
    message = None if message is None else scrub(message)
    if 300 <= status < 400:
        # An unfollowed redirect without Location, or a 304: not an API answer at all.
        raise InvalidResponseError(text, status=status)
    cls = api_error_class(status)
    return cls(
        text,
        status=status,
        api_message=message,
        hint=hint_for_status(status, kind, retried),
        body=data,
        retry_after=parse_retry_after(retry_after_header),
        maybe_carried_out=not is_idempotent(kind) and may_hide_a_done_create(status),
    )


def may_hide_a_done_create(status: int) -> bool:
    """A create answered with this error status may have been carried out: every 5xx but 503
    ("not done, come back later") may come after the server committed it."""
    return status >= 500 and status != 503


def hint_for_status(status: int, kind: CallKind, retried: bool) -> str | None:
    if status in (401, 403):
        return (
            "the API rejected the key or token: 'vcctl auth status' shows which are in use, "
            "'vcctl auth login' or VCCTL_API_KEY/VCCTL_API_TOKEN set them"
        )
    if status == 404:
        return "check the id, and --base-url/--locale if every call answers 404"
    if status == 429:
        return "the API's request quota is exhausted; try again later, or lower --rate"
    if status >= 500:
        if not is_idempotent(kind) and status in MAY_HIDE_A_DONE_REQUEST:
            return "not retried: the request may have been carried out; check before creating again"
        return "the API is having trouble; try again later" if retried else None
    return None


MAYBE_CARRIED_OUT = (
    "the request may have reached the API and been carried out: check before creating again"
)
