"""`vcctl emulator exec`: run a command against a fresh emulator."""

import os
from typing import Annotated

import typer

from vcctl.cli.commands.emulator.options import (
    AllowRemoteControl,
    ApiKey,
    ApiToken,
    ErrorRate,
    Host,
    Latency,
    MaxRecorded,
    RateLimit,
    RateLimitBurst,
    RefuseRetryAfter,
    RefuseShare,
    Seed,
    Verbose,
    bind_error,
    emulator_config,
    warn_if_exposed,
)
from vcctl.cli.examples import examples
from vcctl.emulator.child import run_command
from vcctl.emulator.recording import DEFAULT_MAX_RECORDED
from vcctl.emulator.server import Emulator

app = typer.Typer()


@app.command(
    "exec",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    epilog=examples(
        (
            "Run a script against a fresh emulator, without an account:",
            "vcctl emulator exec -- ./my-script.sh",
        ),
        (
            "Rehearse failures: one answer in five is a random 5xx, the same ones on every run:",
            "vcctl emulator exec --error-rate 0.2 --seed 1 -- \\",
            "  sh -c 'vcctl rooms create --name Test'",
        ),
    ),
)
def exec_(
    command: Annotated[
        list[str], typer.Argument(help="The command to run, after --.", metavar="-- CMD ARGS...")
    ],
    host: Host = "127.0.0.1",
    api_key: ApiKey = "emulator-api-key",
    api_token: ApiToken = "emulator-api-token",
    latency: Latency = 0.0,
    error_rate: ErrorRate = 0.0,
    rate_limit: RateLimit = 0.0,
    rate_limit_burst: RateLimitBurst = 0,
    refuse_share: RefuseShare = 0.0,
    refuse_retry_after: RefuseRetryAfter = 1.0,
    seed: Seed = None,
    verbose: Verbose = False,
    max_recorded: MaxRecorded = DEFAULT_MAX_RECORDED,
    allow_remote_control: AllowRemoteControl = False,
) -> None:
    """Start a fresh emulator on a free port, run CMD against it, stop; exit with CMD's code.

    CMD gets VCCTL_BASE_URL, VCCTL_API_KEY and VCCTL_API_TOKEN pointing at the emulator.
    """
    config = emulator_config(
        host, 0, api_key, api_token, latency, error_rate, rate_limit, rate_limit_burst, seed,
        verbose, max_recorded, allow_remote_control,
        refuse_share=refuse_share, refuse_retry_after=refuse_retry_after,
    )  # fmt: skip
    emulator = Emulator(config)
    try:
        emulator.start()
    except OSError as exc:
        raise bind_error(host, 0, exc) from None
    warn_if_exposed(emulator)
    env = dict(os.environ)
    env.update(VCCTL_BASE_URL=emulator.local_url, VCCTL_API_KEY=api_key, VCCTL_API_TOKEN=api_token)
    try:
        code = run_command(command, env)
    finally:
        emulator.shutdown()
    raise typer.Exit(code if code >= 0 else 128 - code)
