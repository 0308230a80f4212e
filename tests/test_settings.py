"""The settings precedence, in process: flag > environment > active profile > default.

Every setting is checked with each layer set together with all the layers below it, so each test
shows one layer beating every lower one. The end-to-end proof (what the emulator receives) is in
test_auth.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from vcctl.config.settings import Flags, Settings, resolve
from vcctl.errors import ConfigError, CredentialsError
from vcctl.text import mask

LAYERS = ("flag", "env", "file", "default")


@dataclass(frozen=True)
class Row:
    """One row of the precedence table, with a distinct value for each layer."""

    setting: str
    flag: dict[str, Any] | None  # Flags(**flag); None when the setting has no flag
    env: tuple[str, str]
    file: Any  # the value in the active profile (or active_profile itself, for the profile)
    expected: dict[str, Any]  # layer -> resolved value


ROWS = [
    Row(
        "profile",
        {"profile": "from-flag"},
        ("VCCTL_PROFILE", "from-env"),
        "from-file",
        {"flag": "from-flag", "env": "from-env", "file": "from-file", "default": "default"},
    ),
    Row(
        "api_key",
        None,
        ("VCCTL_API_KEY", "key-from-env-0001"),
        "key-from-file-0002",
        {"env": "key-from-env-0001", "file": "key-from-file-0002", "default": None},
    ),
    Row(
        "api_token",
        None,
        ("VCCTL_API_TOKEN", "token-from-env-0003"),
        "token-from-file-0004",
        {"env": "token-from-env-0003", "file": "token-from-file-0004", "default": None},
    ),
    Row(
        "base_url",
        {"base_url": "https://flag.example/"},
        ("VCCTL_BASE_URL", "https://env.example"),
        "https://file.example",
        {
            "flag": "https://flag.example",
            "env": "https://env.example",
            "file": "https://file.example",
            "default": "https://videoconnect.app",
        },
    ),
    Row(
        "locale",
        {"locale": "en"},
        ("VCCTL_LOCALE", "de"),
        "it",
        {"flag": "en", "env": "de", "file": "it", "default": "fr"},
    ),
    Row(
        "timeout",
        {"timeout": 1.5},
        ("VCCTL_TIMEOUT", "2.5"),
        3.5,
        {"flag": 1.5, "env": 2.5, "file": 3.5, "default": 30.0},
    ),
]


def write_config(directory: Path, data: dict[str, Any]) -> Path:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / "config.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    path.chmod(0o600)
    return path


def resolve_with(
    tmp_path: Path, *, flags: Flags | None = None, env: dict[str, str] | None = None, config: Any
) -> Settings:
    directory = tmp_path / "config"
    if config is not None:
        write_config(directory, config)
    return resolve(flags or Flags(), {"VCCTL_CONFIG_DIR": str(directory), **(env or {})})


def layers_for(row: Row, top: str) -> tuple[Flags, dict[str, str], dict[str, Any]]:
    """The flags, environment and file with `top` and every layer below it set."""
    active = LAYERS[LAYERS.index(top) :]
    flags = Flags(**row.flag) if "flag" in active and row.flag else Flags()
    env = dict([row.env]) if "env" in active else {}
    profiles: dict[str, Any] = {
        name: {} for name in ("default", "from-flag", "from-env", "from-file")
    }
    config: dict[str, Any] = {"profiles": profiles}
    if "file" in active:
        if row.setting == "profile":
            config["active_profile"] = row.file
        else:
            # The same value in every profile, so the choice of profile does not matter here.
            for profile in profiles.values():
                profile[row.setting] = row.file
    return flags, env, config


CASES = [(row, top) for row in ROWS for top in LAYERS if top in row.expected]


@pytest.mark.parametrize(("row", "top"), CASES, ids=[f"{row.setting}-{top}" for row, top in CASES])
def test_each_layer_beats_every_layer_below(tmp_path: Path, row: Row, top: str) -> None:
    flags, env, config = layers_for(row, top)
    settings = resolve_with(tmp_path, flags=flags, env=env, config=config)
    setting = getattr(settings, row.setting)
    assert (setting.value, setting.source) == (row.expected[top], top)


def test_the_chosen_profile_supplies_the_file_layer(tmp_path: Path) -> None:
    config = {
        "active_profile": "staging",
        "profiles": {
            "staging": {"locale": "en", "api_key": "staging-key-000001", "timeout": 5},
            "prod": {"locale": "de", "api_key": "prod-key-0000000002", "timeout": 6},
        },
    }
    active = resolve_with(tmp_path, config=config)
    assert (active.locale.value, active.api_key.value, active.timeout.value) == (
        "en",
        "staging-key-000001",
        5.0,
    )
    chosen = resolve_with(tmp_path, flags=Flags(profile="prod"), config=config)
    assert (chosen.locale.value, chosen.api_key.value, chosen.timeout.value) == (
        "de",
        "prod-key-0000000002",
        6.0,
    )
    assert chosen.profile.source == "flag"


def test_an_empty_variable_counts_as_unset_except_the_locale(tmp_path: Path) -> None:
    config = {"profiles": {"default": {"base_url": "https://file.example", "locale": "it"}}}
    env = {"VCCTL_BASE_URL": "", "VCCTL_TIMEOUT": "", "VCCTL_PROFILE": "", "VCCTL_LOCALE": ""}
    settings = resolve_with(tmp_path, env=env, config=config)
    assert (settings.base_url.value, settings.base_url.source) == ("https://file.example", "file")
    assert settings.timeout.source == "default"
    assert settings.profile.source == "default"
    # The contract gives the empty locale a meaning: no prefix.
    assert (settings.locale.value, settings.locale.source) == ("", "env")


def test_an_empty_locale_flag_means_no_prefix(tmp_path: Path) -> None:
    settings = resolve_with(
        tmp_path, flags=Flags(locale=""), env={"VCCTL_LOCALE": "de"}, config=None
    )
    assert (settings.locale.value, settings.locale.source) == ("", "flag")


@pytest.mark.parametrize(
    ("flags", "env", "needle"),
    [
        (Flags(timeout=0), {}, "invalid timeout 0 (from command-line flag)"),
        (Flags(), {"VCCTL_TIMEOUT": "soon"}, "invalid timeout 'soon' (from environment)"),
        (Flags(locale="FR"), {}, "invalid locale 'FR' (from command-line flag)"),
        (Flags(base_url="ftp://x.example"), {}, "invalid base URL 'ftp://x.example'"),
        (Flags(), {"VCCTL_BASE_URL": "https://x.example/?a=1"}, "no query or fragment"),
        (Flags(profile="a b"), {}, "invalid profile name 'a b' (from command-line flag)"),
        (Flags(max_attempts=0), {}, "invalid max attempts 0"),
        (Flags(base_url="http://api.example"), {}, "refusing to send credentials over plain"),
        (Flags(ca_bundle="/nonexistent/ca.pem"), {}, "CA bundle /nonexistent/ca.pem does not"),
    ],
)
def test_invalid_values_are_configuration_errors_naming_their_source(
    tmp_path: Path, flags: Flags, env: dict[str, str], needle: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_with(tmp_path, flags=flags, env=env, config=None)
    assert needle in caught.value.message
    assert caught.value.exit_code == 2


def test_a_secret_with_a_space_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_with(tmp_path, env={"VCCTL_API_KEY": "top secret value"}, config=None)
    assert "top secret" not in caught.value.message
    assert "environment" in caught.value.message


@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:8080", "http://127.8.9.10", "http://localhost:1", "http://[::1]"]
)
def test_plain_http_is_allowed_to_loopback_only(tmp_path: Path, base_url: str) -> None:
    settings = resolve_with(tmp_path, flags=Flags(base_url=base_url), config=None)
    assert settings.base_url.value == base_url


def test_insecure_http_allows_plain_http_elsewhere(tmp_path: Path) -> None:
    settings = resolve_with(
        tmp_path, flags=Flags(base_url="http://api.example", insecure_http=True), config=None
    )
    assert settings.base_url.value == "http://api.example"


def test_debug_and_max_attempts_follow_the_same_order(tmp_path: Path) -> None:
    config = {"profiles": {"default": {"max_attempts": 3}}}
    from_file = resolve_with(tmp_path, env={"VCCTL_DEBUG": "0"}, config=config)
    assert (from_file.max_attempts.value, from_file.max_attempts.source) == (3, "file")
    assert from_file.debug.value is False
    from_env = resolve_with(
        tmp_path, env={"VCCTL_MAX_ATTEMPTS": "2", "VCCTL_DEBUG": "1"}, config=config
    )
    assert (from_env.max_attempts.value, from_env.debug.value) == (2, True)
    from_flag = resolve_with(
        tmp_path,
        flags=Flags(max_attempts=1, debug=True),
        env={"VCCTL_MAX_ATTEMPTS": "2"},
        config=config,
    )
    assert (from_flag.max_attempts.value, from_flag.max_attempts.source) == (1, "flag")
    assert from_flag.debug.source == "flag"


def test_credentials_come_from_the_environment_without_any_file(tmp_path: Path) -> None:
    env = {"VCCTL_API_KEY": "env-key-00000001", "VCCTL_API_TOKEN": "env-token-000002"}
    settings = resolve_with(tmp_path, env=env, config=None)
    assert settings.credentials() == ("env-key-00000001", "env-token-000002")


def test_missing_credentials_name_the_login_command_and_the_variables(tmp_path: Path) -> None:
    settings = resolve_with(tmp_path, env={"VCCTL_API_KEY": "env-key-00000001"}, config=None)
    with pytest.raises(CredentialsError) as caught:
        settings.credentials()
    assert caught.value.exit_code == 4
    assert caught.value.message == "no API token configured"
    assert caught.value.hint is not None
    assert "vcctl auth login" in caught.value.hint
    assert "VCCTL_API_KEY" in caught.value.hint
    assert "VCCTL_API_TOKEN" in caught.value.hint


@pytest.mark.parametrize(
    ("flags", "env", "config", "source"),
    [
        (Flags(profile="ghost"), {}, {"profiles": {"default": {}}}, "command-line flag"),
        (Flags(), {"VCCTL_PROFILE": "ghost"}, None, "environment"),
        (Flags(), {}, {"active_profile": "ghost", "profiles": {"a": {}}}, "config file"),
    ],
)
def test_a_named_profile_that_does_not_exist_is_a_credentials_error(
    tmp_path: Path, flags: Flags, env: dict[str, str], config: Any, source: str
) -> None:
    # Even with usable credentials in the environment: the user asked for another account.
    env = {**env, "VCCTL_API_KEY": "env-key-00000001", "VCCTL_API_TOKEN": "env-token-000002"}
    settings = resolve_with(tmp_path, flags=flags, env=env, config=config)
    with pytest.raises(CredentialsError) as caught:
        settings.credentials()
    assert f"profile 'ghost' (from {source}) does not exist" in caught.value.message
    assert caught.value.exit_code == 4
    assert caught.value.hint is not None
    assert "vcctl auth login --profile ghost" in caught.value.hint
    assert "VCCTL_API_KEY" in caught.value.hint


def test_public_dict_masks_secrets_and_names_sources(tmp_path: Path) -> None:
    config = {"profiles": {"default": {"api_key": "file-key-abcdefWXYZ"}}}
    settings = resolve_with(
        tmp_path,
        flags=Flags(locale="en"),
        env={"VCCTL_API_TOKEN": "env-token-abcdef1234"},
        config=config,
    )
    public = settings.as_public_dict()
    assert public["api_key"] == {"value": "****WXYZ", "source": "file"}
    assert public["api_token"] == {"value": "****1234", "source": "env"}
    assert public["locale"] == {"value": "en", "source": "flag"}
    assert public["base_url"]["source"] == "default"
    assert "file-key" not in repr(public)
    assert "env-token" not in repr(public)


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        (None, None),
        ("", None),
        ("short", "****"),
        ("elevenchars", "****"),
        ("abcdefgh1234", "****1234"),
    ],
)
def test_mask_shows_at_most_the_last_four_characters(secret: str | None, shown: str | None) -> None:
    assert mask(secret) == shown
