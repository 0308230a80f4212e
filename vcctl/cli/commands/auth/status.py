"""`vcctl auth status`: the settings in use, and whether the API accepts the credentials."""

from typing import Annotated

import typer

from vcctl.cli.commands.auth.profiles import check_credentials, note_environment_overrides
from vcctl.cli.commands.auth.report import NOT_CHECKED, show_status
from vcctl.cli.context import context_of
from vcctl.cli.examples import examples
from vcctl.errors import CredentialsError, VcctlError
from vcctl.output import streams

app = typer.Typer()


@app.command(
    "status",
    epilog=examples(
        (
            "Show each setting, where it came from, and whether the API accepts the credentials:",
            "vcctl auth status",
        ),
        (
            "The same for another profile, as JSON, without asking the API:",
            "vcctl auth status --profile staging --no-check --json",
        ),
    ),
)
def status(
    ctx: typer.Context,
    no_check: Annotated[
        bool, typer.Option("--no-check", help="Do not ask the API about the credentials.")
    ] = False,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the same report as one JSON object: each setting's value and source, "
            "and the API's verdict (keys masked).",
        ),
    ] = False,
) -> None:
    """Show the settings in use, where each came from, and whether the API accepts them."""
    context = context_of(ctx)
    settings = context.settings()
    report = settings.as_public_dict()
    report["profile"]["in_config_file"] = settings.profile_in_file
    problem: VcctlError | None = None
    try:
        api_key, api_token = settings.credentials()
    except CredentialsError as exc:
        problem = exc
        report["api"] = {"accepted": None, "detail": exc.message}
    else:
        if no_check:
            report["api"] = {"accepted": None, "detail": NOT_CHECKED}
        else:
            check = check_credentials(context, (api_key, api_token))
            problem = check.error
            report["api"] = {"accepted": check.accepted, "detail": check.detail}

    if json_out:
        streams.print_json(report)
    else:
        show_status(report)
        # (The JSON report names each setting's source; stderr there is for a JSON error.)
        note_environment_overrides(settings.profile.value)
    # The report is the result (stdout); what went wrong is also an error, with its exit code.
    if problem is not None:
        raise problem
