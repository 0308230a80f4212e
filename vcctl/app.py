"""The command tree: the root callback with the global options, and the sub-apps.

Command modules import only typer at module level; the HTTP core is loaded when a command runs.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

import typer

from vcctl import __version__
from vcctl.commands import api_call, auth, completion, emulator, events, participants, rooms
from vcctl.settings import Flags

if TYPE_CHECKING:
    from vcctl.api import Api
    from vcctl.client import Client
    from vcctl.settings import Settings

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="vcctl",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings=CONTEXT_SETTINGS,
)
app.add_typer(rooms.app, name="rooms")
app.add_typer(participants.app, name="participants")
app.add_typer(events.app, name="events")
app.add_typer(auth.app, name="auth")
app.add_typer(emulator.app, name="emulator")
app.command("api")(api_call.api)
app.command("completion")(completion.completion)


@dataclass
class AppState:
    """What every command needs, built on first use so that --help and emulator need no config."""

    flags: Flags
    _settings: Settings | None = None
    _client: Client | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            from vcctl.settings import resolve

            self._settings = resolve(self.flags, os.environ)
            for warning in self._settings.config.warnings:
                sys.stderr.write(f"vcctl: warning: {warning}\n")
        return self._settings

    def client(self, *, pool_size: int = 10) -> Client:
        if self._client is None:
            from vcctl.client import client_for

            self._client = client_for(self.settings(), pool_size=pool_size)
        return self._client

    def api(self, *, pool_size: int = 10) -> Api:
        from vcctl.api import Api

        return Api(self.client(pool_size=pool_size), self.settings().locale.value)


def state(ctx: typer.Context) -> AppState:
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState(Flags())
    return root.obj


def _print_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"vcctl {__version__}\n")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    profile: Annotated[
        str | None, typer.Option("--profile", help="Profile of the config file to use.")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="API base URL (default: https://videoconnect.app)."),
    ] = None,
    locale: Annotated[
        str | None,
        typer.Option("--locale", help="Locale prefix of API paths; empty for none (default: fr)."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Seconds to wait for each answer (default: 30)."),
    ] = None,
    max_attempts: Annotated[
        int | None,
        typer.Option("--max-attempts", help="Attempts per request, retries included (default: 5)."),
    ] = None,
    ca_bundle: Annotated[
        str | None,
        typer.Option("--ca-bundle", help="CA bundle file to verify TLS certificates with."),
    ] = None,
    insecure_http: Annotated[
        bool,
        typer.Option("--insecure-http", help="Allow plain http to a host that is not loopback."),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Log HTTP traffic to stderr (secrets masked)."),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Administer Video Connect rooms, participants and live meeting events.

    Flags win over VCCTL_* environment variables, which win over the
    active profile of the config file (see 'vcctl auth'), then defaults.
    """
    ctx.obj = AppState(
        Flags(
            profile=profile,
            base_url=base_url,
            locale=locale,
            timeout=timeout,
            max_attempts=max_attempts,
            debug=debug,
            insecure_http=insecure_http,
            ca_bundle=ca_bundle,
        )
    )
