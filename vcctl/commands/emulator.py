"""`vcctl emulator start|exec`: a local Video Connect API emulator on 127.0.0.1."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from vcctl.emulator.server import EmulatorConfig

app = typer.Typer(
    help="Run a local emulator of the Video Connect API, for rehearsals and CI.",
    no_args_is_help=True,
)

DEFAULT_PORT = 8790
# What a shell, env(1) or timeout(1) answer when the command cannot be run: `exec` passes
# through the command's exit code, so a command that never ran gets the shell's codes too.
EXIT_COMMAND_NOT_FOUND = 127
EXIT_COMMAND_NOT_EXECUTABLE = 126

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
Seed = Annotated[int | None, typer.Option("--seed", help="Seed making --error-rate repeatable.")]
Verbose = Annotated[bool, typer.Option("--verbose", help="Log every request to stderr.")]


def _config(
    host: str,
    port: int,
    api_key: str,
    api_token: str,
    latency: float,
    error_rate: float,
    rate_limit: float,
    seed: int | None,
    verbose: bool,
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
        seed=seed,
        verbose=verbose,
    )


def _cannot_run(message: str, exit_code: int) -> Exception:
    from vcctl.errors import UsageError

    error = UsageError(
        message, hint="CMD runs without a shell: use -- sh -c '...' for pipes or variables"
    )
    error.exit_code = exit_code
    return error


def _bind_error(host: str, port: int, exc: OSError) -> Exception:
    from vcctl.errors import UsageError

    return UsageError(
        f"cannot listen on {host}:{port}: {exc.strerror or exc}",
        hint="choose another --port (0 picks a free one)",
    )


@app.command("start")
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
    seed: Seed = None,
    export: Annotated[
        bool, typer.Option("--export", help="Print the settings as shell export lines.")
    ] = False,
    verbose: Verbose = False,
) -> None:
    """Serve the emulator in the foreground until Ctrl-C or SIGTERM."""
    import signal

    from vcctl.emulator.server import Emulator

    emulator = Emulator(
        _config(host, port, api_key, api_token, latency, error_rate, rate_limit, seed, verbose)
    )
    try:
        emulator.bind()
    except OSError as exc:
        raise _bind_error(host, port, exc) from None

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    lines = {
        "VCCTL_BASE_URL": emulator.base_url,
        "VCCTL_API_KEY": api_key,
        "VCCTL_API_TOKEN": api_token,
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
    "exec",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
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
    seed: Seed = None,
    verbose: Verbose = False,
) -> None:
    """Start a fresh emulator on a free port, run CMD against it, stop; exit with CMD's code.

    CMD gets VCCTL_BASE_URL, VCCTL_API_KEY and VCCTL_API_TOKEN pointing at the emulator.
    """
    import os

    from vcctl.emulator.server import Emulator

    emulator = Emulator(
        _config(host, 0, api_key, api_token, latency, error_rate, rate_limit, seed, verbose)
    )
    try:
        emulator.start()
    except OSError as exc:
        raise _bind_error(host, 0, exc) from None
    env = dict(os.environ)
    env.update(VCCTL_BASE_URL=emulator.base_url, VCCTL_API_KEY=api_key, VCCTL_API_TOKEN=api_token)
    try:
        code = _run(command, env)
    finally:
        emulator.shutdown()
    raise typer.Exit(code if code >= 0 else 128 - code)


def _run(command: list[str], env: dict[str, str]) -> int:
    """Run CMD and return its exit code (negative: the signal that ended it).

    A SIGTERM sent to vcctl (a cancelled CI job) is passed on to CMD, rather than ending vcctl
    and leaving CMD running against a stopped emulator.
    """
    import signal
    import subprocess

    started: list[subprocess.Popen[bytes]] = []
    terminated = False

    def forward(signum: int, frame: object) -> None:
        nonlocal terminated
        terminated = True
        for child in started:
            child.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        try:
            child = subprocess.Popen(command, env=env)
        except FileNotFoundError:
            raise _cannot_run(f"command not found: {command[0]}", EXIT_COMMAND_NOT_FOUND) from None
        except PermissionError:
            raise _cannot_run(
                f"command not executable: {command[0]}", EXIT_COMMAND_NOT_EXECUTABLE
            ) from None
        started.append(child)
        if terminated:  # the SIGTERM came while CMD was starting
            child.terminate()
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                # The child got the same Ctrl-C from the terminal; its exit code is the answer.
                continue
    finally:
        signal.signal(signal.SIGTERM, previous)
