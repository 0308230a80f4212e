"""`vcctl participants create`: one participant, or one per row of a file."""

import typer

from vcctl import validate
from vcctl.batch import create_from_file
from vcctl.cli.commands.common import (
    ConcurrencyOption,
    DelimiterOption,
    DryRunOption,
    FromFileOption,
    IgnoreColumnsOption,
    JsonCreatedOption,
    LanguageOption,
    QuietOption,
    SkipInvalidOption,
    VideoAudioOption,
    from_file_command,
)
from vcctl.cli.commands.from_file import batch_services, reading_options
from vcctl.cli.commands.key_options import (
    KeyOption,
    RetryUnknownOption,
    create_one,
)
from vcctl.cli.commands.participants.options import RoomOption, UsernameOption
from vcctl.cli.context import context_of
from vcctl.cli.examples import examples
from vcctl.cli.references import resolve_id
from vcctl.errors import UsageError
from vcctl.output import views

app = typer.Typer()


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
