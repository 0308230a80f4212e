"""`vcctl auth` and profiles end to end: the real CLI against the emulator over HTTP.

What the user sees (stdout, stderr, exit code), what is written (the file, its mode), and what the
API receives (which emulator, which path, which credentials) prove each behaviour.
"""

from __future__ import annotations

import json
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tests.helpers import (
    API_KEY,
    API_TOKEN,
    Result,
    run_in_process,
    run_in_pty,
    run_vcctl,
    unused_port,
)
from vcctl.emulator.server import Emulator, EmulatorConfig, Fault, RecordedRequest

PROBE_PATH = "/api/v1/rooms/vcctl-credentials-check"


@pytest.fixture
def other_emulator() -> Iterator[Emulator]:
    """A second API with the same credentials: which one receives a request shows the base URL."""
    with Emulator(EmulatorConfig(api_key=API_KEY, api_token=API_TOKEN)) as server:
        yield server


@pytest.fixture
def bare_env(env: dict[str, str]) -> dict[str, str]:
    """The base URL of the emulator, but no credentials in the environment (a person, not CI)."""
    return {k: v for k, v in env.items() if k not in ("VCCTL_API_KEY", "VCCTL_API_TOKEN")}


def config_file(env: dict[str, str]) -> Path:
    return Path(env["VCCTL_CONFIG_DIR"]) / "config.toml"


def read_config(env: dict[str, str]) -> dict[str, Any]:
    return tomllib.loads(config_file(env).read_text(encoding="utf-8"))


def write_config(env: dict[str, str], data: dict[str, Any]) -> Path:
    path = config_file(env)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    path.chmod(0o600)
    return path


def probes(emulator: Emulator) -> list[RecordedRequest]:
    return [r for r in emulator.recorded() if r.path.endswith(PROBE_PATH)]


def login(env: dict[str, str], *args: str, key: str = API_KEY, token: str = API_TOKEN) -> Result:
    return run_in_process(["auth", "login", *args], env, input=f"{key}\n{token}\n")


# -- login ----------------------------------------------------------------------------------------


def test_login_reads_stdin_saves_the_first_profile_as_active_and_checks_it(
    bare_env: dict[str, str], emulator: Emulator
) -> None:
    # A real process, with the secrets on a real pipe.
    result = run_vcctl(["auth", "login"], bare_env, input=f"{API_KEY}\n{API_TOKEN}\n")
    assert result.code == 0, result
    assert result.stdout == ""
    path = config_file(bare_env)
    # bare_env points at the emulator with VCCTL_BASE_URL: the profile keeps that URL, the one
    # the credentials were checked against, and the environment's override is said.
    assert result.stderr.splitlines() == [
        f"vcctl: saved profile 'default' (active) to {path}",
        "vcctl: the API accepts these credentials",
        f"vcctl: the profile keeps the base URL {emulator.base_url} (VCCTL_BASE_URL)",
        "vcctl: note: the environment overrides profile 'default': VCCTL_BASE_URL "
        "(unset it to use the profile)",
    ]
    assert read_config(bare_env) == {
        "active_profile": "default",
        "profiles": {
            "default": {"api_key": API_KEY, "api_token": API_TOKEN, "base_url": emulator.base_url}
        },
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # The check: one GET of a room that cannot exist, nothing created or changed.
    [probe] = emulator.recorded()
    assert (probe.method, probe.path, probe.answered) == ("GET", "/fr" + PROBE_PATH, 404)
    assert (probe.headers["apiKey"], probe.headers["apiToken"]) == (API_KEY, API_TOKEN)
    assert emulator.state() == {"rooms": [], "participants": []}


def test_login_of_a_second_profile_keeps_the_active_one_and_every_other_profile(
    bare_env: dict[str, str], emulator: Emulator
) -> None:
    assert login(bare_env).code == 0
    # Global flags after the subcommand work (cli.py hoists them); they are stored in the profile.
    result = login(
        bare_env,
        "--profile",
        "staging",
        "--base-url",
        emulator.base_url + "/",
        "--locale",
        "en",
        key="staging-key-0000000001",
        token="staging-token-000000002",
    )
    assert result.code == 0, result
    assert f"vcctl: saved profile 'staging' to {config_file(bare_env)}" in result.stderr
    assert "vcctl: run 'vcctl auth switch staging' to make it the active profile" in result.stderr
    assert "vcctl: warning: the API rejects these credentials (HTTP 401" in result.stderr
    assert read_config(bare_env) == {
        "active_profile": "default",
        "profiles": {
            "default": {
                "api_key": API_KEY,
                "api_token": API_TOKEN,
                "base_url": emulator.base_url,  # from bare_env's VCCTL_BASE_URL
            },
            "staging": {
                "api_key": "staging-key-0000000001",
                "api_token": "staging-token-000000002",
                "base_url": emulator.base_url,
                "locale": "en",
            },
        },
    }
    # The check used the profile's own locale and credentials.
    last = probes(emulator)[-1]
    assert last.path == "/en" + PROBE_PATH
    assert last.headers["apiKey"] == "staging-key-0000000001"


def test_login_again_replaces_the_secrets_and_keeps_the_other_settings(
    bare_env: dict[str, str], emulator: Emulator
) -> None:
    write_config(
        bare_env,
        {
            "active_profile": "p",
            "profiles": {"p": {"api_key": "old-key-000000001", "locale": "de", "timeout": 9}},
        },
    )
    result = login(bare_env, "--no-check")
    assert result.code == 0, result
    assert read_config(bare_env)["profiles"]["p"] == {
        "api_key": API_KEY,
        "api_token": API_TOKEN,
        "locale": "de",
        "timeout": 9,
        "base_url": emulator.base_url,  # from bare_env's VCCTL_BASE_URL
    }
    assert emulator.recorded() == []  # --no-check: nothing sent


def test_login_verify_refuses_to_save_rejected_credentials(
    bare_env: dict[str, str], emulator: Emulator
) -> None:
    result = login(bare_env, "--verify", key="wrong-key-0000000001")
    assert result.code == 4, result
    assert result.stderr.startswith(
        "vcctl: error: the API rejects these credentials (HTTP 401 Unauthorized: "
    )
    assert "profile 'default' not saved" in result.stderr
    assert not config_file(bare_env).exists()
    assert len(probes(emulator)) == 1


def test_login_verify_refuses_to_save_when_the_api_cannot_be_reached(
    bare_env: dict[str, str],
) -> None:
    env = {**bare_env, "VCCTL_BASE_URL": f"http://127.0.0.1:{unused_port()}"}
    result = login(env, "--verify")
    assert result.code == 9, result
    assert "could not check the credentials: cannot connect to http://127.0.0.1:" in result.stderr
    assert not config_file(env).exists()
    # Without --verify the profile is saved, with a warning.
    saved = login(env)
    assert saved.code == 0, saved
    assert "vcctl: warning: could not check the credentials" in saved.stderr
    assert read_config(env)["profiles"]["default"]["api_key"] == API_KEY


@pytest.mark.parametrize(
    ("stdin", "needle"),
    [("", "no API key given"), (f"{API_KEY}\n", "no API token given"), ("a key\nb\n", "spaces")],
)
def test_login_off_a_terminal_needs_two_clean_lines(
    bare_env: dict[str, str], emulator: Emulator, stdin: str, needle: str
) -> None:
    result = run_in_process(["auth", "login"], bare_env, input=stdin)
    assert result.code == 2, result
    assert needle in result.stderr
    assert not config_file(bare_env).exists()
    assert emulator.recorded() == []


def test_login_never_takes_secrets_as_arguments(bare_env: dict[str, str]) -> None:
    for args in (["auth", "login", API_KEY, API_TOKEN], ["auth", "login", "--api-key", API_KEY]):
        result = run_in_process(args, bare_env, input=f"{API_KEY}\n{API_TOKEN}\n")
        assert result.code == 2, result
        assert not config_file(bare_env).exists()


def test_login_on_a_terminal_prompts_without_echoing_the_secrets(
    bare_env: dict[str, str], emulator: Emulator
) -> None:
    result = run_in_pty(
        ["auth", "login", "--profile", "tty"],
        bare_env,
        answers=[("API key: ", API_KEY), ("API token: ", API_TOKEN)],
    )
    assert result.code == 0, result
    assert "API key: " in result.stdout
    assert "API token: " in result.stdout
    assert "saved profile 'tty' (active)" in result.stdout
    for secret in (API_KEY, API_TOKEN):
        assert secret not in result.stdout
        assert secret[:6] not in result.stdout
    assert read_config(bare_env)["profiles"]["tty"] == {
        "api_key": API_KEY,
        "api_token": API_TOKEN,
        "base_url": bare_env["VCCTL_BASE_URL"],
    }
    assert probes(emulator)[0].headers["apiToken"] == API_TOKEN


def test_login_on_a_terminal_stops_cleanly_on_end_of_input(bare_env: dict[str, str]) -> None:
    result = run_in_pty(["auth", "login"], bare_env, answers=[("API key: ", "\x04")])
    assert result.code == 2, result
    assert "vcctl: error: no API key given" in result.stdout
    assert "Traceback" not in result.stdout
    assert not config_file(bare_env).exists()


# -- status, list ---------------------------------------------------------------------------------


def test_status_shows_sources_masked_secrets_and_the_verdict(
    env: dict[str, str], emulator: Emulator
) -> None:
    result = run_vcctl(["auth", "status", "--locale", "en"], env)
    assert result.code == 0, result
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["SETTING", "VALUE", "FROM"]
    assert lines[1].split() == ["profile", "default", "default"]
    assert lines[2].split() == ["api_key", "****" + API_KEY[-4:], "environment"]
    assert lines[3].split() == ["api_token", "****" + API_TOKEN[-4:], "environment"]
    assert lines[4].split() == ["base_url", emulator.base_url, "environment"]
    assert lines[5].split() == ["locale", "en", "command-line", "flag"]
    assert lines[6].split() == ["timeout", "30.0", "default"]
    assert "credentials: accepted (the API accepts these credentials)" in result.stdout
    assert "\x1b[" not in result.stdout
    assert result.stderr == (
        "vcctl: note: the environment overrides profile 'default': VCCTL_API_KEY, "
        "VCCTL_API_TOKEN, VCCTL_BASE_URL (unset them to use the profile)\n"
    )


def test_status_reports_rejected_credentials_with_exit_4(
    env: dict[str, str], emulator: Emulator
) -> None:
    result = run_in_process(
        ["auth", "status", "--json"], {**env, "VCCTL_API_TOKEN": "wrong-token-0001"}
    )
    assert result.code == 4, result
    report = json.loads(result.stdout)
    assert report["api"]["accepted"] is False
    assert "HTTP 401" in report["api"]["detail"]
    assert report["api_token"] == {"value": "****0001", "source": "env"}
    error = json.loads(result.stderr)["error"]
    assert error["exit_code"] == 4
    assert error["status"] == 401
    assert error["message"].startswith("the API rejects these credentials (HTTP 401")


def test_status_exits_with_the_code_of_an_answer_that_tells_nothing(
    env: dict[str, str], emulator: Emulator
) -> None:
    emulator.add_fault(Fault("status", status=500, times=5))
    result = run_in_process(["auth", "status"], env)
    assert result.code == 8, result
    assert "credentials: unknown (could not check the credentials: HTTP 500" in result.stdout
    note, error = result.stderr.split("\n", 1)
    assert note.startswith("vcctl: note: the environment overrides profile 'default': ")
    assert error.startswith(
        "vcctl: error: could not check the credentials: HTTP 500 Internal Server Error"
    )


def test_status_without_credentials_prints_the_report_then_exits_4_with_a_hint(
    bare_env: dict[str, str], emulator: Emulator
) -> None:
    result = run_in_process(["auth", "status", "--json"], bare_env)
    assert result.code == 4, result
    report = json.loads(result.stdout)
    assert report["api_key"] == {"value": None, "source": "default"}
    assert report["api"] == {"accepted": None, "detail": "no API key and no API token configured"}
    error = json.loads(result.stderr)["error"]
    assert error == {"exit_code": 4, "status": None, "message": error["message"]}
    assert emulator.recorded() == []


def test_status_when_the_api_cannot_be_reached_exits_9(env: dict[str, str]) -> None:
    down = {**env, "VCCTL_BASE_URL": f"http://127.0.0.1:{unused_port()}"}
    result = run_in_process(["auth", "status", "--json"], down)
    assert result.code == 9, result
    assert json.loads(result.stdout)["api"]["accepted"] is None
    checked = run_in_process(["auth", "status", "--json", "--no-check"], down)
    assert checked.code == 0, checked
    assert json.loads(checked.stdout)["api"]["detail"] == "not checked (--no-check)"
    as_text = run_in_process(["auth", "status", "--no-check"], down)
    assert as_text.code == 0, as_text
    assert as_text.stdout.endswith("\ncredentials: not checked (--no-check)\n"), as_text.stdout


def test_list_shows_profiles_with_masked_keys(bare_env: dict[str, str]) -> None:
    write_config(
        bare_env,
        {
            "active_profile": "prod",
            "profiles": {
                "prod": {"api_key": "prod-key-00000000WXYZ", "api_token": "prod-token-0000001"},
                "dev": {"base_url": "http://127.0.0.1:1", "locale": ""},
            },
        },
    )
    text = run_in_process(["auth", "list"], bare_env)
    assert text.code == 0, text
    assert [line.split() for line in text.stdout.splitlines()] == [
        ["PROFILE", "BASE", "URL", "LOCALE", "API", "KEY"],
        ["*", "prod", "(default)", "(default)", "****WXYZ"],
        ["dev", "http://127.0.0.1:1", "(no", "prefix)", "(none)"],
    ]
    as_json = run_in_process(["auth", "list", "--json"], bare_env)
    # JSON Lines, one compact profile per line, as every list prints.
    assert all(line.startswith('{"name":') for line in as_json.stdout.splitlines())
    assert [json.loads(line) for line in as_json.stdout.splitlines()] == [
        {
            "name": "prod",
            "active": True,
            "base_url": None,
            "locale": None,
            "api_key": "****WXYZ",
            "api_token": "****0001",
        },
        {
            "name": "dev",
            "active": False,
            "base_url": "http://127.0.0.1:1",
            "locale": "",
            "api_key": None,
            "api_token": None,
        },
    ]
    assert "prod-key" not in text.stdout + as_json.stdout


def test_list_without_a_file_says_how_to_log_in(bare_env: dict[str, str]) -> None:
    result = run_in_process(["auth", "list"], bare_env)
    assert result.code == 0, result
    assert result.stdout == ""
    assert "run 'vcctl auth login'" in result.stderr
    assert not config_file(bare_env).exists()


# -- switch, logout, unknown profiles -------------------------------------------------------------

TWO_PROFILES: dict[str, Any] = {
    "active_profile": "one",
    "profiles": {
        "one": {"api_key": "one-key-00000001", "api_token": "one-token-000001", "locale": "en"},
        "two": {"api_key": API_KEY, "api_token": API_TOKEN, "locale": "de"},
    },
}


def test_switch_changes_the_profile_later_commands_use(
    bare_env: dict[str, str], emulator: Emulator
) -> None:
    write_config(bare_env, TWO_PROFILES)
    switched = run_in_process(["auth", "switch", "two"], bare_env)
    assert switched.code == 0, switched
    assert switched.stderr == (
        "vcctl: active profile is now 'two'\n"
        "vcctl: note: the environment overrides profile 'two': VCCTL_BASE_URL "
        "(unset it to use the profile)\n"
    )
    assert read_config(bare_env) == {**TWO_PROFILES, "active_profile": "two"}
    got = run_in_process(["rooms", "get", "nosuch"], bare_env)
    assert got.code == 6, got
    [request] = emulator.recorded()
    assert (request.path, request.headers["apiKey"]) == ("/de/api/v1/rooms/nosuch", API_KEY)


def test_switch_to_a_profile_without_credentials_says_so(bare_env: dict[str, str]) -> None:
    keyless = {"one": TWO_PROFILES["profiles"]["one"], "two": {"locale": "en"}}
    write_config(bare_env, {"active_profile": "one", "profiles": keyless})
    switched = run_in_process(["auth", "switch", "two"], bare_env)
    assert switched.code == 0, switched
    assert switched.stderr.startswith(
        "vcctl: active profile is now 'two'\n"
        "vcctl: profile 'two' has no credentials: run 'vcctl auth login --profile two' "
        "to save them\n"
    ), switched.stderr
    assert read_config(bare_env)["active_profile"] == "two"
    from_environment = {**bare_env, "VCCTL_API_KEY": "k" * 16, "VCCTL_API_TOKEN": "t" * 16}
    again = run_in_process(["auth", "switch", "two"], from_environment)
    assert "has no credentials" not in again.stderr, again.stderr


def test_switch_to_an_unknown_profile_exits_4_and_changes_nothing(
    bare_env: dict[str, str],
) -> None:
    path = write_config(bare_env, TWO_PROFILES)
    before = path.read_bytes()
    result = run_in_process(["auth", "switch", "three"], bare_env)
    assert result.code == 4, result
    assert "unknown profile 'three'" in result.stderr
    assert "(profiles: one, two)" in result.stderr
    assert "hint: run 'vcctl auth login --profile NAME'" in result.stderr
    assert path.read_bytes() == before


def test_logout_removes_only_the_secrets_of_that_profile(
    bare_env: dict[str, str], emulator: Emulator
) -> None:
    write_config(bare_env, TWO_PROFILES)
    result = run_in_process(["auth", "logout", "--profile", "two"], bare_env)
    assert result.code == 0, result
    assert "removed the API key and token of profile 'two'" in result.stderr
    assert read_config(bare_env) == {
        "active_profile": "one",
        "profiles": {"one": TWO_PROFILES["profiles"]["one"], "two": {"locale": "de"}},
    }
    again = run_in_process(["auth", "logout", "--profile", "two"], bare_env)
    assert again.code == 0, again
    assert "holds no credentials; nothing to remove" in again.stderr
    after = run_in_process(["rooms", "get", "abcdef", "--profile", "two"], bare_env)
    assert after.code == 4, after
    assert "vcctl: error: no API key and no API token configured" in after.stderr
    assert "hint: run 'vcctl auth login', or set VCCTL_API_KEY and VCCTL_API_TOKEN" in (
        after.stderr
    )
    assert emulator.recorded() == []


def test_logout_of_an_unknown_profile_exits_4(bare_env: dict[str, str]) -> None:
    path = write_config(bare_env, TWO_PROFILES)
    before = path.read_bytes()
    result = run_in_process(["auth", "logout"], {**bare_env, "VCCTL_PROFILE": "ghost"})
    assert result.code == 4, result
    assert "unknown profile 'ghost'" in result.stderr
    assert path.read_bytes() == before


@pytest.mark.parametrize("where", ["flag", "env"])
def test_a_named_profile_that_does_not_exist_exits_4_with_a_hint(
    env: dict[str, str], emulator: Emulator, where: str
) -> None:
    # Credentials in the environment do not rescue a typo in the profile name.
    write_config(env, TWO_PROFILES)
    args = ["rooms", "get", "abcdef"]
    if where == "flag":
        args += ["--profile", "prdo"]
        run_env = env
    else:
        run_env = {**env, "VCCTL_PROFILE": "prdo"}
    result = run_in_process(args, run_env)
    assert result.code == 4, result
    source = "command-line flag" if where == "flag" else "environment"
    assert f"vcctl: error: profile 'prdo' (from {source}) does not exist" in result.stderr
    assert "(profiles: one, two)" in result.stderr
    assert "hint: run 'vcctl auth login --profile prdo'" in result.stderr
    assert "VCCTL_API_KEY" in result.stderr
    assert emulator.recorded() == []


# -- the precedence table, end to end -------------------------------------------------------------


def precedence_config(file_url: str) -> dict[str, Any]:
    """Profiles whose values differ from every other layer; only "fileprof" holds good secrets."""

    def profile(locale: str, key: str, timeout: float) -> dict[str, Any]:
        return {
            "base_url": file_url,
            "locale": locale,
            "api_key": key,
            "api_token": key.replace("key", "token"),
            "timeout": timeout,
        }

    return {
        "active_profile": "fileprof",
        "profiles": {
            "default": profile("nl", "default-key-000000001", 11),
            "fileprof": {**profile("de", API_KEY, 7), "api_token": API_TOKEN},
            "envprof": profile("it", "envprof-key-000000002", 8),
            "flagprof": profile("es", "flagprof-key-00000003", 9),
        },
    }


def status_json(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    result = run_in_process(["auth", "status", "--json", *args], env)
    assert result.code == 0, result
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def sources(report: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    keys = ("profile", "api_key", "api_token", "base_url", "locale", "timeout")
    return {key: (report[key]["value"], report[key]["source"]) for key in keys}


def test_precedence_flags_beat_the_environment(
    bare_env: dict[str, str], emulator: Emulator, other_emulator: Emulator
) -> None:
    write_config(bare_env, precedence_config(other_emulator.base_url))
    env = {
        **bare_env,
        "VCCTL_PROFILE": "envprof",
        "VCCTL_BASE_URL": other_emulator.base_url,
        "VCCTL_LOCALE": "pt",
        "VCCTL_TIMEOUT": "4",
        "VCCTL_API_KEY": API_KEY,  # no flag exists for secrets: the environment is their top
        "VCCTL_API_TOKEN": API_TOKEN,
    }
    flags = ["--profile", "flagprof", "--base-url", emulator.base_url, "--locale", "en"]
    report = status_json([*flags, "--timeout", "3"], env)
    assert sources(report) == {
        "profile": ("flagprof", "flag"),
        "api_key": ("****" + API_KEY[-4:], "env"),
        "api_token": ("****" + API_TOKEN[-4:], "env"),
        "base_url": (emulator.base_url, "flag"),
        "locale": ("en", "flag"),
        "timeout": (3.0, "flag"),
    }
    [probe] = emulator.recorded()
    assert probe.path == "/en" + PROBE_PATH
    assert (probe.headers["apiKey"], probe.headers["apiToken"]) == (API_KEY, API_TOKEN)
    assert other_emulator.recorded() == []


def test_precedence_the_environment_beats_the_file(
    bare_env: dict[str, str], emulator: Emulator, other_emulator: Emulator
) -> None:
    write_config(bare_env, precedence_config(other_emulator.base_url))
    env = {
        **bare_env,
        "VCCTL_PROFILE": "envprof",
        "VCCTL_BASE_URL": emulator.base_url,
        "VCCTL_LOCALE": "pt",
        "VCCTL_TIMEOUT": "4",
        "VCCTL_API_KEY": API_KEY,
        "VCCTL_API_TOKEN": API_TOKEN,
    }
    report = status_json([], env)
    assert sources(report) == {
        "profile": ("envprof", "env"),
        "api_key": ("****" + API_KEY[-4:], "env"),
        "api_token": ("****" + API_TOKEN[-4:], "env"),
        "base_url": (emulator.base_url, "env"),
        "locale": ("pt", "env"),
        "timeout": (4.0, "env"),
    }
    [probe] = emulator.recorded()
    assert probe.path == "/pt" + PROBE_PATH
    assert (probe.headers["apiKey"], probe.headers["apiToken"]) == (API_KEY, API_TOKEN)
    assert other_emulator.recorded() == []


def test_precedence_the_active_profile_beats_the_defaults(
    bare_env: dict[str, str], emulator: Emulator, other_emulator: Emulator
) -> None:
    write_config(bare_env, precedence_config(emulator.base_url))
    env = {k: v for k, v in bare_env.items() if k != "VCCTL_BASE_URL"}
    report = status_json([], env)
    assert (
        sources(report)
        == {
            "profile": ("fileprof", "file"),  # beats the default profile name, "default"
            "api_key": ("****" + API_KEY[-4:], "file"),
            "api_token": ("****" + API_TOKEN[-4:], "file"),
            "base_url": (emulator.base_url, "file"),
            "locale": ("de", "file"),
            "timeout": (7.0, "file"),
        }
    )
    [probe] = emulator.recorded()
    assert probe.path == "/de" + PROBE_PATH
    assert (probe.headers["apiKey"], probe.headers["apiToken"]) == (API_KEY, API_TOKEN)


def test_precedence_defaults_fill_what_no_layer_sets(
    bare_env: dict[str, str], emulator: Emulator
) -> None:
    env = {k: v for k, v in bare_env.items() if k != "VCCTL_BASE_URL"}
    write_config(
        env,
        {
            "profiles": {
                "default": {
                    "base_url": emulator.base_url,
                    "api_key": API_KEY,
                    "api_token": API_TOKEN,
                }
            }
        },
    )
    report = status_json([], env)
    assert sources(report) == {
        "profile": ("default", "default"),
        "api_key": ("****" + API_KEY[-4:], "file"),
        "api_token": ("****" + API_TOKEN[-4:], "file"),
        "base_url": (emulator.base_url, "file"),
        "locale": ("fr", "default"),
        "timeout": (30.0, "default"),
    }
    assert [r.path for r in emulator.recorded()] == ["/fr" + PROBE_PATH]
    # With no file at all, the base URL is the real API's (not contacted: --no-check).
    config_file(env).unlink()
    bare = run_in_process(["auth", "status", "--json", "--no-check"], env)
    assert json.loads(bare.stdout)["base_url"] == {
        "value": "https://videoconnect.app",
        "source": "default",
    }


# -- no secret in any output ----------------------------------------------------------------------

SECRET_KEY = "Kq7ZxW93mLpR2vNt8sYb"
SECRET_TOKEN = "Tg4HjD61cXfV0uQe5aMn"


@pytest.fixture
def secret_emulator() -> Iterator[Emulator]:
    server = Emulator(EmulatorConfig(api_key=SECRET_KEY, api_token=SECRET_TOKEN)).start()
    try:
        yield server
    finally:
        server.shutdown()


def leaked(text: str) -> list[str]:
    """Any 5-character piece of a secret found in text (4 is what a mask may show)."""
    return [
        secret[i : i + 5]
        for secret in (SECRET_KEY, SECRET_TOKEN)
        for i in range(len(secret) - 4)
        if secret[i : i + 5] in text
    ]


def test_no_command_prints_a_secret_even_with_debug(
    tmp_path: Path, secret_emulator: Emulator
) -> None:
    from tests.helpers import clean_environment

    env = clean_environment(tmp_path)
    env["VCCTL_BASE_URL"] = secret_emulator.base_url
    secrets = f"{SECRET_KEY}\n{SECRET_TOKEN}\n"
    runs: list[Result] = [
        run_in_process(["auth", "login", "--debug"], env, input=secrets),
        run_in_process(
            ["auth", "login", "--profile", "x", "--debug"], env, input="wrong\nwrong2\n"
        ),
        run_in_process(["auth", "status", "--debug"], env),
        run_in_process(["auth", "status", "--json", "--debug"], env),
        run_in_process(["auth", "list"], env),
        run_in_process(["auth", "list", "--json"], env),
    ]
    created = run_in_process(["rooms", "create", "--name", "r", "--json", "--debug"], env)
    room_id = json.loads(created.stdout)["id"]
    runs += [
        created,
        run_in_process(["rooms", "get", room_id, "--debug"], env),
        run_in_process(["rooms", "get", "nosuch", "--json", "--debug"], env),
        run_in_process(
            ["participants", "create", "--room", room_id, "--username", "u", "--debug"], env
        ),
        run_in_process(["api", "GET", f"/fr/api/v1/rooms/{room_id}", "--debug"], env),
        # A server that echoes the credentials in its error: vcctl must not repeat them.
        run_in_process(["rooms", "get", room_id, "--debug"], {**env, "VCCTL_DEBUG": "1"}),
    ]
    secret_emulator.add_fault(
        Fault("status", status=500, message=f"bad key {SECRET_KEY} token {SECRET_TOKEN}")
    )
    echoed = run_in_process(["rooms", "get", room_id, "--max-attempts", "1"], env)
    assert echoed.code == 8, echoed
    assert "bad key ****" in echoed.stderr
    runs += [echoed, run_in_process(["auth", "logout", "--debug"], env)]
    for result in runs:
        assert leaked(result.stdout + result.stderr) == [], result
    assert "[debug] > apiKey: ****" + SECRET_KEY[-4:] in runs[0].stderr
    assert "[debug] > apiToken: ****" + SECRET_TOKEN[-4:] in runs[0].stderr


def test_debug_logs_each_request_and_response_on_stderr(
    env: dict[str, str], emulator: Emulator
) -> None:
    result = run_in_process(["rooms", "create", "--name", "Demo", "--json", "--debug"], env)
    assert result.code == 0, result
    assert json.loads(result.stdout)["name"] == "Demo"  # stdout carries only the result
    debug = [line for line in result.stderr.splitlines() if line.startswith("[debug] ")]
    assert debug[0] == f"[debug] > POST {emulator.base_url}/api/v1/rooms (attempt 1/5)"
    assert "[debug] > Content-Type: application/json" in debug
    assert '[debug] > {"name": "Demo"}' in debug
    assert any(line.startswith("[debug] < 200 OK (") and line.endswith(" ms)") for line in debug)
    assert any(line.startswith('[debug] < {"id": ') for line in debug)
    assert API_KEY not in result.stderr
    assert API_TOKEN not in result.stderr
    quiet = run_in_process(["rooms", "create", "--name", "Demo"], env)
    assert "[debug]" not in quiet.stderr


def test_logout_of_the_active_profile_switches_to_the_one_left_with_credentials(
    bare_env: dict[str, str], emulator: Emulator
) -> None:
    write_config(bare_env, TWO_PROFILES)
    result = run_in_process(["auth", "logout"], bare_env)
    assert result.code == 0, result
    assert "removed the API key and token of profile 'one'" in result.stderr
    assert "vcctl: active profile is now 'two' (the one profile with credentials)\n" in (
        result.stderr
    )
    assert read_config(bare_env)["active_profile"] == "two"
    got = run_in_process(["rooms", "get", "nosuch"], bare_env)
    assert got.code == 6, got
    [request] = emulator.recorded()
    assert request.headers["apiKey"] == API_KEY


def test_logout_of_the_active_profile_says_which_to_choose_when_several_are_left(
    bare_env: dict[str, str],
) -> None:
    three = {**TWO_PROFILES["profiles"], "three": {"api_key": "k" * 16, "api_token": "t" * 16}}
    write_config(bare_env, {"active_profile": "one", "profiles": three})
    result = run_in_process(["auth", "logout"], bare_env)
    assert result.code == 0, result
    assert (
        "vcctl: profile 'one' is still active, with no credentials: choose another with "
        "'vcctl auth switch NAME' ('two', 'three')\n"
    ) in result.stderr
    assert read_config(bare_env)["active_profile"] == "one"
    write_config(bare_env, {"active_profile": "one", "profiles": {"one": three["one"]}})
    alone = run_in_process(["auth", "logout"], bare_env)
    assert "run 'vcctl auth login --profile one' to save new ones" in alone.stderr, alone
