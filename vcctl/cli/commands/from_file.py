"""What `NOUN create --from-file` and `NOUN update --from-file` share: the batch engine's view of
the run, the reading options (--delimiter, --ignore-columns, --skip-invalid) checked, and
updates whose rows name their targets by id or @KEY."""

from __future__ import annotations

from vcctl.batch import BatchServices, Reading
from vcctl.batch import update_from_file as update_rows
from vcctl.cli.context import CommandContext
from vcctl.cli.references import resolve_id, resolver
from vcctl.errors import UsageError
from vcctl.resources import Kind, Noun


def batch_services(context: CommandContext) -> BatchServices:
    """What `--from-file` uses of the run (see vcctl.batch.BatchServices)."""
    return BatchServices(
        # Retry waits are not announced line by line: the progress bar shows the limiter's.
        api=lambda workers: context.api(pool_size=workers, quiet_waits=True),
        planner=context.api_over,
        recorder=context.inventory,
        limiter=context.limiter,
        room_reference=resolver(context, "room", "room_id"),
    )


def reading_options(
    delimiter: str | None, ignore_columns: str | None, skip_invalid: bool
) -> Reading:
    """--delimiter, --ignore-columns and --skip-invalid, checked."""
    forced = None
    if delimiter is not None:
        forced = {"tab": "\t", "\\t": "\t"}.get(delimiter.lower(), delimiter)
        if forced not in (",", ";", "\t"):
            raise UsageError(f"invalid --delimiter {delimiter!r}: expected ',', ';' or 'tab'")
    names = tuple(name.strip() for name in (ignore_columns or "").split(",") if name.strip())
    return Reading(delimiter=forced, ignore_columns=names, skip_invalid=skip_invalid)


def update_from_file(
    context: CommandContext,
    noun: Noun,
    source: str,
    *,
    concurrency: int,
    dry_run: bool,
    json_mode: bool,
    quiet: bool,
    reading: Reading,
    room_id: str | None = None,
) -> None:
    """`NOUN update --from-file`: each row's id (or @KEY, for participants within `room_id`
    when given) resolved before anything is sent."""
    kind: Kind = "room" if noun == "rooms" else "participant"

    def target(value: str) -> str:
        return resolve_id(context, value, kind, "id", room_id=room_id)

    update_rows(
        batch_services(context),
        noun,
        source,
        target_reference=target,
        concurrency=concurrency,
        dry_run=dry_run,
        json_mode=json_mode,
        quiet=quiet,
        reading=reading,
    )
