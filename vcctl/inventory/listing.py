"""`rooms list` and `participants list` without --room: what the inventory holds, optionally
refreshed from the API, shown as a table (terminal), plain text, JSON Lines or ids."""

from __future__ import annotations

import contextlib
import itertools
import operator
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vcctl.errors import (
    Interrupted,
    NotFoundError,
    NotSent,
    UsageError,
    VcctlError,
    raise_for_items,
)
from vcctl.inventory.records import ListedColumn, Record
from vcctl.output import streams
from vcctl.output.formats import Renderer
from vcctl.output.streams import print_error
from vcctl.output.table import rich_table, write_plain_columns
from vcctl.resources import RESOURCE_OF_KIND, Kind
from vcctl.text import printable
from vcctl.workers import Finished, run_in_order

if TYPE_CHECKING:
    from vcctl.http.api import Api
    from vcctl.inventory.recorder import Recorder


# A listing's columns by name (`records.ListedColumn`): each the values of every listed record.
Columns = dict[ListedColumn, Sequence[Any]]
# What a table shows of each kind (plus gone and base_url when those are listed).
TABLE_COLUMNS: dict[Kind, tuple[ListedColumn, ...]] = {
    "room": ("id", "label", "key", "created", "last_seen"),
    "participant": ("id", "label", "room_id", "key", "created", "last_seen"),
}


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
    account = None if filters.all_accounts else recorder.account

    # The filters as the store takes them, for both shapes of a listing.
    where: dict[str, Any] = {
        "name_glob": filters.name_glob,
        "created_before": before,
        "created_after": after,
        "include_gone": filters.include_gone,
        "room_id": filters.room_id,
    }

    def matching() -> list[Record]:
        return inventory.list_records(account, kind, **where)

    def listed(names: list[ListedColumn]) -> Columns:
        rows = inventory.list_rows(account, kind, names, **where)
        values = list(zip(*rows, strict=True)) if rows else [()] * len(names)
        return dict(zip(names, values, strict=True))

    refreshed: Refreshed | None = None
    records = matching() if refresh or one or json_mode or output is not None else None
    if refresh and records:
        refreshed = _refresh(api_for, kind, records, concurrency)
        records = matching()
    if one:
        streams.write_stdout(exactly_one(kind, records or []) + "\n")
        return
    if output is not None:
        items = ({**record.data, "vcctl": record.local_facts()} for record in records or [])
        Renderer(output, RESOURCE_OF_KIND[kind]).add_all(items)
    elif json_mode:
        _show_json(records or [])
    else:
        # The table and the ids come from columns of plain rows, not Records (`list_rows`).
        if quiet:
            _show_ids(listed(["id"])["id"])
        else:
            counts = inventory.participant_counts(account) if kind == "room" else {}
            names = list(TABLE_COLUMNS[kind])
            if filters.include_gone:
                names.append("gone")
            if filters.all_accounts or counts:
                names.append("base_url")  # counts are by base URL and room id
            _show_table(kind, listed(names), counts, accounts=filters.all_accounts)
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


class _Minutes(dict[float, str]):
    """Minutes since the epoch -> local time to the minute, each formatted once: a listing's
    times share few minutes, and a column of them is two maps, with no Python step a row."""

    def __missing__(self, minute: float) -> str:
        text = self[minute] = time.strftime("%Y-%m-%d %H:%M", time.localtime(minute * 60))
        return text

    def column(self, moments: Iterable[float]) -> list[str]:
        return list(map(self.__getitem__, map(operator.floordiv, moments, itertools.repeat(60))))


_MINUTES = _Minutes()


def _safe(text: str) -> str:
    return text if text.isprintable() else printable(text)


def _show_ids(ids: Sequence[str]) -> None:
    streams.write_stdout("".join([f"{_safe(id)}\n" for id in ids]))


def _show_json(records: list[Record]) -> None:
    lines = [
        streams.json_result_line({**record.data, "vcctl": record.local_facts()})
        for record in records
    ]
    streams.write_stdout("".join(lines))


def _show_table(
    kind: Kind, columns: Columns, counts: dict[tuple[str, str], int], *, accounts: bool
) -> None:
    """The table of the listed `columns` (rooms: with their participant `counts`, by base URL
    and id), built column by column: 10,000 rows are a few maps, not 10,000 Python steps."""
    ids = columns["id"]
    when = _MINUTES.column
    if kind == "room":
        header = ["ID", "NAME", "KEY", "CREATED", "LAST SEEN", "PARTICIPANTS"]
        if counts:
            rooms = zip(columns["base_url"], ids, strict=True)
            participants = list(map(str, map(counts.get, rooms, itertools.repeat(0))))
        else:
            participants = ["0"] * len(ids)
        cells = [ids, columns["label"], columns["key"], when(columns["created"])]
        cells += [when(columns["last_seen"]), participants]
    else:
        header = ["ID", "USERNAME", "ROOM", "KEY", "CREATED", "LAST SEEN"]
        cells = [ids, columns["label"], columns["room_id"], columns["key"]]
        cells += [when(columns["created"]), when(columns["last_seen"])]
    gone = columns.get("gone", ())
    if gone.count(None) < len(gone):  # some are gone
        header.append("GONE")
        cells.append(["" if moment is None else _MINUTES[moment // 60] for moment in gone])
    if accounts:
        header.append("BASE URL")
        cells.append(columns["base_url"])
    # Cells as they are: both renderers escape each one (vcctl.output.table), once.
    if streams.use_rich():
        noun = "rooms" if kind == "room" else "participants"
        caption = None if ids else f"no {noun} in the inventory"
        rows = list(zip(*cells, strict=True))
        streams.rich_console().print(rich_table(header, rows, caption=caption, wrap=header[1:2]))
        return
    if not ids:
        return  # off a terminal, nothing listed is nothing printed (scripts count lines)
    write_plain_columns(header, cells, streams.write_stdout)
