"""What the `vcctl auth` commands share: messages, the profile file, the credentials check.

The global --profile, --base-url and --locale choose what `login` writes and `logout` removes.
"""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass

from vcctl.cli.context import CommandContext
from vcctl.config import profiles as profile_file
from vcctl.config.profiles import PROFILE_KEYS, ConfigFile
from vcctl.config.settings import SECRET_PATTERN, resolve_profile
from vcctl.errors import (
    CredentialsError,
    NotFoundError,
    UnauthorizedError,
    UsageError,
    VcctlError,
)
from vcctl.output.streams import stderr_line, warn
from vcctl.text import printable

# A room id the API cannot have (ids are 6 alphanumerics): a GET of it tells 401 from 404
# without creating or changing anything.
PROBE_ROOM_ID = "vcctl-credentials-check"


def message(text: str) -> None:
    stderr_line(printable(text))


def note_environment_overrides(profile: str) -> None:
    """Say which VCCTL_* variables win over the profile: they silently would otherwise."""
    candidates = ("VCCTL_PROFILE", *(f"VCCTL_{key.upper()}" for key in PROFILE_KEYS))
    # Empty counts as unset, except for the locale, where "" means "no prefix".
    names = [
        name
        for name in candidates
        if os.environ.get(name) or (name == "VCCTL_LOCALE" and name in os.environ)
    ]
    if names:
        them = "it" if len(names) == 1 else "them"
        message(
            f"vcctl: note: the environment overrides profile {profile!r}: {', '.join(names)} "
            f"(unset {them} to use the profile)"
        )


def load_config() -> ConfigFile:
    loaded = profile_file.load(profile_file.config_path(os.environ))
    if loaded.warnings:
        for warning in loaded.warnings:
            warn(warning)
    return loaded


def profile_name(context: CommandContext, loaded: ConfigFile) -> str:
    return resolve_profile(context.flags, os.environ, loaded).value


def read_secrets() -> tuple[str, str]:
    """Hidden prompts on a terminal; otherwise the first two lines of stdin. Never arguments."""
    if sys.stdin.isatty():
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


def check_credentials(context: CommandContext, credentials: tuple[str, str]) -> CredentialCheck:
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


def require_profile(loaded: ConfigFile, name: str) -> None:
    if name not in loaded.profiles:
        known = ", ".join(sorted(loaded.profiles)) or "none"
        raise CredentialsError(
            f"unknown profile {name!r} in {loaded.path} (profiles: {known})",
            hint="run 'vcctl auth login --profile NAME' to create it",
        )
