"""`vcctl auth login`: save an API key and token in a profile."""

from typing import Annotated, Any

import typer

from vcctl.cli.commands.auth.profiles import (
    check_credentials,
    message,
    note_environment_overrides,
    read_secrets,
)
from vcctl.cli.context import context_of
from vcctl.cli.examples import examples
from vcctl.config import profiles as profile_file
from vcctl.config.settings import DEFAULT_BASE_URL
from vcctl.errors import UsageError
from vcctl.output.streams import warn

app = typer.Typer()


@app.command(
    "login",
    help=(
        "Save an API key and token in a profile (hidden prompts; or two lines on stdin).\n\n"
        "Use the global --profile NAME, --base-url URL and --locale xx to choose the profile "
        "and store its base URL and locale. The first profile saved becomes the active one."
    ),
    epilog=examples(
        (
            "Save an API key and token in the default profile (asks for both, hidden):",
            "vcctl auth login",
        ),
        (
            "Save a staging profile from a password manager (key, then token, one per line):",
            'printf \'%s\\n%s\\n\' "$(pass vc/key)" "$(pass vc/token)" |',
            "  vcctl auth login --profile staging",
        ),
    ),
)
def login(
    ctx: typer.Context,
    verify: Annotated[
        bool,
        typer.Option("--verify", help="Save only if the API accepts the credentials."),
    ] = False,
    no_check: Annotated[
        bool, typer.Option("--no-check", help="Do not ask the API about the credentials.")
    ] = False,
) -> None:
    if verify and no_check:
        raise UsageError("--verify and --no-check contradict each other")
    context = context_of(ctx)
    # Resolved before any prompt: a broken config file or setting stops here, file untouched.
    # The check below uses exactly the base URL and locale later commands will use.
    settings = context.settings()
    loaded = settings.config
    name = settings.profile.value
    api_key, api_token = read_secrets()

    # Only what the user asked for on the command line is stored; the environment is not.
    changes: dict[str, Any] = {"api_key": api_key, "api_token": api_token}
    # The base URL the credentials are checked against (and, say, an emulator's keys work
    # with): saved unless it is the default, so the profile alone reaches the same server.
    if settings.base_url.source == "flag" or (
        settings.base_url.source == "env" and settings.base_url.value != DEFAULT_BASE_URL
    ):
        changes["base_url"] = settings.base_url.value
    if settings.locale.source == "flag":
        changes["locale"] = settings.locale.value

    verdict: bool | None = None
    detail = ""
    if not no_check:
        check = check_credentials(context, (api_key, api_token))
        verdict, detail = check.accepted, check.detail
        if verify and check.error is not None:
            check.error.message += f"; profile {name!r} not saved"
            check.error.hint = None
            raise check.error

    # Read again under the lock: another login may have saved a profile since.
    with profile_file.editing(loaded.path, warn=warn) as loaded:
        profiles = loaded.data.setdefault("profiles", {})
        first = not profiles
        profiles[name] = {**profiles.get(name, {}), **changes}
        if first or not loaded.active_profile:
            loaded.data["active_profile"] = name
    active = " (active)" if loaded.data.get("active_profile") == name else ""
    message(f"vcctl: saved profile {name!r}{active} to {loaded.path}")
    if detail:
        message(f"vcctl: {'' if verdict else 'warning: '}{detail}")
    if loaded.data.get("active_profile") != name:
        message(f"vcctl: run 'vcctl auth switch {name}' to make it the active profile")
    if settings.base_url.source == "env" and "base_url" in changes:
        message(f"vcctl: the profile keeps the base URL {changes['base_url']} (VCCTL_BASE_URL)")
    note_environment_overrides(name)
