"""`vcctl auth logout`: remove a profile's key and token."""

import typer

from vcctl.cli.commands.auth.profiles import (
    load_config,
    message,
    note_environment_overrides,
    profile_name,
    require_profile,
)
from vcctl.cli.context import context_of
from vcctl.cli.examples import examples
from vcctl.config import profiles as profile_file
from vcctl.output.streams import warn

app = typer.Typer()


@app.command(
    "logout",
    help=(
        "Remove the API key and token of the active profile (or of --profile NAME).\n\n"
        "When the active profile loses its credentials and exactly one other profile has "
        "some, that one becomes active; otherwise vcctl says which to choose with 'vcctl auth "
        "switch NAME'."
    ),
    epilog=examples(
        ("Remove the staging profile's key and token:", "vcctl auth logout --profile staging"),
    ),
)
def logout(ctx: typer.Context) -> None:
    with profile_file.editing(load_config().path, warn=warn) as loaded:
        name = profile_name(context_of(ctx), loaded)
        require_profile(loaded, name)
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
        message(f"vcctl: profile {name!r} holds no credentials; nothing to remove")
        return
    message(f"vcctl: removed the API key and token of profile {name!r} from {loaded.path}")
    if was_active:
        _after_active_logout(name, others)


def _after_active_logout(name: str, others: list[str]) -> None:
    """The active profile has no credentials now: never leave it so without a word."""
    if len(others) == 1:
        message(f"vcctl: active profile is now {others[0]!r} (the one profile with credentials)")
        note_environment_overrides(others[0])
    elif others:
        listed = ", ".join(repr(other) for other in others)
        message(
            f"vcctl: profile {name!r} is still active, with no credentials: choose another "
            f"with 'vcctl auth switch NAME' ({listed})"
        )
    else:
        message(
            f"vcctl: profile {name!r} is still active, with no credentials, and no other profile "
            f"has any: run 'vcctl auth login --profile {name}' to save new ones"
        )
