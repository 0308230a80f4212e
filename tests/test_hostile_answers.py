"""Answers no real API gives, from hostile servers written for the test (tests/hostile.py):
endless and gzip-bomb bodies, trickles, bad redirects, deep or out-of-range JSON, secrets in
headers and bodies, escape sequences. Each ends with a typed error (exit 9, or 2 before sending),
in bounded memory and time; none ends with a traceback or an internal error."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import (
    API_KEY,
    API_TOKEN,
    Result,
    assert_refused,
    clean_environment,
    run_in_process,
    run_vcctl,
    run_vcctl_measured,
)
from tests.hostile import (
    Behaviour,
    HostileServer,
    deep_json,
    endless_body,
    gzip_bomb,
    json_text,
    redirect,
    scripted,
    trickle,
)
from vcctl.emulator.server import Emulator

PEAK_RSS_LIMIT = 160 * 1024 * 1024  # an interpreter with requests (~50 MB) plus the 16 MiB cap


def environment(tmp_path: Path, base_url: str) -> dict[str, str]:
    env = clean_environment(tmp_path)
    env.update(VCCTL_BASE_URL=base_url, VCCTL_API_KEY=API_KEY, VCCTL_API_TOKEN=API_TOKEN)
    return env


Serve = Callable[[Behaviour], tuple[HostileServer, dict[str, str]]]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """`serve(behaviour)` -> (a HostileServer, the environment pointing vcctl at it)."""
    servers: list[HostileServer] = []

    def start(behaviour: Behaviour) -> tuple[HostileServer, dict[str, str]]:
        server = HostileServer(behaviour)
        servers.append(server)
        return server, environment(tmp_path, server.base_url)

    try:
        yield start
    finally:
        for server in servers:
            server.close()


def assert_network_error(result: Result, message: str) -> None:
    assert result.code == 9, result
    assert result.stdout == ""
    assert result.stderr.startswith("vcctl: error: "), result
    assert message in result.stderr, result
    assert "internal error" not in result.stderr
    assert "Traceback" not in result.stderr


# -- size ------------------------------------------------------------------------------------------


def test_an_endless_answer_ends_at_the_size_limit_in_bounded_memory(serve: Serve) -> None:
    _, env = serve(endless_body)
    measured = run_vcctl_measured(["rooms", "get", "abcdef"], env)
    assert_network_error(measured.result, "is larger than 16 MiB, the limit on an answer's size")
    assert "VCCTL_MAX_ANSWER_BYTES" in measured.result.stderr
    assert measured.peak_rss < PEAK_RSS_LIMIT, measured.peak_rss


def test_a_gzip_bomb_is_not_expanded_past_the_size_limit(serve: Serve) -> None:
    # ~4 MiB on the wire, 4 GiB once expanded.
    _, env = serve(gzip_bomb(members=4096))
    measured = run_vcctl_measured(["rooms", "get", "abcdef"], env)
    assert_network_error(measured.result, "is larger than 16 MiB")
    assert measured.peak_rss < PEAK_RSS_LIMIT, measured.peak_rss


def test_the_size_limit_is_set_by_vcctl_max_answer_bytes(serve: Serve) -> None:
    room = {"id": "abcdef", "name": "Big", "pad": "x" * (2 << 20)}
    _, env = serve(json_text(json.dumps(room)))
    assert run_in_process(["rooms", "get", "abcdef", "--json"], env).code == 0  # 2 MiB < 16 MiB
    small = run_in_process(["rooms", "get", "abcdef"], {**env, "VCCTL_MAX_ANSWER_BYTES": "1048576"})
    assert_network_error(small, "is larger than 1 MiB")
    wrong = run_in_process(["rooms", "get", "abcdef"], {**env, "VCCTL_MAX_ANSWER_BYTES": "lots"})
    assert_refused(wrong, "invalid VCCTL_MAX_ANSWER_BYTES 'lots'")


# -- time ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers-and-body"])
def test_a_trickling_answer_ends_at_the_timeout(serve: Serve, headers_too: bool) -> None:
    # One byte a second is never a silent second: a per-read timeout alone would wait for ever.
    server, env = serve(trickle(b'{"id": "abcdef", "name": "Slow"}', headers_too=headers_too))
    measured = run_vcctl_measured(
        ["rooms", "get", "abcdef", "--timeout", "2", "--max-attempts", "1"], env, timeout=30
    )
    message = "no answer from" if headers_too else "the answer of"
    assert_network_error(measured.result, message)
    assert "2 s" in measured.result.stderr
    assert len(server.received) == 1


# -- answers that are not what they claim ----------------------------------------------------------


def test_a_redirect_to_a_port_out_of_range_is_an_invalid_answer(serve: Serve) -> None:
    server, env = serve(redirect("http://127.0.0.1:99999/x"))
    result = run_in_process(["rooms", "get", "abcdef"], env)
    assert_network_error(result, "the API redirected to an invalid location")
    assert len(server.received) == 1  # not retried: it would redirect again


def test_json_nested_deeper_than_the_parser_is_an_invalid_answer(serve: Serve) -> None:
    _, env = serve(deep_json(100_000))
    result = run_in_process(["rooms", "get", "abcdef"], env)
    assert_network_error(result, "the API's answer is not valid JSON")


@pytest.mark.parametrize("number", ["1e400", "-1e400"])
def test_a_number_out_of_range_is_an_invalid_answer_not_infinity(serve: Serve, number: str) -> None:
    _, env = serve(json_text(f'{{"id": "abcdef", "name": "x", "size": {number}}}'))
    result = run_in_process(["rooms", "get", "abcdef", "--json"], env)
    assert result.code == 9, result
    assert "the API's answer is not valid JSON" in json.loads(result.stderr)["error"]["message"]
    assert "Infinity" not in result.stdout


def test_a_negative_retry_after_waits_the_backoff_not_zero(serve: Serve) -> None:
    busy = json_text('{"error": "busy"}', status=503, **{"Retry-After": "-1"})
    server, env = serve(scripted(busy, json_text('{"id": "abcdef", "name": "R"}')))
    result = run_in_process(["rooms", "get", "abcdef", "--json", "--debug"], env)
    assert result.code == 0, result
    [wait] = re.findall(r"HTTP 503: retrying in ([0-9.]+) s", result.stderr)
    assert 0.12 <= float(wait) <= 0.25  # the first backoff step, not "at once"
    assert len(server.received) == 2


# -- credentials -----------------------------------------------------------------------------------


def test_netrc_credentials_are_never_sent(
    tmp_path: Path, env: dict[str, str], emulator: Emulator
) -> None:
    netrc = Path(env["HOME"]) / ".netrc"
    netrc.parent.mkdir(parents=True, exist_ok=True)
    netrc.write_text("machine 127.0.0.1 login someone password netrc-password-1234\n")
    netrc.chmod(0o600)
    result = run_vcctl(["rooms", "get", "abcdef", "--debug"], env)
    assert result.code == 6, result  # answered, without netrc's credentials
    [request] = emulator.recorded()
    assert "Authorization" not in request.headers
    assert "Authorization" not in result.stderr


def test_debug_masks_cookies_both_ways(serve: Serve) -> None:
    cookie = "session=cookie-secret-abcdefgh"
    busy = json_text('{"error": "busy"}', status=503, **{"Set-Cookie": cookie, "Retry-After": "0"})
    server, env = serve(scripted(busy, json_text('{"id": "abcdef", "name": "R"}')))
    result = run_in_process(["rooms", "get", "abcdef", "--debug"], env)
    assert result.code == 0, result
    assert server.received[1].headers.get("Cookie") == cookie  # requests sent it back
    assert "< Set-Cookie: ****" in result.stderr
    assert "> Cookie: ****" in result.stderr
    assert "cookie-secret" not in result.stderr


def test_a_base_url_with_a_user_and_password_is_refused_without_echoing_it(
    tmp_path: Path,
) -> None:
    env = environment(tmp_path, "https://someone:url-password-5678@api.example")
    result = run_in_process(["rooms", "get", "abcdef"], env)
    assert_refused(result, "a user name or password in the URL is not supported")
    assert "url-password" not in result.stderr


def test_a_secret_echoed_across_the_debug_cut_leaves_no_head(serve: Serve) -> None:
    # The key starts 5 characters before the 2000th: cut first, its head would be shown.
    prefix = '{"pad": "'
    padding = "x" * (1995 - len(prefix) - len('", "echo": "'))
    body = f'{prefix}{padding}", "echo": "{API_KEY}"}}'
    assert body.index(API_KEY) == 1995
    _, env = serve(json_text(body))
    result = run_in_process(["api", "GET", "/x", "--debug"], env)
    debug = "\n".join(line for line in result.stderr.splitlines() if line.startswith("[debug] <"))
    assert padding in debug
    assert API_KEY[:5] not in debug  # "test-"
    assert "****" in debug


# -- server text on the terminal -------------------------------------------------------------------


def test_server_text_in_debug_lines_and_error_excerpts_is_escaped(serve: Serve) -> None:
    osc52 = "\x1b]52;c;ZXZpbA==\x07"
    page = f"<html>{osc52}\x1b[2J bad gateway</html>"
    server, env = serve(
        json_text(page, status=502, **{"X-Evil": osc52, "Content-Type": "text/html"})
    )
    result = run_in_process(["rooms", "get", "abcdef", "--debug", "--max-attempts", "1"], env)
    assert result.code == 8, result
    assert "\x1b" not in result.stderr
    assert "\x07" not in result.stderr
    assert "[debug] < X-Evil: \\x1b]52;c;ZXZpbA==\\x07" in result.stderr
    assert "vcctl: error: HTTP 502 Bad Gateway: <html>\\x1b]52" in result.stderr
    assert len(server.received) == 1
