"""`vcctl auth switch`: make another profile the active one."""

import os
from typing import Annotated

import typer

from vcctl.cli.commands.auth.profiles import (
    load_config,
    message,
    note_environment_overrides,
    require_profile,
)
from vcctl.cli.examples import examples
from vcctl.config import profiles as profile_file
from vcctl.output.streams import warn

app = typer.Typer()


@app.command(
    "switch",
    epilog=examples(
        ("Make staging the active profile:", "vcctl auth switch staging"),
    ),
)
def switch(name: Annotated[str, typer.Argument(help="The profile to make active.")]) -> None:
    """Make another profile of the config file the active one."""
    with profile_file.editing(load_config().path, warn=warn) as loaded:
        require_profile(loaded, name)
        loaded.data["active_profile"] = name
        table = loaded.profiles[name]
        # (Credentials from the environment make a profile of other settings a fine choice.)
        keyless = not all(
            table.get(key) or os.environ.get(f"VCCTL_{key.upper()}")
            for key in ("api_key", "api_token")
        )
    message(f"vcctl: active profile is now {name!r}")
    if keyless:
        # A logout keeps the profile's other settings: switching to it must not look like success.
        message(
            f"vcctl: profile {name!r} has no credentials: run "
            f"'vcctl auth login --profile {name}' to save them"
        )
    note_environment_overrides(name)
