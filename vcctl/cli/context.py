"""What every command is given: its settings, a client factory and the Api, built on first use.

One `CommandContext` per run, created by the root callback (`vcctl.cli.app.root`) and found by each
command with `context_of(ctx)`. Nothing is resolved until asked for, so that --help, completion
and the emulator need no configuration.

Two parts are imported when first built, because every --help, --version and emulator run would
pay for them otherwise: the HTTP client (`vcctl.http.client`, its session and failure handling)
and the inventory's recorder (`vcctl.inventory.recorder`, `records`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import typer

from vcctl.config.settings import Flags, Settings, resolve
from vcctl.http.api import Api, Transport
from vcctl.http.limiter import RateLimiter, reset_process_limiter
from vcctl.output.streams import debug_line, notice_on_terminal, warn

if TYPE_CHECKING:
    from vcctl.http.client import Client
    from vcctl.inventory.recorder import Recorder


class CommandContext:
    """The run's settings, rate limiter, clients and inventory (a plain class: the start-up of
    every run pays for building a dataclass)."""

    def __init__(self, flags: Flags, settings: Settings | None = None) -> None:
        self.flags = flags
        self._settings = settings
        self._recorder: Recorder | None = None
        self._limiter: RateLimiter | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> CommandContext:
        """A context over settings resolved already (tests, embedding)."""
        return cls(Flags(), settings)

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = resolve(self.flags, os.environ)
            if self._settings.config.warnings:
                for warning in self._settings.config.warnings:
                    warn(warning)
        return self._settings

    def limiter(self) -> RateLimiter:
        """The run's rate limiter, shared by all its clients and workers (see vcctl.http.limiter).

        A fresh one per run, capped by the rate setting: an earlier run in the same process
        (tests, embedding) leaves no pause or learned rate behind. Its pauses are announced
        on a terminal, one line each (a batch's progress display shows them instead).
        """
        if self._limiter is None:
            settings = self.settings()
            self._limiter = reset_process_limiter(settings.rate.value)
            if not settings.debug.value:  # --debug logs every wait already
                self._limiter.set_notice(notice_on_terminal)
        return self._limiter

    def client(
        self,
        *,
        attempts: int | None = None,
        timeout: float | None = None,
        pool_size: int = 10,
        credentials: tuple[str, str] | None = None,
        quiet_waits: bool = False,
        rate_limited: bool = True,
    ) -> Client:
        """A new HTTP client from the settings; every command builds its clients here.

        attempts: per call, retries included (default: the max_attempts setting);
        timeout: seconds per answer (default: the timeout setting);
        pool_size: keep-alive connections kept, one per concurrent worker;
        credentials: (key, token) to use instead of the configured ones (no credentials: exit 4);
        quiet_waits: no notice line per retry wait (a progress display shows the waits);
        rate_limited: False for a caller that paces itself and wants every 429 as an error.
        """
        from vcctl.http.client import Client

        settings = self.settings()
        api_key, api_token = credentials or settings.credentials()
        return Client(
            base_url=settings.base_url.value,
            api_key=api_key,
            api_token=api_token,
            timeout=timeout or settings.timeout.value,
            max_attempts=attempts or settings.max_attempts.value,
            ca_bundle=settings.ca_bundle,
            max_answer_bytes=settings.max_answer_bytes,
            pool_size=pool_size,
            debug=debug_line if settings.debug.value else None,
            notice=None if quiet_waits else notice_on_terminal,
            limiter=self.limiter() if rate_limited else None,
        )

    def api(
        self,
        *,
        attempts: int | None = None,
        timeout: float | None = None,
        pool_size: int = 10,
        credentials: tuple[str, str] | None = None,
        quiet_waits: bool = False,
    ) -> Api:
        """The Api over a new client (see `client` for the parameters). With the configured
        credentials it records what it returns in the inventory (see `inventory`)."""
        client = self.client(
            attempts=attempts,
            timeout=timeout,
            pool_size=pool_size,
            credentials=credentials,
            quiet_waits=quiet_waits,
        )
        if credentials is not None or not self.inventory().enabled:
            return self.api_over(client)
        from vcctl.inventory.recorder import RecordingApi

        return RecordingApi(client, self.settings().locale.value, self.inventory())

    def inventory(self) -> Recorder:
        """The run's inventory recorder (a no-op when the inventory is off)."""
        if self._recorder is None:
            from vcctl.inventory.location import inventory_location
            from vcctl.inventory.recorder import Recorder
            from vcctl.inventory.records import Account, account_for, inventory_enabled

            settings = self.settings()
            profile = settings.config.profiles.get(settings.profile.value)

            def account() -> Account:
                return account_for(settings.base_url.value, settings.credentials()[0])

            self._recorder = Recorder(
                inventory_location(os.environ, profile),
                account,
                enabled=inventory_enabled(os.environ, profile),
            )
        return self._recorder

    def close(self) -> None:
        """Close what the run opened: the inventory (SQLite then writes its journal back and
        removes the -wal and -shm files, which a process ending without closing leaves)."""
        if self._recorder is not None:
            self._recorder.close()

    def api_over(self, transport: Transport) -> Api:
        """The Api with the configured locale over any transport (a recorder for --dry-run)."""
        return Api(transport, self.settings().locale.value)


def context_of(ctx: typer.Context) -> CommandContext:
    """The run's context, from any command's typer context."""
    root = ctx.find_root()
    if not isinstance(root.obj, CommandContext):
        root.obj = CommandContext(Flags())
    return root.obj
