"""Options and steps the create and delete commands share for the inventory: `--key`,
`--retry-unknown`, one keyed create, and ids read from standard input (`-`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from vcctl import validate
from vcctl.cli.context import CommandContext
from vcctl.errors import UsageError
from vcctl.inventory.claims import KeyRow, Patience
from vcctl.inventory.keyed_create import Existing, Unrecorded, create_with_key, differences
from vcctl.inventory.recorder import RecordingApi
from vcctl.output import views
from vcctl.output.streams import notice_on_terminal, warn
from vcctl.resources import Kind

KeyOption = Annotated[
    str | None,
    typer.Option(
        "--key",
        help="Name the resource in the inventory: the same key again prints the existing one "
        "instead of creating another.",
        metavar="KEY",
    ),
]
RetryUnknownOption = Annotated[
    bool,
    typer.Option(
        "--retry-unknown",
        help="Create even if an earlier create with this key has an unknown outcome.",
    ),
]


def key_patience() -> Patience:
    """How a create waits for another vcctl holding its key: with a message on a terminal."""

    def waiting(row: KeyRow) -> None:
        owner = row.owner.describe() if row.owner is not None else "another process"
        notice_on_terminal(
            f"{row.describe()} is being created by another vcctl ({owner}); waiting for it"
        )

    return Patience(on_wait=waiting)


def create_one(
    context: CommandContext,
    kind: Kind,
    fields: dict[str, Any],
    *,
    key: str | None,
    retry_unknown: bool,
    json_mode: bool,
    quiet: bool,
    view: Callable[[Any], None],
) -> None:
    """One create, with a key or not, printed as a create prints."""
    if key is None:
        if retry_unknown:
            raise UsageError("--retry-unknown goes with --key")
        api = context.api()
        resource = api.create_room(fields) if kind == "room" else api.create_participant(fields)
    else:
        validate.text(key, "--key")
        if not key:
            raise UsageError("--key must not be empty")
        context.inventory().require()  # off or unusable: exit 2 before anything is sent
        api = context.api()
        assert isinstance(api, RecordingApi)
        resource = create_with_key(
            api, kind, fields, key, retry_unknown=retry_unknown, patience=key_patience()
        )
        if isinstance(resource, Unrecorded):
            warn(resource.problem)
        if isinstance(resource, Existing):
            notice_on_terminal(f"key {key!r}: {kind} {resource.get('id')} already existed")
            changed = differences(fields, resource)
            if changed:
                warn(
                    f"key {key!r}: the existing {kind} differs from what was asked in "
                    f"{', '.join(changed)} (not changed)"
                )
    views.emit(resource, json_mode=json_mode, quiet=quiet, view=view)


def ids_from_arguments(ids: list[str], what: str) -> list[str]:
    """The ids given, or with `-` alone, those on standard input (one per line, blank lines
    skipped). A terminal on standard input is refused: `-` is for pipes."""
    if "-" not in ids:
        return ids
    if len(ids) > 1:
        raise UsageError(f"{what} '-' reads the ids from standard input: give no other ids")
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError(
            f"{what} '-' reads ids from standard input, which is a terminal",
            hint="pipe ids in, e.g. 'vcctl rooms list -q | vcctl rooms delete --yes -'",
        )
    read = [line.strip() for line in sys.stdin.read().splitlines()]
    found = [line for line in read if line]
    for item in found:
        validate.identifier(item, what)
    return found
