"""`vcctl inventory migrate --to URL`: copy the local inventory file into a shared one."""

from typing import Annotated

import typer

from vcctl.cli.context import context_of
from vcctl.cli.examples import examples
from vcctl.errors import UsageError
from vcctl.inventory import scopes
from vcctl.inventory.location import Location, open_store
from vcctl.inventory.recorder import OFF_HINT, OFF_MESSAGE
from vcctl.inventory.store.transfer import KeyConflict, Loaded
from vcctl.output.streams import notice_on_terminal, stderr_line, warn, write_stdout
from vcctl.resources import Kind
from vcctl.text import printable

app = typer.Typer()


@app.command(
    "migrate",
    help=(
        "Copy the local inventory file's records and keys, of every account, into a shared "
        "PostgreSQL inventory. Nothing is sent to the API.\n\n"
        "Records already there are kept, or updated when the local one was seen later. A key "
        "both hold that names different ids is not copied: each is listed, and the command "
        "exits 2 once the rest is copied. Running it again copies nothing twice. The local "
        "file is left as it is."
    ),
    epilog=examples(
        (
            "Share this machine's inventory with the team (the password from ~/.pgpass):",
            "vcctl inventory migrate --to postgresql://vcctl@db.internal/team",
        ),
    ),
)
def migrate(
    ctx: typer.Context,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="The shared inventory: a postgresql:// URL (libpq syntax; PG* variables and "
            "~/.pgpass apply).",
            metavar="URL",
        ),
    ],
) -> None:
    recorder = context_of(ctx).inventory()
    if not recorder.enabled:
        raise UsageError(OFF_MESSAGE, hint=OFF_HINT)
    source_path = recorder.path
    destination = Location(source_path, to.strip())
    if not destination.shared:
        raise UsageError("--to needs the URL of the shared inventory")
    if not source_path.exists():
        warn(f"no local inventory at {source_path}: nothing to copy")
        return
    with open_store(Location(source_path)) as source:
        dump = source.dump()
    with open_store(destination) as shared:
        loaded = shared.load(dump)
    write_stdout(f"{_summary(loaded, destination.shown)}\n")
    if loaded.conflicts:
        for conflict in loaded.conflicts:
            stderr_line(printable(f"vcctl: {_conflict(conflict)}"))
        count = len(loaded.conflicts)
        raise UsageError(
            f"{count} key{'s' if count != 1 else ''} name different ids here and in "
            f"{destination.shown}: not copied",
            hint="check which resource each key should name, free the other key with 'vcctl "
            "inventory forget --key' (here, or with VCCTL_INVENTORY_URL set, there), then run "
            "migrate again",
        )
    notice_on_terminal(
        "to use it from now on: set VCCTL_INVENTORY_URL (or inventory_url in the profile)"
    )


def _summary(loaded: Loaded, where: str) -> str:
    copied = f"copied {_count(loaded.records, 'record')} and {_count(loaded.keys, 'key')}"
    present = loaded.keys_present
    there = f" ({_count(present, 'key')} there already)" if present else ""
    return f"{copied} into {where}{there}"


def _count(count: int, what: str) -> str:
    return f"{count} {what}{'s' if count != 1 else ''}"


def _conflict(conflict: KeyConflict) -> str:
    kind: Kind = "room" if conflict.kind == "room" else "participant"
    name = scopes.describe(kind, conflict.scope, conflict.key)
    return (
        f"{name} of {conflict.base_url}: {_named(conflict.here)} here, "
        f"{_named(conflict.there)} there"
    )


def _named(id: str | None) -> str:
    return "an unknown outcome" if id is None else id
