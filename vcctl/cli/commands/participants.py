"""`vcctl participants ...`: create, get, list, update and delete participants."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from vcctl.cli.commands.common import (
    ConcurrencyOption,
    DelimiterOption,
    DryRunOption,
    FromFileOption,
    IdsConcurrencyOption,
    IgnoreColumnsOption,
    IgnoreMissingOption,
    JsonCreatedOption,
    JsonOption,
    JsonPerIdOption,
    LanguageOption,
    OneOption,
    QuietOption,
    SkipInvalidOption,
    UpdateDryRunOption,
    UpdateFromFileOption,
    VideoAudioOption,
    YesOption,
    confirm_delete,
    deleting,
    from_file_command,
    ignoring_missing,
    reading_options,
    run_many,
    update_from_file,
)
from vcctl.cli.commands.key_options import (
    KeyOption,
    RetryUnknownOption,
    create_one,
    ids_from_arguments,
)
from vcctl.cli.examples import examples
from vcctl.errors import UsageError
from vcctl.text import printable

app = typer.Typer(
    help="Create, list, inspect, change and delete participants.", no_args_is_help=True
)

ParticipantIds = Annotated[
    list[str], typer.Argument(help="One or more participant ids.", metavar="PARTICIPANT_ID...")
]
DeleteParticipantIds = Annotated[
    list[str],
    typer.Argument(
        help="One or more participant ids; - reads them from standard input.",
        metavar="PARTICIPANT_ID...",
    ),
]
RoomOption = Annotated[
    str | None, typer.Option("--room", help="Id of the room.", metavar="ROOM_ID")
]
UsernameOption = Annotated[
    str | None, typer.Option("--username", help="Name shown in the meeting.", metavar="NAME")
]


@app.command(
    "create",
    cls=from_file_command("participants"),
    epilog=examples(
        (
            "Add a participant to a room and keep its id:",
            "PARTICIPANT=$(vcctl participants create --room abc123 \\",
            '  --username "Grace Hopper" --language en -q)',
        ),
        (
            "Create participants from a CSV file, checking it first:",
            "vcctl participants create --from-file attendees.csv --room abc123 --dry-run",
        ),
    ),
)
def create(
    ctx: typer.Context,
    room: RoomOption = None,
    username: UsernameOption = None,
    language: LanguageOption = None,
    video_and_audio: VideoAudioOption = None,
    key: KeyOption = None,
    retry_unknown: RetryUnknownOption = False,
    from_file: FromFileOption = None,
    concurrency: ConcurrencyOption = 8,
    dry_run: DryRunOption = False,
    delimiter: DelimiterOption = None,
    ignore_columns: IgnoreColumnsOption = None,
    skip_invalid: SkipInvalidOption = False,
    quiet: QuietOption = False,
    json_out: JsonCreatedOption = False,
) -> None:
    """Add a participant to a room (or one per row with --from-file)."""
    from vcctl import validate
    from vcctl.cli.context import context_of
    from vcctl.cli.references import resolve_id
    from vcctl.output import views

    if room is not None:
        room = resolve_id(context_of(ctx), room, "room", "--room")
    if from_file is not None:
        if username is not None:
            raise UsageError("--from-file takes usernames from the file: drop --username")
        if key is not None:
            raise UsageError("--from-file takes keys from the file's key column: drop --key")
        defaults = validate.participant_fields(
            room_id=room,
            username=None,
            language_value=language,
            video_and_audio_on=video_and_audio,
        )
        from vcctl.batch import create_from_file
        from vcctl.cli.context import batch_services

        create_from_file(
            batch_services(context_of(ctx)),
            "participants",
            from_file,
            defaults=defaults,
            concurrency=concurrency,
            dry_run=dry_run,
            json_mode=json_out,
            quiet=quiet,
            retry_unknown=retry_unknown,
            reading=reading_options(delimiter, ignore_columns, skip_invalid),
        )
        return
    if dry_run:
        raise UsageError("--dry-run goes with --from-file")
    if room is None:
        raise UsageError("missing option --room")
    if username is None:
        raise UsageError("missing option --username")
    fields = validate.participant_fields(
        room_id=room,
        username=username,
        language_value=language,
        video_and_audio_on=video_and_audio,
    )
    create_one(
        context_of(ctx),
        "participant",
        fields,
        key=key,
        retry_unknown=retry_unknown,
        json_mode=json_out,
        quiet=quiet,
        view=views.show_participant,
    )


@app.command(
    "get",
    epilog=examples(
        ("Show two participants:", "vcctl participants get xyz789 uvw456"),
    ),
)
def get(
    ctx: typer.Context,
    participant_ids: ParticipantIds,
    concurrency: IdsConcurrencyOption = 8,
    json_out: JsonPerIdOption = False,
) -> None:
    """Show participants."""
    from vcctl.cli.context import context_of
    from vcctl.cli.references import resolve_ids

    context = context_of(ctx)
    participant_ids = resolve_ids(context, participant_ids, "participant", "PARTICIPANT_ID")
    api = context.api(pool_size=concurrency)

    def render(_: str, participant: Any) -> None:
        from vcctl.output import views  # not needed for --json

        views.show_participant(participant)

    run_many(
        participant_ids,
        api.get_participant,
        json_mode=json_out,
        render=render,
        separate=True,
        concurrency=concurrency,
        stop=context.limiter().close,
    )


@app.command(
    "list",
    epilog=examples(
        ("List the participants vcctl created or saw:", "vcctl participants list"),
        (
            "Print the ids of those whose video and audio are on:",
            "vcctl participants list --room abc123 --json |",
            "  jq -r 'select(.video_and_audio_on) | .id'",
        ),
    ),
)
def list_(
    ctx: typer.Context,
    room: Annotated[
        str | None,
        typer.Option("--room", help="Ask the API for this room's participants.", metavar="ROOM_ID"),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="Without --room: only usernames matching this shell pattern.",
            metavar="GLOB",
        ),
    ] = None,
    created_before: Annotated[
        str | None,
        typer.Option(
            "--created-before",
            help="Without --room: created before WHEN (30d, 2024-05-01; age units s m h d w).",
            metavar="WHEN",
        ),
    ] = None,
    created_after: Annotated[
        str | None,
        typer.Option("--created-after", help="Without --room: created after WHEN.", metavar="WHEN"),
    ] = None,
    include_gone: Annotated[
        bool, typer.Option("--include-gone", help="Without --room: also those deleted or missing.")
    ] = False,
    all_accounts: Annotated[
        bool, typer.Option("--all-accounts", help="Without --room: those of every account.")
    ] = False,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print JSON Lines, one participant per line: as the API lists them with --room, "
            "as last seen plus a vcctl member without it.",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the ids.")] = False,
    one: OneOption = False,
) -> None:
    """List participants: a room's from the API (--room), or those in the local inventory.

    The API has no list call: with --room alone the room's GET is used;
    without it, or with --room and an inventory filter (--name,
    --created-before/--created-after, --include-gone), the participants
    vcctl created or saw are listed, newest first, and no request is sent.
    """
    from vcctl.cli.context import context_of
    from vcctl.cli.references import resolve_id
    from vcctl.errors import InvalidResponseError
    from vcctl.output import streams, views

    context = context_of(ctx)
    if room is not None and all_accounts:
        # A room id belongs to one account: every account's inventory has no more of it.
        raise UsageError("--all-accounts: all accounts list the inventory: drop --room")
    filtered = bool(name or created_before or created_after or include_gone)
    if room is None or filtered:
        from vcctl.inventory.listing import Filters, list_inventory

        room_id = None if room is None else resolve_id(context, room, "room", "--room")
        list_inventory(
            context.inventory(),
            lambda workers: context.api(pool_size=workers),
            "participant",
            Filters(name, created_before, created_after, include_gone, all_accounts, room_id),
            json_mode=json_out,
            quiet=quiet,
            one=one,
        )
        return
    room = resolve_id(context, room, "room", "--room")
    data = context.api().get_room(room)
    if not isinstance(data, dict):
        raise InvalidResponseError("the API's answer for the room is not a JSON object")
    # An API may leave the key out of an empty room's answer.
    participants = data.get("participants", [])
    if not isinstance(participants, list):
        raise InvalidResponseError("the room's participants are not a list")
    if one:
        found = [p for p in participants if isinstance(p, dict)]
        streams.write_stdout(_only_one(found) + "\n")
    elif quiet:
        streams.write_stdout(
            "".join(f"{printable(str(p.get('id')))}\n" for p in participants if isinstance(p, dict))
        )
    elif json_out:
        # A list is JSON Lines with or without --room: one rule for `jq` and `while read`.
        streams.write_stdout("".join(streams.json_result_line(p) for p in participants))
    else:
        views.show_participants(participants)


@app.command(
    "update",
    epilog=examples(
        (
            "Rename a participant and turn their video and audio off:",
            'vcctl participants update xyz789 --username "Ada Lovelace" \\',
            "  --no-video-and-audio",
        ),
        (
            "Fix usernames from a CSV file of changes (id,username; id may be @KEY):",
            "vcctl participants update --from-file fixes.csv --room @6E --dry-run",
        ),
    ),
)
def update(
    ctx: typer.Context,
    participant_id: Annotated[
        str | None,
        typer.Argument(help="The participant to change (id or @KEY).", metavar="PARTICIPANT_ID"),
    ] = None,
    room: Annotated[
        str | None,
        typer.Option(
            "--room",
            help="Move to this room; with --from-file, the room whose participant keys the "
            "rows' @KEY name.",
            metavar="ROOM_ID",
        ),
    ] = None,
    username: UsernameOption = None,
    language: LanguageOption = None,
    video_and_audio: VideoAudioOption = None,
    from_file: UpdateFromFileOption = None,
    concurrency: ConcurrencyOption = 8,
    dry_run: UpdateDryRunOption = False,
    delimiter: DelimiterOption = None,
    ignore_columns: IgnoreColumnsOption = None,
    skip_invalid: SkipInvalidOption = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the ids.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Change a participant (only the fields given are sent), or each participant a file's
    rows name (--from-file: only the fields that differ are sent)."""
    from vcctl import validate
    from vcctl.cli.context import context_of
    from vcctl.cli.references import resolve_id
    from vcctl.output import views

    context = context_of(ctx)
    if from_file is not None:
        if participant_id is not None or username is not None or language is not None:
            raise UsageError("--from-file takes the participants and fields from the file")
        if video_and_audio is not None:
            raise UsageError("--from-file takes the fields from the file")
        update_from_file(
            context,
            "participants",
            from_file,
            concurrency=concurrency,
            dry_run=dry_run,
            json_mode=json_out,
            quiet=quiet,
            reading=reading_options(delimiter, ignore_columns, skip_invalid),
            room_id=resolve_id(context, room, "room", "--room") if room else None,
        )
        return
    if dry_run:
        raise UsageError("--dry-run goes with --from-file")
    if participant_id is None:
        raise UsageError("missing argument PARTICIPANT_ID (or --from-file)")
    participant_id = resolve_id(context, participant_id, "participant", "PARTICIPANT_ID")
    if room is not None:
        room = resolve_id(context, room, "room", "--room")
    fields = validate.participant_fields(
        room_id=room,
        username=username,
        language_value=language,
        video_and_audio_on=video_and_audio,
    )
    if not fields:
        raise UsageError(
            "nothing to update: give --room, --username, --language or --[no-]video-and-audio"
        )
    participant = context.api().update_participant(participant_id, fields)
    views.emit(participant, json_mode=json_out, view=views.show_participant)


@app.command(
    "delete",
    epilog=examples(
        (
            "Delete a participant from a script, without the question:",
            "vcctl participants delete xyz789 --yes",
        ),
    ),
)
def delete(
    ctx: typer.Context,
    participant_ids: DeleteParticipantIds,
    yes: YesOption = False,
    ignore_missing: IgnoreMissingOption = False,
    concurrency: IdsConcurrencyOption = 8,
    json_out: JsonPerIdOption = False,
) -> None:
    """Delete participants. Asks first unless --yes."""
    from vcctl.cli.context import context_of
    from vcctl.output import views

    participant_ids = ids_from_arguments(participant_ids, "PARTICIPANT_ID")
    if not participant_ids:
        return  # `-` with nothing on standard input: nothing to delete
    from vcctl.cli.references import resolve_ids

    participant_ids = resolve_ids(context_of(ctx), participant_ids, "participant", "PARTICIPANT_ID")
    # Off a terminal the refusal comes before anything else can fail: always exit 2.
    api = None if yes or not sys.stdin.isatty() else context_of(ctx).api(pool_size=concurrency)
    confirm_delete(
        "participants", participant_ids, yes=yes, look_up=api.get_participant if api else None
    )
    context = context_of(ctx)
    api = api or context.api(pool_size=concurrency)

    def render(participant_id: str, participant: Any) -> None:
        name = participant.get("username") if isinstance(participant, dict) else None
        views.show_message(f"deleted participant {participant_id}" + (f" ({name})" if name else ""))

    run_many(
        participant_ids,
        ignoring_missing(deleting(api.delete_participant))
        if ignore_missing
        else deleting(api.delete_participant),
        json_mode=json_out,
        render=render,
        concurrency=concurrency,
        stop=context.limiter().close,
        missing=views.note_missing("participant"),
    )


def _only_one(participants: list[dict[str, Any]]) -> str:
    """`--one` over a room's participants as the API listed them."""
    if len(participants) == 1:
        return str(participants[0].get("id"))
    if not participants:
        raise UsageError("--one: the room has no participants")
    shown = ", ".join(
        printable(f'{p.get("id")} ("{p.get("username")}")') for p in participants[:10]
    )
    raise UsageError(
        f"--one: the room has {len(participants)} participants: {shown}",
        hint="add --name GLOB to pick one from the inventory",
    )
