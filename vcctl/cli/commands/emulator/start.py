"""`vcctl emulator start`: serve the emulator, in the foreground or detached."""

import os
import shlex
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from vcctl.cli.commands.emulator.options import (
    DEFAULT_PORT,
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
from vcctl.emulator import detach
from vcctl.emulator.recording import DEFAULT_MAX_RECORDED
from vcctl.emulator.server import Emulator, EmulatorConfig
from vcctl.errors import Stopped, UsageError

app = typer.Typer()


@app.command(
    "start",
    epilog=examples(
        ("Run an emulator in the foreground on port 8790:", "vcctl emulator start --port 8790"),
        (
            "In the background, on a free port, with 100 ms added to every answer:",
            'eval "$(vcctl emulator start --detach --port 0 --latency 100)"',
        ),
    ),
)
def start(
    host: Host = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port; 0 picks a free one.")
    ] = DEFAULT_PORT,
    api_key: ApiKey = "emulator-api-key",
    api_token: ApiToken = "emulator-api-token",
    latency: Latency = 0.0,
    error_rate: ErrorRate = 0.0,
    rate_limit: RateLimit = 0.0,
    rate_limit_burst: RateLimitBurst = 0,
    refuse_share: RefuseShare = 0.0,
    refuse_retry_after: RefuseRetryAfter = 1.0,
    seed: Seed = None,
    export: Annotated[
        bool, typer.Option("--export", help="Print the settings as shell export lines.")
    ] = False,
    detach: Annotated[
        bool,
        typer.Option(
            "--detach",
            help="Run in the background; print export lines (with VCCTL_EMULATOR_PID) once "
            "it listens. End it with 'vcctl emulator stop'.",
        ),
    ] = False,
    log_file: Annotated[
        Path | None,
        typer.Option("--log-file", help="With --detach: append the emulator's messages here."),
    ] = None,
    verbose: Verbose = False,
    max_recorded: MaxRecorded = DEFAULT_MAX_RECORDED,
    allow_remote_control: AllowRemoteControl = False,
) -> None:
    """Serve the emulator in the foreground until Ctrl-C or SIGTERM, or in the background.

    With --detach: eval "$(vcctl emulator start --detach --port 0)", then vcctl emulator stop.
    """
    config = emulator_config(
        host, port, api_key, api_token, latency, error_rate, rate_limit, rate_limit_burst, seed,
        verbose, max_recorded, allow_remote_control,
        refuse_share=refuse_share, refuse_retry_after=refuse_retry_after,
    )  # fmt: skip
    if detach:
        _start_detached(sys.argv[1:], config, log_file)
        return
    ready_fd = os.environ.pop("vcctl_emulator_ready_fd", "")
    if ready_fd.isdigit():  # the child of a `start --detach`
        _serve_detached(config, int(ready_fd))
        return
    _serve_in_foreground(config, export)


def _start_detached(argv: list[str], config: EmulatorConfig, log_file: Path | None) -> None:
    # The child runs the same command line without --detach: global options and all.
    child_args = [arg for arg in argv if arg != "--detach"]
    try:
        started = detach.spawn(child_args, log_file)
    except (detach.DetachError, OSError) as exc:
        raise UsageError(f"cannot start the emulator: {exc}") from None
    lines = {
        "VCCTL_BASE_URL": started.base_url,
        "VCCTL_API_KEY": config.api_key,
        "VCCTL_API_TOKEN": config.api_token,
        detach.PID_VARIABLE: str(started.pid),
    }
    sys.stdout.write("".join(f"export {k}={shlex.quote(v)}\n" for k, v in lines.items()))
    sys.stdout.flush()
    sys.stderr.write(
        f"vcctl: emulator listening on {started.base_url} (pid {started.pid}); "
        "stop it with 'vcctl emulator stop'\n"
    )


def _serve_detached(config: EmulatorConfig, ready_fd: int) -> None:
    """The detached child: report readiness on `ready_fd`, keep a pid file while serving."""
    emulator = Emulator(config)
    try:
        emulator.bind()
    except OSError as exc:
        detach.report_ready(ready_fd, {"error": str(bind_error(config.host, config.port, exc))})
        raise typer.Exit(2) from None
    warn_if_exposed(emulator)
    pid_path = detach.pid_file(os.environ)
    detach.write_pid_file(pid_path, os.getpid(), emulator.local_url)
    signal.signal(signal.SIGTERM, lambda signum, frame: emulator.shutdown())
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    detach.report_ready(ready_fd, {"base_url": emulator.local_url, "pid": os.getpid()})
    try:
        emulator.serve_forever()
    finally:
        emulator.shutdown()
        detach.remove_pid_file(pid_path, os.getpid())


def _serve_in_foreground(config: EmulatorConfig, export: bool) -> None:
    emulator = Emulator(config)
    try:
        emulator.bind()
    except OSError as exc:
        raise bind_error(config.host, config.port, exc) from None

    def _stop(signum: int, frame: object) -> None:
        raise Stopped(signum)  # a KeyboardInterrupt, never a bare one: see Stopped

    signal.signal(signal.SIGTERM, _stop)
    warn_if_exposed(emulator)
    lines = {
        "VCCTL_BASE_URL": emulator.local_url,
        "VCCTL_API_KEY": config.api_key,
        "VCCTL_API_TOKEN": config.api_token,
    }
    if export:
        text = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in lines.items())
    else:
        text = "".join(f"{name}={value}\n" for name, value in lines.items())
    sys.stdout.write(text)
    sys.stdout.flush()
    sys.stderr.write(
        f"vcctl: Video Connect API emulator listening on {emulator.base_url} (Ctrl-C to stop)\n"
    )
    sys.stderr.flush()
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.shutdown()
    sys.stderr.write("vcctl: emulator stopped\n")
