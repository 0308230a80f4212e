"""`rooms list` and `participants list` without --room: what the inventory holds, optionally
refreshed from the API, shown as a table (terminal), plain text, JSON Lines or ids."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vcctl.errors import (
    Interrupted,
    NotFoundError,
    NotSent,
    UsageError,
    VcctlError,
    raise_for_items,
)
from vcctl.inventory.records import Record
from vcctl.output.formats import Renderer
from vcctl.output.streams import print_error
from vcctl.resources import RESOURCE_OF_KIND, Kind
from vcctl.text import printable
from vcctl.workers import Finished, run_in_order

if TYPE_CHECKING:
    from vcctl.http.api import Api
    from vcctl.inventory.recorder import Recorder


@dataclass(frozen=True)
class Filters:
    name_glob: str | None = None
    created_before: str | None = None
    created_after: str | None = None
    include_gone: bool = False
    all_accounts: bool = False
    room_id: str | None = None  # participants: only those of this room


def exactly_one(kind: Kind, records: list[Record]) -> str:
    """`--one`: the id of the single match; UsageError (exit 2) listing them otherwise."""
    if len(records) == 1:
        return records[0].id
    noun = "room" if kind == "room" else "participant"
    if not records:
        raise UsageError(f"--one: no {noun} matches", hint="drop --one to see what is listed")
    shown = ", ".join(
        record.id + (f' ("{printable(record.label)}")' if record.label else "")
        for record in records[:10]
    )
    more = f" and {len(records) - 10} more" if len(records) > 10 else ""
    raise UsageError(
        f"--one: {len(records)} {noun}s match: {shown}{more}",
        hint="narrow the filters (--name, --room, --created-after) until one matches",
    )


def list_inventory(
    recorder: Recorder,
    api_for: Callable[[int], Api],
    kind: Kind,
    filters: Filters,
    *,
    refresh: bool = False,
    concurrency: int = 8,
    json_mode: bool = False,
    quiet: bool = False,
    one: bool = False,
    output: str | None = None,
) -> None:
    """List the records that match (`one`: print the id of the only one, or fail listing
    them; `output`: a format of vcctl.output.formats, each as --json gives it); with `refresh`,
    GET each first (a 404 marks it gone) with `api_for(workers)`, an Api that records what it
    answers."""
    from vcctl.inventory.when import parse_when

    before = None if filters.created_before is None else parse_when(filters.created_before)
    after = None if filters.created_after is None else parse_when(filters.created_after)
    if refresh and filters.all_accounts:
        raise UsageError("--refresh works on the current account only: drop --all-accounts")
    inventory = recorder.require()  # off or unusable: exit 2, nothing sent

    def matching() -> list[Record]:
        return inventory.list_records(
            None if filters.all_accounts else recorder.account,
            kind,
            name_glob=filters.name_glob,
            created_before=before,
            created_after=after,
            include_gone=filters.include_gone,
            room_id=filters.room_id,
            with_participants=kind == "room" and not quiet and not json_mode and not output,
        )

    records = matching()
    refreshed: Refreshed | None = None
    if refresh and records:
        refreshed = _refresh(api_for, kind, records, concurrency)
        records = matching()
    if one:
        from vcctl.output.streams import write_stdout

        write_stdout(exactly_one(kind, records) + "\n")
        return
    if output is not None:
        items = ({**record.data, "vcctl": record.local_facts()} for record in records)
        Renderer(output, RESOURCE_OF_KIND[kind]).add_all(items)
    else:
        _show(kind, records, json_mode=json_mode, quiet=quiet, accounts=filters.all_accounts)
    if refreshed is not None:
        # Each refresh is an item: the multi-item rule decides the exit code (every refresh
        # refused with 401 exits 4, as `rooms get A B C` would; some failed: 10).
        raise_for_items(refreshed.failure_codes, succeeded=refreshed.succeeded, what="refreshes")


@dataclass
class Refreshed:
    """How the refreshes went: a GET answered (404 included: the record is marked gone) is a
    success; the others' exit codes, in input order."""

    succeeded: int = 0
    failure_codes: list[int] = field(default_factory=list)


def _refresh(
    api_for: Callable[[int], Api], kind: Kind, records: list[Record], concurrency: int
) -> Refreshed:
    """GET every record on the worker engine (the client's retry rules apply); the Api records
    the answers and marks 404s gone. A stop signal ends it: nothing more is sent, and the
    refreshes already answered stay recorded."""
    workers = max(1, min(concurrency, len(records)))
    api = api_for(workers)
    fetch = api.get_room if kind == "room" else api.get_participant
    refreshed = Refreshed()

    def one(record: Record) -> None:
        with contextlib.suppress(NotFoundError):
            fetch(record.id)

    def report(done: Finished[Record, None]) -> None:
        if done.error is None:
            refreshed.succeeded += 1
        elif isinstance(done.error, NotSent):
            pass  # the run is stopping: the engine says so
        elif isinstance(done.error, VcctlError):
            print_error(done.error, json_mode=False, subject=done.item.id)
            refreshed.failure_codes.append(done.error.exit_code)
        else:
            raise done.error

    stop = run_in_order(records, one, report, workers=workers, name="vcctl-refresh")
    if stop is not None:
        answered = refreshed.succeeded + len(refreshed.failure_codes)
        raise Interrupted(
            f"interrupted while refreshing: {answered} of {len(records)} records refreshed, "
            "the others not sent; nothing was listed",
            work_abandoned=stop.abandoned,
        )
    return refreshed


_MINUTES: dict[int, str] = {}


def _when(moment: float) -> str:
    """Local time to the minute (cached: a listing's times share few minutes)."""
    minute = int(moment // 60)
    text = _MINUTES.get(minute)
    if text is None:
        text = _MINUTES[minute] = time.strftime("%Y-%m-%d %H:%M", time.localtime(minute * 60))
    return text


def _safe(text: str) -> str:
    return text if text.isprintable() else printable(text)


def _show(
    kind: Kind, records: list[Record], *, json_mode: bool, quiet: bool, accounts: bool
) -> None:
    from vcctl.output import streams

    if quiet:
        streams.write_stdout("".join(f"{_safe(record.id)}\n" for record in records))
        return
    if json_mode:
        lines = [
            streams.json_result_line({**record.data, "vcctl": record.local_facts()})
            for record in records
        ]
        streams.write_stdout("".join(lines))
        return
    if kind == "room":
        header = ["ID", "NAME", "KEY", "CREATED", "LAST SEEN", "PARTICIPANTS"]
    else:
        header = ["ID", "USERNAME", "ROOM", "KEY", "CREATED", "LAST SEEN"]
    show_gone = any(record.gone for record in records)
    if show_gone:
        header.append("GONE")
    if accounts:
        header.append("BASE URL")
    # Cells as they are: both renderers escape each one (vcctl.output.table), once.
    rows: list[list[str]] = []
    for record in records:
        label, key = record.label or "", record.key or ""
        if kind == "room":
            count = len(record.participants or [])
            row = [record.id, label, key, _when(record.created_ts)]
            row += [_when(record.last_seen_ts), str(count)]
        else:
            row = [record.id, label, record.room_id or "", key]
            row += [_when(record.created_ts), _when(record.last_seen_ts)]
        if show_gone:
            row.append("" if record.gone_ts is None else _when(record.gone_ts))
        if accounts:
            row.append(record.base_url)
        rows.append(row)
    if streams.use_rich():
        from vcctl.output.table import rich_table

        noun = "rooms" if kind == "room" else "participants"
        caption = None if rows else f"no {noun} in the inventory"
        streams.rich_console().print(rich_table(header, rows, caption=caption, wrap=header[1:2]))
        return
    if not rows:
        return  # off a terminal, nothing listed is nothing printed (scripts count lines)
    from vcctl.output.table import write_plain_table

    write_plain_table([header, *rows], streams.write_stdout)
