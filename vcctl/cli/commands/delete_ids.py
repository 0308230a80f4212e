"""What `rooms delete` and `participants delete` share: ids from the arguments or standard
input, references resolved, the question on a terminal, then the deletes on the worker engine."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import typer

from vcctl.cli.commands.common import confirm_delete, deleting, ignoring_missing, run_many
from vcctl.cli.commands.key_options import ids_from_arguments
from vcctl.cli.context import context_of
from vcctl.cli.references import resolve_ids
from vcctl.output import views
from vcctl.resources import Kind


def delete_ids(
    ctx: typer.Context,
    ids: list[str],
    *,
    kind: Kind,
    metavar: str,
    name_field: str,
    look_up: Callable[[Any], Callable[[str], Any]],
    delete: Callable[[Any], Callable[[str], Any]],
    yes: bool,
    ignore_missing: bool,
    concurrency: int,
    json_out: bool,
) -> None:
    """Delete `ids` of `kind`; `look_up` and `delete` pick the Api's get and delete methods."""
    ids = ids_from_arguments(ids, metavar)
    if not ids:
        return  # `-` with nothing on standard input: nothing to delete
    ids = resolve_ids(context_of(ctx), ids, kind, metavar)
    # Off a terminal the refusal comes before anything else can fail: always exit 2.
    api = None if yes or not sys.stdin.isatty() else context_of(ctx).api(pool_size=concurrency)
    confirm_delete(f"{kind}s", ids, yes=yes, look_up=look_up(api) if api else None)
    context = context_of(ctx)
    api = api or context.api(pool_size=concurrency)

    def render(item_id: str, resource: Any) -> None:
        name = resource.get(name_field) if isinstance(resource, dict) else None
        views.show_message(f"deleted {kind} {item_id}" + (f" ({name})" if name else ""))

    action = deleting(delete(api))
    run_many(
        ids,
        ignoring_missing(action) if ignore_missing else action,
        json_mode=json_out,
        render=render,
        concurrency=concurrency,
        stop=context.limiter().close,
        missing=views.note_missing(kind),
    )
