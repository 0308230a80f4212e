"""`vcctl api METHOD PATH`: a raw authenticated call, like `gh api`."""

import json
import re
import sys
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import typer

from vcctl import validate
from vcctl.cli.commands.common import JsonOption
from vcctl.cli.context import context_of
from vcctl.cli.examples import examples
from vcctl.errors import UsageError
from vcctl.http.retry import CallKind
from vcctl.output import views

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# The retry rules by method (docs/design.md): a raw POST/PUT/PATCH may create something, so it is
# treated as a create (never repeated once it may have reached the server).
KINDS: dict[str, CallKind] = {
    "GET": "read",
    "DELETE": "delete",
    "POST": "create",
    "PUT": "create",
    "PATCH": "create",
}
LOCALE_PLACEHOLDER = "{locale}"
JSON_LITERAL = re.compile(r"true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
# What may stay as it is in PATH: the path and query syntax, and %XX escapes already made.
PATH_SAFE = "/?=&%:@!$'()*+,;~-._"

EXAMPLES = examples(
    (
        "Get a room (the configured locale fills in {locale}):",
        "vcctl api GET '/{locale}/api/v1/rooms/abc123'",
    ),
    (
        "Rename a participant, typing the body as fields:",
        "vcctl api POST '/{locale}/api/v1/participants/xyz789' --field username=Ada",
    ),
)

app = typer.Typer()


@app.command(
    "api",
    help=(
        "Send a raw authenticated request and print the response body.\n\n"
        "Settings, retries, errors and exit codes are those of every other command. A JSON "
        "answer is printed indented (it is JSON with or without --json); any other answer is "
        "printed as received."
    ),
    epilog=EXAMPLES,
)
def api(
    ctx: typer.Context,
    method: Annotated[str, typer.Argument(help="HTTP method: GET, POST, PUT, PATCH or DELETE.")],
    path: Annotated[
        str,
        typer.Argument(
            help="Path under the base URL, such as /{locale}/api/v1/rooms/ID; {locale} is "
            "replaced by the configured locale."
        ),
    ],
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            "-F",
            help="KEY=VALUE for the JSON body (the query string for GET and DELETE); true, false, "
            "null and JSON numbers are typed.",
            metavar="KEY=VALUE",
        ),
    ] = None,
    raw_field: Annotated[
        list[str] | None,
        typer.Option(
            "--raw-field",
            "-f",
            help="KEY=VALUE like --field, but the value is always a string.",
            metavar="KEY=VALUE",
        ),
    ] = None,
    input_file: Annotated[
        str | None,
        typer.Option("--input", help="JSON body from FILE, or - for stdin.", metavar="FILE"),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    verb = method.upper()
    if verb not in METHODS:
        raise UsageError(f"unsupported method {method!r}: use one of {', '.join(METHODS)}")
    _check_path(path)
    fields = dict(_parse_field(item, typed=True) for item in field or [])
    fields.update(_parse_field(item, typed=False) for item in raw_field or [])
    if fields and input_file is not None:
        raise UsageError("use either --field/--raw-field or --input, not both")
    body: Any = _read_json_input(input_file) if input_file is not None else None

    context = context_of(ctx)
    target = _target(path, context.settings().locale.value)
    if fields and verb in ("GET", "DELETE"):
        target = _with_query(target, fields)
    elif fields:
        body = fields
    response = context.client().request_raw(verb, target, body=body, kind=KINDS[verb])
    if response.body.strip():
        views.show_raw(response.body)


def _check_path(path: str) -> None:
    if not path.strip():
        raise UsageError("PATH must not be empty")
    validate.text(path, "PATH")
    if "://" in path or path.startswith("//"):
        raise UsageError(
            "PATH is a path under the base URL, not a URL",
            hint="set the host with --base-url or VCCTL_BASE_URL",
        )


def _target(path: str, locale: str) -> str:
    """PATH with {locale} replaced (dropped with its slash when the locale is empty), encoded."""
    if not locale:
        path = path.replace("/" + LOCALE_PLACEHOLDER, "")
    path = path.replace(LOCALE_PLACEHOLDER, locale)
    if not path.startswith("/"):
        path = "/" + path
    return quote(path, safe=PATH_SAFE)


def _with_query(target: str, fields: dict[str, Any]) -> str:
    query = urlencode(
        {
            key: value if isinstance(value, str) else json.dumps(value)
            for key, value in fields.items()
        }
    )
    return target + ("&" if "?" in target else "?") + query


def _parse_field(item: str, *, typed: bool) -> tuple[str, Any]:
    """KEY=VALUE; typed, the JSON literals true, false, null and numbers are not strings."""
    option = "--field" if typed else "--raw-field"
    key, sep, raw = validate.text(item, option).partition("=")
    if not sep or not key:
        raise UsageError(f"invalid {option} {item!r}: expected KEY=VALUE")
    if typed and JSON_LITERAL.fullmatch(raw):
        return key, json.loads(raw)
    return key, raw


def _read_json_input(source: str) -> Any:
    try:
        if source == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(source, "rb") as handle:
                data = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror or exc}") from None
    name = "standard input" if source == "-" else source
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise UsageError(f"{name} is not UTF-8 text") from None
    except ValueError as exc:
        raise UsageError(f"{name} is not valid JSON: {exc}") from None
