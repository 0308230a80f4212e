"""`vcctl auth login|status|list|logout|switch`: profiles in the config file.

The global --profile, --base-url and --locale choose what `login` writes and `logout` removes.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vcctl.cli.examples import examples
from vcctl.errors import VcctlError

if TYPE_CHECKING:
    from vcctl.cli.context import CommandContext
    from vcctl.config.profiles import ConfigFile

app = typer.Typer(
    help="Log in, inspect and switch profiles (credentials in the config file).",
    no_args_is_help=True,
)

# A room id the API cannot have (ids are 6 alphanumerics): a GET of it tells 401 from 404
# without creating or changing anything.
PROBE_ROOM_ID = "vcctl-credentials-check"


def _message(text: str) -> None:
    from vcctl.output.streams import stderr_line
    from vcctl.text import printable

    stderr_line(printable(text))


def _warn(text: str) -> None:
    from vcctl.output.streams import warn

    warn(text)


def _note_environment_overrides(profile: str) -> None:
    """Say which VCCTL_* variables win over the profile: they silently would otherwise."""
    from vcctl.config.profiles import PROFILE_KEYS

    candidates = ("VCCTL_PROFILE", *(f"VCCTL_{key.upper()}" for key in PROFILE_KEYS))
    # Empty counts as unset, except for the locale, where "" means "no prefix".
    names = [
        name
        for name in candidates
        if os.environ.get(name) or (name == "VCCTL_LOCALE" and name in os.environ)
    ]
    if names:
        them = "it" if len(names) == 1 else "them"
        _message(
            f"vcctl: note: the environment overrides profile {profile!r}: {', '.join(names)} "
            f"(unset {them} to use the profile)"
        )


def _load_config() -> ConfigFile:
    from vcctl.config import profiles as profile_file

    loaded = profile_file.load(profile_file.config_path(os.environ))
    if loaded.warnings:
        from vcctl.output.streams import warn

        for warning in loaded.warnings:
            warn(warning)
    return loaded


def _profile_name(context: CommandContext, loaded: ConfigFile) -> str:
    from vcctl.config.settings import resolve_profile

    return resolve_profile(context.flags, os.environ, loaded).value


def _read_secrets() -> tuple[str, str]:
    """Hidden prompts on a terminal; otherwise the first two lines of stdin. Never arguments."""
    from vcctl.config.settings import SECRET_PATTERN
    from vcctl.errors import UsageError

    if sys.stdin.isatty():
        import getpass

        try:
            api_key = getpass.getpass("API key: ", stream=sys.stderr).strip()
            api_token = getpass.getpass("API token: ", stream=sys.stderr).strip()
        except EOFError:  # Ctrl-D at a prompt: nothing given
            sys.stderr.write("\n")
            api_key = api_token = ""
    else:
        api_key = sys.stdin.readline().strip()
        api_token = sys.stdin.readline().strip()
    for label, value in (("API key", api_key), ("API token", api_token)):
        if not value:
            raise UsageError(
                f"no {label} given",
                hint="on a terminal vcctl asks for them; otherwise send the key on the first "
                "line of standard input and the token on the second",
            )
        if not SECRET_PATTERN.match(value):
            raise UsageError(f"the {label} contains spaces or control characters")
    return api_key, api_token


@dataclass
class CredentialCheck:
    accepted: bool | None  # None: the API's answer did not tell
    detail: str
    error: VcctlError | None = None  # why they were not accepted, with its exit code


def _check_credentials(context: CommandContext, credentials: tuple[str, str]) -> CredentialCheck:
    from vcctl.errors import NotFoundError, UnauthorizedError

    settings = context.settings()
    # A quick check: it must not hold up a login for long when the API is slow or down.
    client = context.client(
        credentials=credentials,
        timeout=min(settings.timeout.value, 10.0),
        attempts=min(settings.max_attempts.value, 2),
    )
    try:
        context.api_over(client).get_room(PROBE_ROOM_ID)
    except NotFoundError:
        return CredentialCheck(True, "the API accepts these credentials")
    except UnauthorizedError as exc:
        exc.message = f"the API rejects these credentials ({exc.message})"
        return CredentialCheck(False, exc.message, exc)
    except VcctlError as exc:
        exc.message = f"could not check the credentials: {exc.message}"
        return CredentialCheck(None, exc.message, exc)
    finally:
        client.close()
    return CredentialCheck(True, "the API accepts these credentials")


@app.command(
    "login",
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
    """Save an API key and token in a profile (hidden prompts; or two lines on stdin).

    Use the global --profile NAME, --base-url URL and --locale xx to choose the profile and
    store its base URL and locale. The first profile saved becomes the active one.
    """
    from vcctl.cli.context import context_of
    from vcctl.config import profiles as profile_file
    from vcctl.config.settings import DEFAULT_BASE_URL
    from vcctl.errors import UsageError

    if verify and no_check:
        raise UsageError("--verify and --no-check contradict each other")
    context = context_of(ctx)
    # Resolved before any prompt: a broken config file or setting stops here, file untouched.
    # The check below uses exactly the base URL and locale later commands will use.
    settings = context.settings()
    loaded = settings.config
    name = settings.profile.value
    api_key, api_token = _read_secrets()

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
        check = _check_credentials(context, (api_key, api_token))
        verdict, detail = check.accepted, check.detail
        if verify and check.error is not None:
            check.error.message += f"; profile {name!r} not saved"
            check.error.hint = None
            raise check.error

    # Read again under the lock: another login may have saved a profile since.
    with profile_file.editing(loaded.path, warn=_warn) as loaded:
        profiles = loaded.data.setdefault("profiles", {})
        first = not profiles
        profiles[name] = {**profiles.get(name, {}), **changes}
        if first or not loaded.active_profile:
            loaded.data["active_profile"] = name
    active = " (active)" if loaded.data.get("active_profile") == name else ""
    _message(f"vcctl: saved profile {name!r}{active} to {loaded.path}")
    if detail:
        _message(f"vcctl: {'' if verdict else 'warning: '}{detail}")
    if loaded.data.get("active_profile") != name:
        _message(f"vcctl: run 'vcctl auth switch {name}' to make it the active profile")
    if settings.base_url.source == "env" and "base_url" in changes:
        _message(f"vcctl: the profile keeps the base URL {changes['base_url']} (VCCTL_BASE_URL)")
    _note_environment_overrides(name)


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
    from vcctl.cli.commands.auth_report import show_status
    from vcctl.cli.context import context_of
    from vcctl.errors import CredentialsError
    from vcctl.output import streams

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
            report["api"] = {"accepted": None, "detail": "not checked (--no-check)"}
        else:
            check = _check_credentials(context, (api_key, api_token))
            problem = check.error
            report["api"] = {"accepted": check.accepted, "detail": check.detail}

    if json_out:
        streams.print_json(report)
    else:
        show_status(report)
        # (The JSON report names each setting's source; stderr there is for a JSON error.)
        _note_environment_overrides(settings.profile.value)
    # The report is the result (stdout); what went wrong is also an error, with its exit code.
    if problem is not None:
        raise problem


@app.command(
    "list",
    epilog=examples(
        ("List the profiles (* marks the active one; keys masked):", "vcctl auth list"),
    ),
)
def list_profiles(
    json_out: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the profiles as a JSON array, one object per profile (keys masked).",
        ),
    ] = False,
) -> None:
    """List the profiles of the config file (secrets masked)."""
    from vcctl.cli.commands.auth_report import show_profiles
    from vcctl.output import streams
    from vcctl.text import mask

    loaded = _load_config()
    active = loaded.active_profile
    entries = [
        {
            "name": name,
            "active": name == active,
            "base_url": profile.get("base_url"),
            "locale": profile.get("locale"),
            "api_key": mask(profile.get("api_key")),
            "api_token": mask(profile.get("api_token")),
        }
        for name, profile in loaded.profiles.items()
    ]
    if json_out:
        streams.print_json(entries)
        return
    if not entries:
        _message(f"vcctl: no profiles in {loaded.path}; run 'vcctl auth login'")
        return
    show_profiles(entries)


def _require_profile(loaded: ConfigFile, name: str) -> None:
    from vcctl.errors import CredentialsError

    if name not in loaded.profiles:
        known = ", ".join(sorted(loaded.profiles)) or "none"
        raise CredentialsError(
            f"unknown profile {name!r} in {loaded.path} (profiles: {known})",
            hint="run 'vcctl auth login --profile NAME' to create it",
        )


@app.command(
    "logout",
    epilog=examples(
        ("Remove the staging profile's key and token:", "vcctl auth logout --profile staging"),
    ),
)
def logout(ctx: typer.Context) -> None:
    """Remove the API key and token of the active profile (or of --profile NAME).

    When the active profile loses its credentials and exactly one other profile has some, that
    one becomes active; otherwise vcctl says which to choose with 'vcctl auth switch NAME'.
    """
    from vcctl.cli.context import context_of
    from vcctl.config import profiles as profile_file

    with profile_file.editing(_load_config().path, warn=_warn) as loaded:
        name = _profile_name(context_of(ctx), loaded)
        _require_profile(loaded, name)
        profile = loaded.profiles[name]
        removed = [key for key in ("api_key", "api_token") if profile.pop(key, None) is not None]
        was_active = loaded.active_profile == name
        others = [
            other
            for other, values in loaded.profiles.items()
            if other != name and values.get("api_key") and values.get("api_token")
        ]
        if removed and was_active and len(others) == 1:
            loaded.data["active_profile"] = others[0]
    if not removed:
        _message(f"vcctl: profile {name!r} holds no credentials; nothing to remove")
        return
    _message(f"vcctl: removed the API key and token of profile {name!r} from {loaded.path}")
    if was_active:
        _after_active_logout(name, others)


def _after_active_logout(name: str, others: list[str]) -> None:
    """The active profile has no credentials now: never leave it so without a word."""
    if len(others) == 1:
        _message(f"vcctl: active profile is now {others[0]!r} (the one profile with credentials)")
        _note_environment_overrides(others[0])
    elif others:
        listed = ", ".join(repr(other) for other in others)
        _message(
            f"vcctl: profile {name!r} is still active, with no credentials: choose another "
            f"with 'vcctl auth switch NAME' ({listed})"
        )
    else:
        _message(
            f"vcctl: profile {name!r} is still active, with no credentials, and no other profile "
            f"has any: run 'vcctl auth login --profile {name}' to save new ones"
        )


@app.command(
    "switch",
    epilog=examples(
        ("Make staging the active profile:", "vcctl auth switch staging"),
    ),
)
def switch(name: Annotated[str, typer.Argument(help="The profile to make active.")]) -> None:
    """Make another profile of the config file the active one."""
    from vcctl.config import profiles as profile_file

    with profile_file.editing(_load_config().path, warn=_warn) as loaded:
        _require_profile(loaded, name)
        loaded.data["active_profile"] = name
    _message(f"vcctl: active profile is now {name!r}")
    _note_environment_overrides(name)
