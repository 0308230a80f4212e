"""`vcctl participants update`: change a participant."""

from typing import Annotated

import typer

from vcctl import validate
from vcctl.cli.commands.common import (
    ConcurrencyOption,
    DelimiterOption,
    IgnoreColumnsOption,
    JsonOption,
    LanguageOption,
    SkipInvalidOption,
    UpdateDryRunOption,
    UpdateFromFileOption,
    VideoAudioOption,
)
from vcctl.cli.commands.from_file import reading_options, update_from_file
from vcctl.cli.commands.participants.options import UsernameOption
from vcctl.cli.context import context_of
from vcctl.cli.examples import examples
from vcctl.cli.references import resolve_id
from vcctl.errors import UsageError
from vcctl.output import views

app = typer.Typer()


@app.command(
    "update",
    help=(
        "Change a participant (only the fields given are sent), or each participant a file's "
        "rows name (--from-file: only the fields that differ are sent)."
    ),
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
