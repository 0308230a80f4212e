"""The root of the command tree: the global options, the tour of `vcctl --help`, and the tree.

`build_tree()` gives the root group with every noun and command as a placeholder from
`vcctl.cli.registry`; click loads what a run resolves (see `vcctl.cli.lazy`).
"""

import sys
from typing import Annotated, Any

import typer
import typer.main

from vcctl import __version__
from vcctl.cli import global_options
from vcctl.cli.context import CommandContext
from vcctl.cli.examples import examples
from vcctl.cli.helpstyle import tidy
from vcctl.cli.lazy import LazyGroup
from vcctl.cli.registry import TREE
from vcctl.config.settings import Flags

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}

# The examples of `vcctl --help` and of the vcctl(1) man page: a session from login to cleanup.
TOUR = examples(
    (
        "Save an API key and token in the default profile (asks for both, hidden):",
        "vcctl auth login",
    ),
    (
        "Create a room and keep its id:",
        'ROOM=$(vcctl rooms create --name "Board meeting" --color "#1e90ff" -q)',
    ),
    (
        "Create participants from a CSV file, checking it first:",
        'vcctl participants create --from-file attendees.csv --room "$ROOM" --dry-run',
    ),
    (
        "Add a participant and keep its id:",
        'PARTICIPANT=$(vcctl participants create --room "$ROOM" \\',
        '  --username "Grace Hopper" -q)',
    ),
    (
        "Show the room and its participants; count them with jq:",
        "vcctl rooms get \"$ROOM\" --json | jq '.participants | length'",
    ),
    (
        "Mute everyone, then let one participant speak:",
        'vcctl events mute-all --room "$ROOM"',
        'vcctl events activate-video-and-audio --room "$ROOM" \\',
        '  --participant "$PARTICIPANT"',
    ),
    ("Watch the meeting live (Ctrl-C to leave):", 'vcctl rooms watch "$ROOM"'),
    ("Delete the room from a script, without the question:", 'vcctl rooms delete "$ROOM" --yes'),
    ("Send a raw request:", "vcctl api GET '/{locale}/api/v1/rooms/'\"$ROOM\""),
    ("Use another profile for one command:", 'vcctl --profile staging rooms get "$ROOM"'),
    (
        "Rehearse against the local emulator, without an account:",
        "vcctl emulator exec -- sh -c 'vcctl rooms create --name Test'",
    ),
    ("Turn on completion in bash:", "source <(vcctl completion bash)"),
)


ROOT_HELP = (
    "Administer Video Connect rooms, participants and live meeting events.\n\n"
    "Flags win over VCCTL_* environment variables, which win over the active profile of the "
    "config file (see 'vcctl auth'), then defaults. An answer larger than 16 MiB once decoded "
    "ends with exit 9 (VCCTL_MAX_ANSWER_BYTES changes the limit)."
)


def build_tree(*, prepared: bool = True) -> LazyGroup:
    """The root group, its subcommands placeholders loaded when resolved.

    prepared: each command's help tidied and the global options given to every subcommand, as
    a run needs; False gives the commands as typer builds them (the documentation generators
    read them so).
    """
    declared = typer.Typer(
        name="vcctl",
        cls=LazyGroup,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings=CONTEXT_SETTINGS,
        epilog=TOUR,
    )
    declared.callback(help=ROOT_HELP)(root)
    tree = typer.main.get_group(declared)
    assert isinstance(tree, LazyGroup)
    if not prepared:
        return tree.fill(TREE, global_options.add_jq_option)
    tidy(tree)
    inherit = global_options.inheritance(tree)

    def prepare(command: Any) -> None:
        global_options.add_jq_option(command)
        tidy(command, root=False)
        inherit(command)

    return tree.fill(TREE, prepare)


def full_tree() -> LazyGroup:
    """Every command loaded, as typer builds them (with --jq): what the documentation generators
    read."""
    return build_tree(prepared=False).load_all()


def _print_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"vcctl {__version__}\n")
        raise typer.Exit()


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
        typer.Option(
            "--timeout",
            help="Seconds one attempt may take: connecting, headers and body together "
            "(default: 30).",
        ),
    ] = None,
    max_attempts: Annotated[
        int | None,
        typer.Option(
            "--max-attempts",
            help="Attempts per request, retries included (default: 5), 429s (rate limited) "
            "too; a request's waits on 429s stay within 120 s. 429 and 503 are retried for "
            "every call; 500, 502, 504 and lost answers for all but creates.",
        ),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate",
            help="At most this many requests per second (default: as fast as the API allows; "
            "a 429 slows every worker down).",
            metavar="N",
        ),
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
    ctx.obj = context = CommandContext(
        Flags(
            profile=profile,
            base_url=base_url,
            locale=locale,
            timeout=timeout,
            max_attempts=max_attempts,
            rate=rate,
            debug=debug,
            insecure_http=insecure_http,
            ca_bundle=ca_bundle,
        )
    )
    # The command closes what it opened before the process ends (see vcctl.cli.collector).
    ctx.call_on_close(context.close)
