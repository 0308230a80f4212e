"""`vcctl api METHOD PATH`: a raw authenticated call, end to end against the emulator."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import API_KEY, API_TOKEN, Runner
from vcctl.cli.commands.api_call import _parse_field, _target
from vcctl.emulator.server import Emulator, Fault
from vcctl.errors import UsageError
from vcctl.http.api import Api
from vcctl.http.client import Client


def make_room(emulator: Emulator, name: str = "Raw") -> dict[str, Any]:
    """A room created straight through the API, then the record wiped for the test's own."""
    client = Client(base_url=emulator.base_url, api_key=API_KEY, api_token=API_TOKEN, timeout=5)
    room: dict[str, Any] = Api(client, "fr").create_room({"name": name})
    client.close()
    emulator.clear_recorded()
    return room


def test_get_prints_the_body_indented(vcctl: Runner, emulator: Emulator) -> None:
    room = make_room(emulator)

    result = vcctl("api", "GET", f"/{{locale}}/api/v1/rooms/{room['id']}")

    assert result.code == 0, result
    assert result.stderr == ""
    assert json.loads(result.stdout) == {**room, "participants": []}
    assert result.stdout.startswith('{\n  "id"')  # indented by 2, as received
    [request] = emulator.recorded()
    assert (request.method, request.path) == ("GET", f"/fr/api/v1/rooms/{room['id']}")
    assert request.headers["apiKey"] == API_KEY
    assert request.headers["apiToken"] == API_TOKEN


def test_post_sends_typed_fields_as_the_json_body(vcctl: Runner, emulator: Emulator) -> None:
    result = vcctl(
        "api", "post", "api/v1/rooms",
        "-F", "name=Typed", "-F", "color=#aabbcc", "-F", "seats=12", "-F", "ratio=-1.5e3",
        "-F", "open=true", "-F", "note=null", "-F", "code=007", "-f", "label=12",
        "--json",
    )  # fmt: skip

    assert result.code == 0, result
    [request] = emulator.recorded()
    assert (request.method, request.path) == ("POST", "/api/v1/rooms")
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "name": "Typed",
        "color": "#aabbcc",
        "seats": 12,
        "ratio": -1500.0,
        "open": True,
        "note": None,
        "code": "007",  # not a JSON number: stays a string
        "label": "12",  # --raw-field: always a string
    }
    assert json.loads(result.stdout) == emulator.state()["rooms"][0]


def test_get_fields_go_to_the_query_string(vcctl: Runner, emulator: Emulator) -> None:
    room = make_room(emulator)

    result = vcctl("api", "GET", f"/en/api/v1/rooms/{room['id']}", "-F", "a=1", "-f", "b=x y")

    assert result.code == 0, result
    [request] = emulator.recorded()
    assert request.path == f"/en/api/v1/rooms/{room['id']}?a=1&b=x+y"
    assert request.body == ""


def test_not_found_exits_6_with_the_api_message(vcctl: Runner, emulator: Emulator) -> None:
    result = vcctl("api", "GET", "/{locale}/api/v1/rooms/missing")

    assert result.code == 6, result
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == "vcctl: error: HTTP 404 Not Found: Room not found"

    as_json = vcctl("api", "DELETE", "/{locale}/api/v1/rooms/missing", "--json")
    assert as_json.code == 6, as_json
    error = json.loads(as_json.stderr)["error"]
    assert (error["exit_code"], error["status"]) == (6, 404)
    assert [(r.method, r.path) for r in emulator.recorded()] == [
        ("GET", "/fr/api/v1/rooms/missing"),
        ("DELETE", "/fr/api/v1/rooms/missing"),
    ]


def test_input_from_stdin_is_sent_as_is(vcctl: Runner, emulator: Emulator) -> None:
    body = {"name": "Été", "color": "#010203"}

    result = vcctl("api", "POST", "/api/v1/rooms", "--input", "-", input=json.dumps(body))

    assert result.code == 0, result
    [request] = emulator.recorded()
    assert json.loads(request.body) == body
    assert json.loads(result.stdout)["name"] == "Été"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-F", "novalue"], "invalid --field 'novalue': expected KEY=VALUE"),
        (["--input", "missing.json"], "cannot read missing.json: No such file or directory"),
        (["--input", "-", "-F", "a=1"], "use either --field/--raw-field or --input, not both"),
    ],
)
def test_bad_input_exits_2_and_sends_nothing(
    vcctl: Runner, emulator: Emulator, args: list[str], message: str
) -> None:
    result = vcctl("api", "POST", "/api/v1/rooms", *args)

    assert result.code == 2, result
    assert result.stderr.splitlines()[0] == f"vcctl: error: {message}"
    assert emulator.recorded() == []


def test_a_url_is_refused(vcctl: Runner, emulator: Emulator) -> None:
    result = vcctl("api", "GET", "https://elsewhere.example/api/v1/rooms/x")

    assert result.code == 2, result
    assert result.stderr.splitlines() == [
        "vcctl: error: PATH is a path under the base URL, not a URL",
        "hint: set the host with --base-url or VCCTL_BASE_URL",
    ]
    assert emulator.recorded() == []


def test_retries_and_non_json_answers_like_every_command(vcctl: Runner, emulator: Emulator) -> None:
    room = make_room(emulator)
    emulator.add_fault(Fault("status", status=503, retry_after="0", method="GET"))
    emulator.add_fault(Fault("html", status=200, method="GET"))

    # The 503 is retried; the HTML page that follows is a success, printed as received.
    result = vcctl("api", "GET", f"/fr/api/v1/rooms/{room['id']}")

    assert result.code == 0, result
    assert result.stdout.startswith("<html>")
    assert "200 OK" in result.stdout
    assert [r.answered for r in emulator.recorded()] == [503, 200]


def test_a_raw_post_is_not_repeated_after_a_502(vcctl: Runner, emulator: Emulator) -> None:
    emulator.add_fault(Fault("status", status=502, method="POST", apply=True))

    result = vcctl("api", "POST", "/api/v1/rooms", "-F", "name=Once")

    assert result.code == 8, result
    assert len(emulator.recorded()) == 1
    assert "may have been carried out" in result.stderr


@pytest.mark.parametrize(
    ("path", "locale", "expected"),
    [
        ("/{locale}/api/v1/rooms/a", "fr", "/fr/api/v1/rooms/a"),
        ("/{locale}/api/v1/rooms/a", "", "/api/v1/rooms/a"),
        ("{locale}/api/v1/events", "en-US", "/en-US/api/v1/events"),
        ("api/v1/rooms/a b", "fr", "/api/v1/rooms/a%20b"),
        ("/fr/api/v1/rooms/a%2Fb?x=1", "fr", "/fr/api/v1/rooms/a%2Fb?x=1"),
    ],
)
def test_target_path(path: str, locale: str, expected: str) -> None:
    assert _target(path, locale) == expected


@pytest.mark.parametrize(
    ("item", "typed", "value"),
    [
        ("n=1", True, 1),
        ("n=1", False, "1"),
        ("n=-0.5", True, -0.5),
        ("n=1e3", True, 1000.0),
        ("n=1_000", True, "1_000"),
        ("n= 1", True, " 1"),
        ("n=NaN", True, "NaN"),
        ("n=true", True, True),
        ("n=", True, ""),
        ("n=a=b", True, "a=b"),
    ],
)
def test_field_values(item: str, typed: bool, value: Any) -> None:
    assert _parse_field(item, typed=typed) == ("n", value)


def test_field_without_key_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        _parse_field("=1", typed=True)
