"""Options and helpers shared by the command modules."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand

from vcctl.cli.sections import extended_help
from vcctl.errors import (
    Interrupted,
    MultiItemFailure,
    NotConfirmed,
    NotFoundError,
    NotSent,
    UsageError,
    VcctlError,
    raise_for_items,
)
from vcctl.halt import process_halt
from vcctl.output import formats, streams, views
from vcctl.resources import RESOURCES, Noun, from_file_help
from vcctl.text import printable

if TYPE_CHECKING:
    from vcctl.workers import Finished

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the API's JSON object as received, indented.")
]
# What --json prints differs by command: each says which of its outputs it is.
JsonPerIdOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print the API's JSON: one object for one id; JSON Lines (one object per line, in "
        "order) for several.",
    ),
]
JsonCreatedOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print the created object as the API's JSON; with --from-file, JSON Lines (one "
        "object per created row).",
    ),
]
OutputOption = Annotated[
    formats.Format | None,
    typer.Option(
        "--output", "-o", help=formats.OUTPUT_HELP, metavar="FORMAT", case_sensitive=False
    ),
]
OneOption = Annotated[
    bool,
    typer.Option(
        "--one",
        help="Print the id of the only match, or fail (exit 2) listing the matches: for $(...).",
    ),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the new id.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
ColorOption = Annotated[
    str | None,
    typer.Option("--color", help="Colour, such as '#1e90ff' or '#fff'.", metavar="'#RRGGBB'"),
]
LanguageOption = Annotated[
    str | None,
    typer.Option(
        "--language", help="Two-letter language code, such as 'fr' or 'EN'.", metavar="xx"
    ),
]
VideoAudioOption = Annotated[
    bool | None,
    typer.Option("--video-and-audio/--no-video-and-audio", help="Whether video and audio are on."),
]
FromFileOption = Annotated[
    str | None,
    typer.Option(
        "--from-file",
        help="Create one per row of a .csv, .jsonl/.ndjson file, or - for JSON Lines on stdin.",
        metavar="FILE",
    ),
]
UpdateFromFileOption = Annotated[
    str | None,
    typer.Option(
        "--from-file",
        help="Change what each row of a .csv, .jsonl/.ndjson file (or - for JSON Lines on stdin) "
        "names: an id column (an id or @KEY) and the fields to change.",
        metavar="FILE",
    ),
]
ConcurrencyOption = Annotated[
    int,
    typer.Option(
        "--concurrency", min=1, max=64, help="Requests in flight with --from-file.", metavar="N"
    ),
]
IdsConcurrencyOption = Annotated[
    int, typer.Option("--concurrency", min=1, max=64, help="Requests in flight for several ids.")
]
IgnoreMissingOption = Annotated[
    bool,
    typer.Option(
        "--ignore-missing",
        help="An id the API does not know (404) counts as deleted: nothing on stdout, exit 0.",
    ),
]
DelimiterOption = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        help="CSV delimiter: ',', ';' or 'tab' (default: the one the header row uses).",
        metavar="CHAR",
    ),
]
IgnoreColumnsOption = Annotated[
    str | None,
    typer.Option(
        "--ignore-columns",
        help="CSV columns not to read, comma-separated (columns starting with # never are).",
        metavar="NAMES",
    ),
]
SkipInvalidOption = Annotated[
    bool,
    typer.Option(
        "--skip-invalid",
        help="With --from-file: send the valid rows even when some are invalid (by default "
        "any invalid row stops the batch before anything is sent).",
    ),
]


DryRunOption = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="With --from-file: validate and show per row what a run would send, nothing sent "
        "(a keyed row: the GET of what its key names, or ? when an earlier create's outcome is "
        "unknown).",
    ),
]
UpdateDryRunOption = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="With --from-file: GET each resource and show its changes as field: old -> new; "
        "nothing is changed.",
    ),
]


def from_file_command(noun: Noun) -> type[TyperCommand]:
    """The command class of `NOUN create`: its help ends with the columns `--from-file` takes.

    They are described by vcctl.resources, so the help, the man page and the batch reader
    agree."""
    return extended_help(lambda: from_file_help(noun))


def confirm(question: str, *, yes: bool) -> None:
    """Ask on a terminal; off a terminal refuse unless --yes. Raises UsageError (exit 2)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(
            "refusing to delete without confirmation: standard input is not a terminal",
            hint="pass --yes to delete without asking",
        )
    sys.stderr.write(f"{question} [y/N]: ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if answer.strip().lower() not in ("y", "yes"):
        raise NotConfirmed("not confirmed; nothing was deleted")


def confirm_delete(
    noun: str, ids: Sequence[str], *, yes: bool, look_up: Callable[[str], Any] | None
) -> None:
    """Ask before deleting `ids` of `noun` (rooms, participants): on a terminal the question
    shows what each is, read with `look_up` (one GET each); off a terminal refuse unless --yes.

    `look_up` is None when the question must not send anything."""
    if yes:
        return
    if not sys.stdin.isatty() or look_up is None:
        confirm(f"Delete {describe_ids(ids, noun.removesuffix('s'))}?", yes=False)
        return
    confirm(delete_question(noun, [(item, _look(look_up, item)) for item in ids]), yes=False)


def _look(look_up: Callable[[str], Any], item: str) -> Any:
    try:
        return look_up(item)
    except VcctlError as exc:  # the delete itself will report it; the question says so
        return exc


def delete_question(noun: str, found: Sequence[tuple[str, Any]]) -> str:
    """'Delete room P8HtyN "Weekly sync" and its 3 participants?', or one line per item."""
    resource = RESOURCES[noun]  # type: ignore[index]

    def what(item: str, answer: Any) -> str:
        if not isinstance(answer, dict):
            reason = getattr(answer, "message", "no answer")
            return f"{resource.singular} {printable(item)} (cannot read it: {printable(reason)})"
        text = f"{resource.singular} {printable(item)}"
        label = resource.label(answer)
        if label:
            text += f' "{printable(label)}"'
        participants = answer.get("participants")
        if noun == "rooms" and isinstance(participants, list):
            count = len(participants)
            text += f" and its {count} participant{'' if count == 1 else 's'}"
        return text

    if len(found) == 1:
        return f"Delete {what(*found[0])}?"
    lines = "".join(f"\n  {what(item, answer)}" for item, answer in found)
    return f"Delete these {len(found)} {noun}?{lines}\n"


def describe_ids(ids: Sequence[str], noun: str) -> str:
    """'room X', or '3 rooms (X, Y, Z)', for confirmation questions."""
    if len(ids) == 1:
        return f"{noun} {ids[0]}"
    return f"{len(ids)} {noun}s ({', '.join(ids)})"


class Missing:
    """What a delete with --ignore-missing gives for an id the API does not know (404)."""


MISSING = Missing()


def ignoring_missing(action: Callable[[str], Any]) -> Callable[[str], Any]:
    """`action`, with a 404 answered by MISSING instead of an error (--ignore-missing)."""

    def tolerant(item: str) -> Any:
        try:
            return action(item)
        except NotFoundError:
            return MISSING

    return tolerant


def deleting(action: Callable[[str], Any]) -> Callable[[str], Any]:
    """`action` (a delete), answering `{"id": ID, "deleted": true}` when the API's answer has no
    body (204, or a 404 after a lost first answer): --json prints a line for every id deleted."""

    def delete(item: str) -> Any:
        answer = action(item)
        return {"id": item, "deleted": True} if answer is None else answer

    return delete


def run_many(
    items: Sequence[str],
    action: Callable[[str], Any],
    *,
    json_mode: bool,
    render: Callable[[str, Any], None],
    separate: bool = False,
    concurrency: int = 1,
    stop: Callable[[], None] | None = None,
    missing: Callable[[str], None] | None = None,
    renderer: formats.Renderer | None = None,
) -> None:
    """Apply `action` to each id on up to `concurrency` workers of the engine
    (`vcctl.workers`); report in input order.

    One id behaves like a single command. Several ids print JSON Lines with --json; each
    failure is reported on its own line and the others go on; the exit code follows the
    multi-item rule (`errors.multi_item_exit_code`). A result of MISSING (see
    `ignoring_missing`) prints nothing on stdout and calls `missing`; it counts as done.
    A `renderer` (-o) is handed each result instead of --json or `render`.
    A stop signal sends nothing more (the rate limiter watches the run's halt), calls `stop`,
    reports every id answered, names those still under way after a second signal as of unknown
    outcome, and ends with Interrupted (130, 143, 129).
    """
    if len(items) == 1:
        result = action(items[0])
        if isinstance(result, Missing):
            if missing is not None:
                missing(items[0])
        elif renderer is not None:
            renderer.add(result)
            renderer.end()
        elif json_mode:
            if result is not None:
                streams.print_json(result)
        else:
            render(items[0], result)
        return
    # Imported here, not at the top: a run with one id (the common case) loads no engine.
    from vcctl.workers import run_in_order

    failure_codes: list[int] = []
    rendered = False
    answered = 0

    def report(done: Finished[str, Any]) -> None:
        nonlocal rendered, answered
        item, problem = done.item, done.error
        if isinstance(problem, NotSent):
            return  # the run is stopping: this id was never sent
        if problem is not None:
            if isinstance(problem, (UsageError, MultiItemFailure)) or not isinstance(
                problem, VcctlError
            ):
                raise problem
            answered += 1
            streams.print_error(problem, json_mode=json_mode, subject=item)
            failure_codes.append(problem.exit_code)
            return
        answered += 1
        result = done.value
        if isinstance(result, Missing):
            if missing is not None:
                missing(item)
        elif renderer is not None:
            renderer.add(result)
        elif json_mode:
            if result is not None:
                streams.print_json_line(result)
        else:
            if separate and rendered:
                streams.write_stdout("\n")  # one record after another, as `kubectl describe`
            render(item, result)
            rendered = True

    halt = process_halt()

    def stopping(under_way: int) -> None:
        if stop is not None:
            stop()
        if under_way and not halt.repeated:
            views.stopping(halt.signum, under_way, json_mode=json_mode)

    ended = run_in_order(
        items,
        action,
        report,
        workers=max(1, min(concurrency, len(items))),
        stopping=stopping,
        name="vcctl-ids",
    )
    if renderer is not None:
        renderer.end()  # what was answered, also when some failed or the run was stopped
    if ended is not None:
        for item in ended.outcome_unknown:
            streams.print_error(
                VcctlError(
                    "outcome unknown: sent, but vcctl stopped waiting for the answer",
                    hint="check it before sending it again",
                ),
                json_mode=json_mode,
                subject=item,
            )
        unknown = len(ended.outcome_unknown)
        raise Interrupted(
            f"interrupted: {answered} of {len(items)} ids answered"
            + (f", {unknown} of unknown outcome" if unknown else "")
            + "; the others were not sent",
            work_abandoned=ended.abandoned,
        )
    raise_for_items(failure_codes, succeeded=len(items) - len(failure_codes), what="ids")
