"""The environment variables vcctl reads, described once.

The man page's ENVIRONMENT section is rendered from this list, and a test checks it against the
variables the code reads and against the README's settings table. In descriptions, `**text**`
is bold (a flag or a command) and `*text*` italic (a file or key name).
"""

from __future__ import annotations

from typing import NamedTuple


class Variable(NamedTuple):
    name: str
    description: str  # one or two sentences
    flag: str | None = None  # the command-line flag that wins over it


ENVIRONMENT: tuple[Variable, ...] = (
    Variable(
        "VCCTL_PROFILE", "The profile to use, instead of the file's *active_profile*.", "--profile"
    ),
    Variable("VCCTL_API_KEY", "The API key (never a command-line argument)."),
    Variable("VCCTL_API_TOKEN", "The API token (never a command-line argument)."),
    Variable("VCCTL_BASE_URL", "The API base URL, as **--base-url**.", "--base-url"),
    Variable(
        "VCCTL_LOCALE",
        "The locale prefix of API paths, as **--locale**; empty for none.",
        "--locale",
    ),
    Variable(
        "VCCTL_TIMEOUT",
        "Seconds one attempt may take, connecting, headers and body together, as **--timeout**.",
        "--timeout",
    ),
    Variable(
        "VCCTL_MAX_ATTEMPTS",
        "Attempts per request, retries included, as **--max-attempts**.",
        "--max-attempts",
    ),
    Variable(
        "VCCTL_MAX_ANSWER_BYTES",
        "The largest answer accepted, in bytes once decoded (default 16777216, 16 MiB); a larger "
        "one ends with exit 9.",
    ),
    Variable(
        "VCCTL_RATE",
        "At most this many requests per second, as **--rate**; unset: as fast as the API allows.",
        "--rate",
    ),
    Variable(
        "VCCTL_CA_BUNDLE",
        "CA bundle file to verify TLS certificates with, as **--ca-bundle**.",
        "--ca-bundle",
    ),
    Variable(
        "REQUESTS_CA_BUNDLE",
        "CA bundle file to verify TLS certificates with, when neither **--ca-bundle** nor "
        "VCCTL_CA_BUNDLE is set.",
        "--ca-bundle",
    ),
    Variable(
        "VCCTL_INSECURE_HTTP",
        "Set to 1 or true to allow plain http to a host that is not loopback.",
        "--insecure-http",
    ),
    Variable(
        "VCCTL_DEBUG", "Set to 1 to log HTTP traffic to standard error (secrets masked).", "--debug"
    ),
    Variable(
        "VCCTL_CONFIG_DIR", "The folder of *config.toml*, instead of the default (see FILES)."
    ),
    Variable(
        "VCCTL_DATA_DIR",
        "The folder of the inventory, *inventory.sqlite3*, instead of the user data folder.",
    ),
    Variable(
        "VCCTL_INVENTORY_URL",
        "A **postgresql://** URL (libpq syntax): keep the inventory in that shared database, in "
        "its schema **vcctl**, instead of the local file (profile: **inventory_url**; needs "
        "**pip install 'vcctl[postgres]'**).",
    ),
    Variable(
        "VCCTL_INVENTORY",
        "Set to off to neither read nor write the inventory (profile: **inventory = false**).",
    ),
    Variable(
        "VCCTL_EMULATOR_PID",
        "The emulator **vcctl emulator stop** ends (set by **start --detach**'s output).",
    ),
    Variable(
        "NO_COLOR",
        "When set, human output is plain text with no colour, even on a terminal "
        "(**rooms watch** keeps its live view, without colour).",
    ),
)
