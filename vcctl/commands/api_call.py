"""`vcctl api METHOD PATH`: a raw authenticated call, like `gh api`."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from vcctl.commands.common import JsonOption
from vcctl.errors import UsageError

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def api(
    ctx: typer.Context,
    method: Annotated[str, typer.Argument(help="HTTP method: GET, POST, PUT, PATCH or DELETE.")],
    path: Annotated[
        str,
        typer.Argument(help="Path under the base URL, such as /fr/api/v1/rooms/ID; {locale} is "
                       "replaced by the configured locale."),
    ],
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field", "-F",
            help="KEY=VALUE for the JSON body (query string for GET/DELETE); true, false, null "
            "and numbers are typed.",
        ),
    ] = None,
    input_file: Annotated[
        str | None,
        typer.Option("--input", help="JSON body from FILE, or - for stdin.", metavar="FILE"),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Send a raw authenticated request and print the response body."""
    from urllib.parse import quote, urlencode

    from vcctl import output
    from vcctl.app import state

    verb = method.upper()
    if verb not in METHODS:
        raise UsageError(f"unsupported method {method!r}: use one of {', '.join(METHODS)}")
    if "://" in path or path.startswith("//"):
        raise UsageError("PATH is a path under the base URL, not a URL (set --base-url instead)")
    if field and input_file is not None:
        raise UsageError("use either --field or --input, not both")
    fields = dict(_parse_field(item) for item in field or [])
    body: Any = None
    if input_file is not None:
        body = _read_json_input(input_file)

    settings = state(ctx).settings()
    path = path.replace("{locale}", settings.locale.value)
    if not path.startswith("/"):
        path = "/" + path
    path = quote(path, safe="/?=&%:@!$'()*+,;~-._")
    if fields and verb in ("GET", "DELETE"):
        path += ("&" if "?" in path else "?") + urlencode(
            {key: json.dumps(value) if not isinstance(value, str) else value
             for key, value in fields.items()}
        )
    elif fields:
        body = fields

    kind = {"GET": "read", "DELETE": "delete"}.get(verb, "create")
    client = state(ctx).client()
    response = client.request_raw(verb, path, body=body, kind=kind)  # type: ignore[arg-type]
    if response.body.strip():
        output.show_raw(response.body)


def _parse_field(item: str) -> tuple[str, Any]:
    key, sep, raw = item.partition("=")
    if not sep or not key:
        raise UsageError(f"invalid --field {item!r}: expected KEY=VALUE")
    value: Any = raw
    if raw in ("true", "false", "null"):
        value = json.loads(raw)
    else:
        try:
            value = int(raw)
        except ValueError:
            try:
                value = float(raw) if raw.strip() and raw.lower() not in ("nan", "inf", "-inf",
                                                                         "infinity") else raw
            except ValueError:
                value = raw
    return key, value


def _read_json_input(source: str) -> Any:
    try:
        if source == "-":
            text = sys.stdin.read()
        else:
            with open(source, encoding="utf-8") as handle:
                text = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{source} is not UTF-8 text") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{source} is not valid JSON: {exc}") from None
