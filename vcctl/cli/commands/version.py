"""`vcctl version`: what a bug report needs to know, and nothing secret."""

import os
import platform
import sys
from importlib import metadata
from typing import Annotated

import typer

from vcctl import __version__
from vcctl.cli.examples import examples
from vcctl.config.profiles import config_path
from vcctl.inventory.records import inventory_enabled, inventory_path
from vcctl.output import streams

app = typer.Typer()

EXAMPLES = examples(
    ("Show the versions and paths a bug report needs:", "vcctl version"),
    ("The same as one JSON object:", "vcctl version --json"),
)


def _installed(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def report() -> dict[str, str]:
    """Versions (read from the installed metadata: nothing is imported) and where vcctl keeps
    its files. No setting's value and no secret: this is for pasting into a bug report."""
    inventory = str(inventory_path(os.environ))
    if not inventory_enabled(os.environ):
        inventory += " (off: VCCTL_INVENTORY)"
    return {
        "vcctl": __version__,
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "typer": _installed("typer"),
        "rich": _installed("rich"),
        "requests": _installed("requests"),
        "platform": platform.platform(),
        "executable": sys.executable,
        "config_file": str(config_path(os.environ)),
        "inventory": inventory,
    }


@app.command(
    "version",
    help=(
        "Print vcctl's version, Python's, its libraries', the platform, and where the config "
        "file and the inventory are (no secrets), for bug reports."
    ),
    epilog=EXAMPLES,
)
def version(
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the same as one JSON object.")
    ] = False,
) -> None:
    facts = report()
    if json_out:
        streams.print_json(facts)
        return
    width = max(len(name) for name in facts) + 2
    streams.write_stdout("".join(f"{name.ljust(width)}{value}\n" for name, value in facts.items()))
