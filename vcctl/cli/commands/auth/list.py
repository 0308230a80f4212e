"""`vcctl auth list`: the profiles of the config file."""

from typing import Annotated

import typer

from vcctl.cli.commands.auth.profiles import load_config, message
from vcctl.cli.commands.auth.report import show_profiles
from vcctl.cli.examples import examples
from vcctl.output import streams
from vcctl.text import mask

app = typer.Typer()


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
            help="Print JSON Lines, one object per profile (keys masked), as every list does.",
        ),
    ] = False,
) -> None:
    """List the profiles of the config file (secrets masked)."""
    loaded = load_config()
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
        # A list is JSON Lines, as rooms list and participants list print theirs.
        streams.write_stdout("".join(streams.json_result_line(entry) for entry in entries))
        return
    if not entries:
        message(f"vcctl: no profiles in {loaded.path}; run 'vcctl auth login'")
        return
    show_profiles(entries)
