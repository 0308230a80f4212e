"""Global options on every command, like gh's persistent flags, parsed where they are written.

The root declares them (`vcctl.cli.app.root`); every subcommand gets a hidden copy, so that
`vcctl rooms get ID --profile staging` works while `--name --debug` still gives the name
"--debug": an argument is never taken for an option it was not written as. A `--json` before the
subcommand (`vcctl --json rooms get ID`) turns on the leaf's own --json.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from vcctl.cli.context import CommandContext

# Global options, value-taking ones mapped to True (to skip their values when looking for the
# subcommand before parsing).
GLOBAL_OPTIONS: dict[str, bool] = {
    "--profile": True,
    "--base-url": True,
    "--locale": True,
    "--timeout": True,
    "--max-attempts": True,
    "--rate": True,
    "--ca-bundle": True,
    "--debug": False,
    "--insecure-http": False,
}
# Accepted before the subcommand too, for the leaf that has it.
JSON_OPTION = "--json"
_JSON_BEFORE_SUBCOMMAND = "vcctl.json_before_subcommand"


def inheritance(root: Any) -> Callable[[Any], None]:
    """Give the root (a click group, as typer builds it) a hidden --json handed down to the
    leaf's own; return what gives a subcommand of it hidden copies of the root's global options.
    """
    shared = [param for param in root.params if set(param.opts) & set(GLOBAL_OPTIONS)]
    # Copies of typer's own option objects: typer keeps its click private.
    [debug] = [param for param in shared if "--debug" in param.opts]
    json_option = _hidden_copy(debug, _remember_json)
    json_option.name, json_option.opts = "json_before_subcommand", [JSON_OPTION]
    root.params.append(json_option)
    copies = [(option, _flag_setter(option.name)) for option in shared]

    def inherit(command: Any) -> None:
        own = {name for param in command.params for name in param.opts}
        for option, setter in copies:
            if not set(option.opts) & own:
                command.params.append(_hidden_copy(option, setter))
        for param in command.params:
            if JSON_OPTION in param.opts and not param.hidden:
                param.callback = _json_or_root(param.callback)

    return inherit


JQ_HELP = (
    "Print the JSON output (as --json does) through this jq program; a string result is "
    "printed as text. Needs vcctl's jq extra, the jq package (pip install jq)."
)


def add_jq_option(command: Any) -> None:
    """Give a command that has --json a --jq EXPR, which turns its --json on."""
    from typer.core import TyperOption

    json_options = [p for p in command.params if JSON_OPTION in p.opts and not p.hidden]
    if not json_options or any("--jq" in p.opts for p in command.params):
        return
    command.params.append(
        TyperOption(
            param_decls=["--jq"],
            metavar="EXPR",
            help=JQ_HELP,
            expose_value=False,
            callback=_use_jq,
        )
    )


def _use_jq(ctx: Any, param: Any, value: Any) -> Any:
    # Processed before a --json that was not given (click handles given options first).
    if value is None:
        return value
    from vcctl.output import streams
    from vcctl.output.jq_filter import JqProgram

    streams.filter_json_with(JqProgram(value))
    ctx.meta[_JSON_BEFORE_SUBCOMMAND] = True
    return value


def _hidden_copy(option: Any, callback: Callable[[Any, Any, Any], Any]) -> Any:
    hidden = copy.copy(option)
    hidden.hidden = True
    hidden.expose_value = False
    hidden.callback = callback
    return hidden


def _flag_setter(name: str) -> Callable[[Any, Any, Any], Any]:
    def set_flag(ctx: Any, param: Any, value: Any) -> Any:
        if value is None or value is False:
            return value  # not given here: the root's value (or none) stands
        context = ctx.find_object(CommandContext)
        if context is not None:
            context.flags = context.flags._replace(**{name: value})
        return value

    return set_flag


def _remember_json(ctx: Any, param: Any, value: Any) -> Any:
    if value:
        ctx.meta[_JSON_BEFORE_SUBCOMMAND] = True
    return value


def _json_or_root(callback: Callable[..., Any] | None) -> Callable[..., Any]:
    def json_value(ctx: Any, param: Any, value: Any) -> Any:
        if not value and ctx.meta.get(_JSON_BEFORE_SUBCOMMAND):
            value = True
        return callback(ctx, param, value) if callback is not None else value

    return json_value
