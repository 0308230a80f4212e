"""What `rooms get` and `participants get` share: references resolved, then one GET per id on
the worker engine, each answer shown as it comes (or handed to the chosen output format)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from vcctl.cli.commands.common import run_many
from vcctl.cli.context import context_of
from vcctl.cli.references import resolve_ids
from vcctl.output import formats
from vcctl.resources import Kind, Resource


def get_ids(
    ctx: typer.Context,
    ids: list[str],
    *,
    kind: Kind,
    metavar: str,
    resource: Resource,
    fetch: Callable[[Any], Callable[[str], Any]],
    show: Callable[[Any], None],
    concurrency: int,
    json_out: bool,
    output: str | None,
) -> None:
    """Show `ids` of `kind`; `fetch` picks the Api's get method, `show` draws one answer."""
    chosen = formats.choose(output, json_mode=json_out)
    context = context_of(ctx)
    ids = resolve_ids(context, ids, kind, metavar)
    api = context.api(pool_size=concurrency)
    run_many(
        ids,
        fetch(api),
        json_mode=json_out,
        render=lambda _, answer: show(answer),
        separate=True,
        concurrency=concurrency,
        stop=context.limiter().close,
        renderer=formats.renderer(chosen, resource, single=len(ids) == 1),
    )
