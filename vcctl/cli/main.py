"""Entry point: run the command tree, and map every failure to a message and an exit code.

This is the only place that turns exceptions into exit codes (see docs/design.md).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn, TextIO, cast

import typer

from vcctl import errors, halt
from vcctl.cli.app import build_tree
from vcctl.cli.global_options import GLOBAL_OPTIONS
from vcctl.output.streams import ClosedStdin, filter_json_with, print_error


def _before_dashdash(args: Sequence[str]) -> Sequence[str]:
    return args[: args.index("--")] if "--" in args else args


class ErrorReporter:
    """Writes errors to stderr: one `vcctl: error:` line (and a hint), or one JSON line."""

    def __init__(self, *, json_errors: bool, debug: bool) -> None:
        self.json_errors = json_errors
        self.debug = debug

    def error(self, exc: errors.VcctlError) -> int:
        print_error(exc, json_mode=self.json_errors)
        return exc.exit_code


def run(args: list[str], reporter: ErrorReporter) -> int:
    """Parse and invoke the command; every failure becomes a reported error and an exit code.

    The command is invoked directly rather than through typer's `main()`, which would turn
    Ctrl-C into a silent exit and a closed pipe into exit 1 before this function could see them.
    """
    filter_json_with(None)  # a --jq of an earlier run in this process is not this run's
    command = build_tree()
    try:
        with command.make_context("vcctl", list(args)) as ctx:
            result = command.invoke(ctx)
        sys.stdout.flush()
    except errors.MultiItemFailure as exc:
        return exc.exit_code  # each item's failure is reported already
    except errors.Interrupted as exc:
        code = reporter.error(exc)
        if exc.work_abandoned:
            _exit_now(code)
        return code
    except errors.VcctlError as exc:
        if isinstance(exc, errors.UsageError) and exc.points_to_help and exc.hint is None:
            exc.hint = f"see '{_command_path(command, args)} --help'"
        return reporter.error(exc)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, EOFError):
        return reporter.error(errors.Interrupted("aborted"))
    except typer.TyperException as exc:
        return _usage_error(exc, reporter)
    except SystemExit as exc:
        # rich (drawing --help) answers a closed pipe with SystemExit(1): not a failure.
        if isinstance(exc.__context__, BrokenPipeError):
            return _broken_pipe()
        raise
    return result if isinstance(result, int) else 0


def _command_path(command: object, args: Sequence[str]) -> str:
    """'vcctl rooms create' for the arguments of a `vcctl rooms create ...` run."""
    path = ["vcctl"]
    current: object = command
    index = 0
    while index < len(args):
        token = args[index]
        name = token.split("=", 1)[0]
        if name in GLOBAL_OPTIONS:
            index += 2 if GLOBAL_OPTIONS[name] and "=" not in token else 1
            continue
        commands = getattr(current, "commands", None)
        if token.startswith("-") or commands is None or token not in commands:
            break
        current = commands[token]
        path.append(token)
        index += 1
    return " ".join(path)


def _usage_error(exc: typer.TyperException, reporter: ErrorReporter) -> int:
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError":
        # `vcctl` or `vcctl rooms` alone: the help is what was asked for. With rich installed,
        # typer has printed it already while building the exception, and the message is empty.
        help_text = exc.format_message()
        if help_text:
            sys.stdout.write(help_text + "\n")
        return 0
    hint = None
    if ctx is not None:
        hint = f"see '{ctx.command_path} --help'"
    code = exc.exit_code if exc.exit_code else errors.EXIT_USAGE
    return reporter.error(errors.CommandLineError(exc.format_message(), hint=hint, exit_code=code))


def main(argv: Sequence[str] | None = None) -> NoReturn:
    args = list(sys.argv[1:] if argv is None else argv)
    visible = _before_dashdash(args)
    debug = "--debug" in visible or os.environ.get("VCCTL_DEBUG", "") not in ("", "0", "false")
    reporter = ErrorReporter(json_errors="--json" in visible, debug=debug)
    if sys.stdin is None:  # started with stdin closed (`vcctl ... <&-`)
        sys.stdin = cast(TextIO, ClosedStdin())
    if sys.stdout is None:  # started with stdout closed (`vcctl ... >&-`)
        reporter.error(errors.VcctlError("standard output is closed: nowhere to print the result"))
        sys.exit(errors.EXIT_INTERNAL)
    halt.begin_run()
    errors.note_stop_signal(None)
    restore_handlers = halt.install_stop_handlers()
    try:
        code = run(args, reporter)
    except BrokenPipeError:
        code = _broken_pipe()
    except OSError as exc:
        # Almost always stdout itself (a full disk, a closed terminal): not a bug in vcctl.
        where = f" ({exc.filename})" if exc.filename else ""
        code = reporter.error(errors.VcctlError(f"I/O error{where}: {exc.strerror or exc}"))
    except KeyboardInterrupt as stop:
        signum = stop.signum if isinstance(stop, errors.Stopped) else signal.SIGINT
        what = "interrupted" if signum == signal.SIGINT else f"stopped by signal {signum}"
        code = reporter.error(errors.Interrupted(what))
    except Exception as exc:  # the last line of defence: a bug, reported as one
        code = _internal_error(exc, reporter)
    finally:
        restore_handlers()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = _broken_pipe()
    except (OSError, ValueError):
        pass
    sys.exit(code)


def _exit_now(code: int) -> NoReturn:
    """End without waiting for the worker threads still blocked on requests vcctl gave up on
    (the interpreter would join them at exit)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _broken_pipe() -> int:
    # The reader went away (`vcctl ... | head -c1`): stop quietly. Point stdout at /dev/null so
    # the interpreter's final flush does not raise again.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return errors.EXIT_BROKEN_PIPE


def _internal_error(exc: BaseException, reporter: ErrorReporter) -> int:
    if reporter.debug:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    error = errors.VcctlError(
        f"internal error (a bug in vcctl): {type(exc).__name__}: {exc}",
        hint="please report it; run with --debug to see the traceback",
    )
    return reporter.error(error)
