"""`vcctl emulator start|stop|exec`: a local Video Connect API emulator on 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vcctl.cli.examples import examples

if TYPE_CHECKING:
    from vcctl.emulator.server import Emulator, EmulatorConfig

app = typer.Typer(
    help="Run a local emulator of the Video Connect API, for rehearsals and CI.",
    no_args_is_help=True,
)

DEFAULT_PORT = 8790
DEFAULT_MAX_RECORDED = 10_000  # the same as vcctl.emulator.recording (not imported at start-up)

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


def _config(
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
    from vcctl.emulator.server import EmulatorConfig

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


def _warn_if_exposed(emulator: Emulator) -> None:
    from vcctl.output.streams import warn
    from vcctl.text import is_loopback

    host = emulator.config.host
    if is_loopback(host):
        return
    control = (
        "its /_emulator/ endpoints are on (--allow-remote-control)"
        if emulator.control_enabled
        else "its /_emulator/ endpoints are off (--allow-remote-control turns them on)"
    )
    warn(f"the emulator listens on {host}, reachable from other machines; {control}")


def _bind_error(host: str, port: int, exc: OSError) -> Exception:
    from vcctl.errors import UsageError

    return UsageError(
        f"cannot listen on {host}:{port}: {exc.strerror or exc}",
        hint="choose another --port (0 picks a free one)",
    )


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
    import os

    config = _config(
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
    import shlex

    from vcctl.emulator import detach
    from vcctl.errors import UsageError

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
    import os
    import signal

    from vcctl.emulator import detach
    from vcctl.emulator.server import Emulator

    emulator = Emulator(config)
    try:
        emulator.bind()
    except OSError as exc:
        detach.report_ready(ready_fd, {"error": str(_bind_error(config.host, config.port, exc))})
        raise typer.Exit(2) from None
    _warn_if_exposed(emulator)
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
    import signal

    from vcctl.emulator.server import Emulator

    emulator = Emulator(config)
    try:
        emulator.bind()
    except OSError as exc:
        raise _bind_error(config.host, config.port, exc) from None

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    _warn_if_exposed(emulator)
    lines = {
        "VCCTL_BASE_URL": emulator.local_url,
        "VCCTL_API_KEY": config.api_key,
        "VCCTL_API_TOKEN": config.api_token,
    }
    if export:
        import shlex

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


@app.command(
    "stop",
    epilog=examples(
        (
            "Start an emulator in the background for a script, then stop it:",
            'eval "$(vcctl emulator start --detach --port 0)"',
            "vcctl emulator stop",
        ),
    ),
)
def stop() -> None:
    """Stop the emulator 'start --detach' started (VCCTL_EMULATOR_PID, else its pid file)."""
    import os

    from vcctl.emulator import detach
    from vcctl.errors import UsageError

    hint = 'start one with: eval "$(vcctl emulator start --detach --port 0)"'
    try:
        pid, source = detach.find(os.environ)
        detach.stop(pid)
    except detach.DetachError as exc:
        raise UsageError(str(exc), hint=hint) from None
    detach.remove_pid_file(detach.pid_file(os.environ), pid)
    sys.stderr.write(f"vcctl: emulator {pid} stopped (pid from {source})\n")


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
    import os

    from vcctl.emulator.child import run_command
    from vcctl.emulator.server import Emulator

    config = _config(
        host, 0, api_key, api_token, latency, error_rate, rate_limit, rate_limit_burst, seed,
        verbose, max_recorded, allow_remote_control,
        refuse_share=refuse_share, refuse_retry_after=refuse_retry_after,
    )  # fmt: skip
    emulator = Emulator(config)
    try:
        emulator.start()
    except OSError as exc:
        raise _bind_error(host, 0, exc) from None
    _warn_if_exposed(emulator)
    env = dict(os.environ)
    env.update(VCCTL_BASE_URL=emulator.local_url, VCCTL_API_KEY=api_key, VCCTL_API_TOKEN=api_token)
    try:
        code = run_command(command, env)
    finally:
        emulator.shutdown()
    raise typer.Exit(code if code >= 0 else 128 - code)
