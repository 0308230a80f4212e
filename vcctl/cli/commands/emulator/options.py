"""What the `vcctl emulator` commands share: the emulator's options, its settings from them,
the warning for an exposed address, and the error for a port it cannot bind."""

from __future__ import annotations

from typing import Annotated

import typer

from vcctl.emulator.server import Emulator, EmulatorConfig
from vcctl.errors import UsageError
from vcctl.output.streams import warn
from vcctl.text import is_loopback

DEFAULT_PORT = 8790

Host = Annotated[
    str, typer.Option("--host", help="Address to bind; anything but loopback exposes it.")
]
ApiKey = Annotated[str, typer.Option("--api-key", help="API key the emulator accepts.")]
ApiToken = Annotated[str, typer.Option("--api-token", help="API token the emulator accepts.")]
Latency = Annotated[
    float, typer.Option("--latency", min=0, help="Milliseconds added before every answer.")
]
ErrorRate = Annotated[
    float,
    typer.Option("--error-rate", min=0, max=1, help="Probability of a random 500/502/503/504."),
]
RateLimit = Annotated[
    float,
    typer.Option("--rate-limit", min=0, help="Requests per second before answering 429 (0: off)."),
]
RateLimitBurst = Annotated[
    int,
    typer.Option(
        "--rate-limit-burst",
        min=0,
        help="Requests allowed at once per API key before --rate-limit applies (0: the rate).",
    ),
]
RefuseShare = Annotated[
    float,
    typer.Option(
        "--refuse-share",
        min=0,
        max=1,
        help="Share of requests answered 429 whatever the rate, as when other clients use the "
        "same quota (0: off).",
    ),
]
RefuseRetryAfter = Annotated[
    float,
    typer.Option(
        "--refuse-retry-after",
        min=0,
        help="Retry-After seconds of the --refuse-share refusals.",
    ),
]
Seed = Annotated[
    int | None,
    typer.Option("--seed", help="Seed making --error-rate and --refuse-share repeatable."),
]
Verbose = Annotated[bool, typer.Option("--verbose", help="Log every request to stderr.")]
MaxRecorded = Annotated[
    int,
    typer.Option(
        "--max-recorded",
        min=1,
        help="Requests kept in the log /_emulator/requests shows (the oldest go first).",
    ),
]
AllowRemoteControl = Annotated[
    bool,
    typer.Option(
        "--allow-remote-control",
        help="Serve /_emulator/ endpoints on a --host that is not loopback (off otherwise).",
    ),
]


def emulator_config(
    host: str,
    port: int,
    api_key: str,
    api_token: str,
    latency: float,
    error_rate: float,
    rate_limit: float,
    rate_limit_burst: int,
    seed: int | None,
    verbose: bool,
    max_recorded: int,
    allow_remote_control: bool,
    *,
    refuse_share: float = 0.0,
    refuse_retry_after: float = 1.0,
) -> EmulatorConfig:
    return EmulatorConfig(
        host=host,
        port=port,
        api_key=api_key,
        api_token=api_token,
        latency_ms=latency,
        error_rate=error_rate,
        rate_limit=rate_limit,
        rate_limit_burst=rate_limit_burst,
        refuse_share=refuse_share,
        refuse_retry_after=refuse_retry_after,
        seed=seed,
        verbose=verbose,
        max_recorded=max_recorded,
        allow_remote_control=allow_remote_control,
    )


def warn_if_exposed(emulator: Emulator) -> None:
    host = emulator.config.host
    if is_loopback(host):
        return
    control = (
        "its /_emulator/ endpoints are on (--allow-remote-control)"
        if emulator.control_enabled
        else "its /_emulator/ endpoints are off (--allow-remote-control turns them on)"
    )
    warn(f"the emulator listens on {host}, reachable from other machines; {control}")


def bind_error(host: str, port: int, exc: OSError) -> Exception:
    return UsageError(
        f"cannot listen on {host}:{port}: {exc.strerror or exc}",
        hint="choose another --port (0 picks a free one)",
    )
