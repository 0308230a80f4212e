"""`vcctl apply`: make the rooms and participants of a stack file exist, or export existing ones.

The file is read and validated before anything else, then the stack's records are opened (the
`--state` file, or the local inventory), the recorded resources fetched (`vcctl.apply.fetch`),
the plan shown, the deletes confirmed, and the plan carried out (`vcctl.apply.execute`, shown by
`vcctl.apply.console`).
"""

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import typer

from vcctl.apply import schema, stack_lock, stackcsv, stackfile
from vcctl.apply.console import ApplyConsole
from vcctl.apply.desired import KEY_PATTERN, KEY_RULE, DesiredStack
from vcctl.apply.execute import run_plan
from vcctl.apply.export import export_stack
from vcctl.apply.fetch import fetch_live, fetch_rooms
from vcctl.apply.inventory_state import open_inventory_state
from vcctl.apply.plan import Action, make_plan
from vcctl.apply.state import StackState, open_state
from vcctl.cli.commands.common import DelimiterOption, IgnoreColumnsOption, YesOption, confirm
from vcctl.cli.commands.from_file import reading_options
from vcctl.cli.commands.key_options import key_patience
from vcctl.cli.context import CommandContext, context_of
from vcctl.cli.examples import examples
from vcctl.cli.references import resolve_ids
from vcctl.cli.sections import Section, sectioned
from vcctl.config.files import atomic_write
from vcctl.errors import (
    EXIT_BLOCKED,
    Interrupted,
    MultiItemFailure,
    PlanHasChanges,
    UsageError,
    raise_for_items,
)
from vcctl.halt import held
from vcctl.inventory.when import parse_duration
from vcctl.output import streams

EXAMPLES = examples(
    (
        "Review the plan (only GETs are sent), then carry it out, deleting what the file dropped:",
        "vcctl apply -f rooms.toml --state rooms.state.json --dry-run",
        "vcctl apply -f rooms.toml --state rooms.state.json --prune --yes",
    ),
    (
        "Adopt rooms made before as two spreadsheets (rooms: key,name,color; participants: "
        "room,key,username,...), then check that applying them changes nothing:",
        "vcctl apply --export abc123 def456 --stack board --format csv --output-dir .",
        "vcctl apply -f rooms.csv -f participants.csv --stack board --dry-run",
    ),
)

StateOption = Annotated[
    str | None,
    typer.Option(
        "--state",
        help="Keep the stack's key -> id records in this JSON file instead of this machine's "
        "inventory: for one pipeline whose runs never overlap (runners that may overlap share "
        "a PostgreSQL inventory).",
        metavar="STATEFILE",
    ),
]

LockTimeoutOption = Annotated[
    str,
    typer.Option(
        "--lock-timeout",
        help="How long to wait for another apply of the same stack to finish (seconds, or 30s, "
        "5m, 1h; 0: not at all), then exit 11.",
        metavar="DURATION",
    ),
]

app = typer.Typer()


def stack_file_section() -> Section:
    """The STACK FILE part of the help and the man page, from the schema's description."""
    return Section("STACK FILE", (schema.INTRO,), tuple(schema.help_entries()))


@app.command(
    "apply",
    help=(
        "Make the rooms and participants a stack file declares exist, as declared.\n\n"
        "The plan is shown as a diff (+ create, ~ update with old → new, - delete), then "
        "carried out: rooms before their participants, participants deleted before their "
        "rooms; each line is printed as it is done, a create's with the new id (→ ID). Only "
        "the fields the file gives are managed. Running it again changes nothing; --dry-run "
        "--exit-code exits 12 when the plan has changes. "
        "Deletes (--prune) ask on a terminal and are refused off one without --yes. Without "
        "--state the stack's records are kept in this machine's inventory (vcctl inventory "
        "path), for the current account; with the inventory off, use --state. --json prints "
        "one JSON line per action: action, kind, key, id, changes, resource."
    ),
    epilog=EXAMPLES,
    cls=sectioned(stack_file_section),
)
def apply(
    ctx: typer.Context,
    room_ids: Annotated[
        list[str] | None,
        typer.Argument(help="With --export: the rooms to describe.", metavar="ROOM_ID"),
    ] = None,
    files: Annotated[
        list[str] | None,
        typer.Option(
            "--file",
            "-f",
            help="The stack file: .toml, .json of the same shape, or - for TOML on stdin; or "
            "CSV files, -f rooms.csv -f participants.csv (a 'room' column makes a participants "
            "file), with --stack.",
            metavar="FILE",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan and stop (only GETs are sent).")
    ] = False,
    exit_code: Annotated[
        bool,
        typer.Option(
            "--exit-code",
            help="With --dry-run: exit 12 when the plan has changes, 0 when it has none.",
        ),
    ] = False,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune", help="Delete what this stack created earlier and the file no longer has."
        ),
    ] = False,
    yes: YesOption = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=64, help="Requests in flight.")
    ] = 8,
    state: StateOption = None,
    retry_unknown: Annotated[
        bool,
        typer.Option(
            "--retry-unknown",
            help="Create again the keys whose earlier create had an unknown outcome.",
        ),
    ] = False,
    export: Annotated[
        bool,
        typer.Option(
            "--export", help="Print a stack file describing ROOM_IDs and record their keys."
        ),
    ] = False,
    stack: Annotated[
        str | None,
        typer.Option(
            "--stack",
            help="The stack name: with CSV files, the stack they declare; with --export, the "
            "one to write.",
            metavar="NAME",
        ),
    ] = None,
    export_format: Annotated[
        Literal["toml", "csv"],
        typer.Option(
            "--format",
            help="With --export: a TOML stack file on stdout, or rooms.csv and "
            "participants.csv in --output-dir.",
        ),
    ] = "toml",
    output_dir: Annotated[
        str | None,
        typer.Option(
            "--output-dir",
            help="With --export --format csv: the folder to write the two files in.",
            metavar="DIR",
        ),
    ] = None,
    json_out: Annotated[
        bool,
        typer.Option("--json", help="Print JSON Lines, one object per action (not with --export)."),
    ] = False,
    lock_timeout: LockTimeoutOption = stack_lock.DEFAULT_TIMEOUT_TEXT,
    delimiter: DelimiterOption = None,
    ignore_columns: IgnoreColumnsOption = None,
    print_schema: Annotated[
        bool,
        typer.Option(
            "--schema",
            help="Print the stack file's JSON Schema (draft 2020-12), for editors, and exit.",
        ),
    ] = False,
) -> None:
    context = context_of(ctx)
    if exit_code and not dry_run:
        raise UsageError(
            "--exit-code goes with --dry-run",
            hint="a real apply exits 0 when it succeeds, whether it changed anything or not",
        )
    wait = _LockWait(lock_timeout, parse_duration(lock_timeout, "--lock-timeout"))
    if print_schema:
        streams.print_json(schema.json_schema())
        return
    if export:
        if files:
            raise UsageError("--export prints a stack file: drop -f")
        if not room_ids:
            raise UsageError("--export needs the ids of the rooms to describe")
        if (export_format == "csv") != (output_dir is not None):
            raise UsageError(
                "--format csv writes two files: give --output-dir DIR"
                if output_dir is None
                else "--output-dir goes with --format csv"
            )
        _export(
            context,
            room_ids,
            stack=stack,
            state_path=state,
            concurrency=concurrency,
            wait=wait,
            output_dir=output_dir,
        )
        return
    if room_ids:
        raise UsageError("ROOM_ID arguments go with --export", hint="to apply a file: -f FILE")
    if export_format != "toml" or output_dir is not None:
        raise UsageError("--format and --output-dir go with --export")
    if not files:
        raise UsageError("missing option -f FILE (or --export ROOM_ID...)")
    reading = reading_options(delimiter, ignore_columns, skip_invalid=False)
    desired = _load(files, stack, reading.delimiter, reading.ignore_columns)
    if prune and desired.stack is None and stackcsv.is_csv(files[0]):
        raise UsageError("--prune needs a stack name: give --stack NAME with CSV files")
    _apply(
        context,
        desired,
        dry_run=dry_run,
        prune=prune,
        yes=yes,
        concurrency=concurrency,
        state_path=state,
        retry_unknown=retry_unknown,
        json_mode=json_out,
        wait=wait,
        exit_code=exit_code,
    )


def _load(
    files: list[str], stack: str | None, delimiter: str | None, ignore_columns: tuple[str, ...]
) -> DesiredStack:
    if all(stackcsv.is_csv(file) for file in files):
        return stackcsv.load(files, stack=stack, delimiter=delimiter, ignore_columns=ignore_columns)
    if len(files) > 1:
        raise UsageError(
            "-f takes one stack file (.toml, .json or -), or CSV files only",
            hint="-f rooms.csv -f participants.csv --stack NAME",
        )
    if stack is not None:
        raise UsageError("--stack goes with CSV files and --export: a stack file names its own")
    file = files[0]
    if file != "-":
        return stackfile.load(file)
    if sys.stdin.isatty():
        streams.warn("reading TOML from the terminal; end with Ctrl-D")
    return stackfile.load("-", stdin_text=sys.stdin.read())


@dataclass(frozen=True)
class _LockWait:
    """--lock-timeout: as written (for messages), and in seconds."""

    text: str
    seconds: float


@contextlib.contextmanager
def _stack_state(
    context: CommandContext,
    state_path: str | None,
    stack: str | None,
    *,
    wait: _LockWait,
    dry_run: bool = False,
) -> Iterator[StackState]:
    """The stack's records: the --state file (locked while in use), or the inventory. Another
    apply's lock is waited for up to --lock-timeout; a dry run does not wait for it (see
    vcctl.apply.stack_lock)."""
    seconds, text = wait.seconds, wait.text
    if state_path is not None:
        with open_state(
            state_path, stack, wait=not dry_run, timeout=seconds, timeout_text=text
        ) as state:
            yield state
        return
    with open_inventory_state(
        context.inventory(), stack, wait=not dry_run, timeout=seconds, timeout_text=text
    ) as state:
        yield state


def _apply(
    context: CommandContext,
    desired: DesiredStack,
    *,
    dry_run: bool,
    prune: bool,
    yes: bool,
    concurrency: int,
    state_path: str | None,
    retry_unknown: bool,
    json_mode: bool,
    wait: _LockWait,
    exit_code: bool = False,
) -> None:
    if prune and desired.stack is None:
        make_plan(desired, [], {}, prune=True)  # refuses: --prune needs a stack name
    api = context.api(pool_size=concurrency)  # no credentials: exit 4 before the state opens
    console = ApplyConsole(json_mode=json_mode)
    with _stack_state(context, state_path, desired.stack, wait=wait, dry_run=dry_run) as state:
        records = state.entries()
        live = fetch_live(api, desired, records, prune=prune, concurrency=concurrency)
        plan = make_plan(desired, records, live, prune=prune, retry_unknown=retry_unknown)
        console.plan(plan, dry_run=dry_run, asks=bool(plan.deletes) and not yes)
        if dry_run:
            if json_mode:
                console.summary(None, plan)
            console.blocked(plan, state, dry_run=True)
            if plan.blocked:
                raise MultiItemFailure("blocked keys", exit_code=EXIT_BLOCKED)
            if exit_code and plan.changes:
                raise PlanHasChanges()
            return
        if plan.deletes:
            confirm(f"Carry out this plan, with {_deletes(plan.deletes)}?", yes=yes)
        # A stop signal ends the run where it waits, never in the middle of the report: what
        # the API did is printed, even after a second signal.
        with held():
            with console:
                console.start(len(plan.changes))
                result = run_plan(
                    api,
                    plan,
                    state,
                    concurrency=concurrency,
                    listener=console.finished,
                    on_stop=console.stopping,
                    retry_unknown=retry_unknown,
                    patience=key_patience(),
                )
            console.summary(result, plan)
            console.blocked(plan, state, dry_run=False)
    if result.stopped:
        left = f"{result.not_sent} changes were not sent; " if result.not_sent else ""
        raise Interrupted(
            f"interrupted: {left}run apply again to finish", work_abandoned=result.abandoned
        )
    codes = [outcome.error.exit_code for outcome in result.failures if outcome.error]
    succeeded = len(result.outcomes) - len(result.failures)
    if plan.blocked and not codes:
        # The rest was carried out; the blocked keys wait for a person: exit 11, not 10.
        blocked = len(plan.blocked)
        raise MultiItemFailure(
            f"{blocked} of {blocked + succeeded} changes blocked", exit_code=EXIT_BLOCKED
        )
    codes += [EXIT_BLOCKED] * len(plan.blocked)  # refused, the rest carried out
    raise_for_items(codes, succeeded=succeeded, what="changes")


def _deletes(actions: tuple[Action, ...]) -> str:
    kinds = [action.kind for action in actions]
    parts = []
    for kind in ("participant", "room"):
        count = kinds.count(kind)
        if count:
            parts.append(f"{count} {kind} delete{'s' if count != 1 else ''}")
    return " and ".join(parts)


def _export(
    context: CommandContext,
    room_ids: list[str],
    *,
    stack: str | None,
    state_path: str | None,
    concurrency: int,
    wait: _LockWait,
    output_dir: str | None,
) -> None:
    room_ids = resolve_ids(context, room_ids, "room", "ROOM_ID")
    if stack is not None and not KEY_PATTERN.fullmatch(stack):
        raise UsageError(f"invalid --stack {stack!r}: {KEY_RULE}")
    api = context.api(pool_size=concurrency)
    with _stack_state(context, state_path, stack, wait=wait) as state:
        rooms = fetch_rooms(api, room_ids, concurrency=concurrency)
        exported = export_stack(rooms, stack=stack, existing=state.entries())
        for record in exported.records:
            assert record.id is not None
            state.remember(record.kind, record.key, record.id, record.room_key)
    for warning in exported.warnings:
        streams.warn(warning)
    if output_dir is None:
        streams.write_stdout(exported.text)
        return
    folder = Path(output_dir).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for kind, text in stackcsv.write_pair(exported.document).items():
            target = folder / stackcsv.FILE_NAMES[kind]
            atomic_write(target, text.encode("utf-8"), mode=0o644)
            streams.write_stdout(f"{target}\n")
    except OSError as exc:
        raise UsageError(f"cannot write in {output_dir}: {exc.strerror or exc}") from None
