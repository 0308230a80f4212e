"""Settings: which value wins, and where it came from (flag, environment, profile, default).

`resolve()` is the one place precedence is decided.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Generic, Literal, NamedTuple, TypeVar
from urllib.parse import urlsplit

from vcctl.config import profiles as config_module
from vcctl.errors import ConfigError, CredentialsError
from vcctl.http.body import DEFAULT_MAX_ANSWER_BYTES
from vcctl.text import is_loopback, mask, mask_url

T = TypeVar("T")
Source = Literal["flag", "env", "file", "default"]

DEFAULT_PROFILE = "default"
DEFAULT_BASE_URL = "https://videoconnect.app"
DEFAULT_LOCALE = "fr"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ATTEMPTS = 5

LOCALE_PATTERN = re.compile(r"^(?:[a-z]{2}(?:[-_][A-Za-z]{2})?)?$")
SECRET_PATTERN = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces: safe as a header


# Named tuples rather than frozen dataclasses: every run creates these classes, and a dataclass
# costs half a millisecond or more to create (its methods are generated and compiled then).


class Flags(NamedTuple):
    """Global command-line flags; None means "not given"."""

    profile: str | None = None
    base_url: str | None = None
    locale: str | None = None
    timeout: float | None = None
    max_attempts: int | None = None
    rate: float | None = None
    debug: bool = False
    insecure_http: bool = False
    ca_bundle: str | None = None


class Setting(NamedTuple, Generic[T]):
    value: T
    source: Source


class Settings(NamedTuple):
    config: config_module.ConfigFile
    profile: Setting[str]
    profile_in_file: bool
    api_key: Setting[str | None]
    api_token: Setting[str | None]
    base_url: Setting[str]
    locale: Setting[str]
    timeout: Setting[float]
    max_attempts: Setting[int]
    rate: Setting[float | None]  # requests per second at most; None: as fast as the API allows
    debug: Setting[bool]
    insecure_http: bool
    ca_bundle: str | None
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES
    # A shared inventory's database (None: the local file); shown only masked.
    inventory_url: Setting[str | None] = Setting(None, "default")

    def credentials(self) -> tuple[str, str]:
        """The key and token, or a CredentialsError (exit 4) saying how to set them."""
        if not self.profile_in_file and self.profile.source != "default":
            # A profile someone named explicitly must exist: silently falling back to other
            # credentials would act on the wrong account.
            known = ", ".join(sorted(self.config.profiles)) or "none"
            raise CredentialsError(
                f"profile {self.profile.value!r} (from {describe_source(self.profile.source)}) "
                f"does not exist in {self.config.path} (profiles: {known})",
                hint=f"run 'vcctl auth login --profile {self.profile.value}' to create it, or "
                "set VCCTL_API_KEY and VCCTL_API_TOKEN and choose an existing profile",
            )
        missing = [
            name
            for name, setting in (("API key", self.api_key), ("API token", self.api_token))
            if not setting.value
        ]
        if missing:
            raise CredentialsError(f"no {' and no '.join(missing)} configured")
        return str(self.api_key.value), str(self.api_token.value)

    def as_public_dict(self) -> dict[str, Any]:
        """Every setting with its source, secrets masked: for `auth status`."""
        return {
            "profile": {"value": self.profile.value, "source": self.profile.source},
            "config_file": str(self.config.path),
            "api_key": {"value": mask(self.api_key.value), "source": self.api_key.source},
            "api_token": {"value": mask(self.api_token.value), "source": self.api_token.source},
            "base_url": {"value": self.base_url.value, "source": self.base_url.source},
            "locale": {"value": self.locale.value, "source": self.locale.source},
            "timeout": {"value": self.timeout.value, "source": self.timeout.source},
            "max_attempts": {"value": self.max_attempts.value, "source": self.max_attempts.source},
            "rate": {"value": self.rate.value, "source": self.rate.source},
            "inventory_url": {
                "value": mask_url(self.inventory_url.value) if self.inventory_url.value else None,
                "source": self.inventory_url.source,
            },
        }


def describe_source(source: Source) -> str:
    return {
        "flag": "command-line flag",
        "env": "environment",
        "file": "config file",
        "default": "default",
    }[source]


def _pick(
    flag: T | None,
    env_value: str | None,
    file_value: Any,
    default: T,
    parse: Any,
    *,
    empty_env_is_a_value: bool = False,
) -> Setting[T]:
    if flag is not None:
        return Setting(parse(flag, "command-line flag"), "flag")
    # An empty variable usually means "unset" (CI systems export undefined secrets as ""); the
    # locale is the exception, where the empty value means "no prefix".
    if env_value is not None and (env_value != "" or empty_env_is_a_value):
        return Setting(parse(env_value, "environment"), "env")
    if file_value is not None:
        return Setting(parse(file_value, "config file"), "file")
    return Setting(default, "default")


def resolve(flags: Flags, env: Mapping[str, str]) -> Settings:
    """Decide every setting. Highest wins:

    1. command-line flag
    2. environment variable (VCCTL_*)
    3. the active profile in the config file
    4. built-in default
    The profile itself is chosen the same way: --profile, VCCTL_PROFILE, the file's
    active_profile, then "default".
    """
    config = config_module.load(config_module.config_path(env))
    profile = resolve_profile(flags, env, config)
    section = config.profile(profile.value)
    in_file = section is not None
    section = section or {}

    def from_file(key: str) -> Any:
        return section.get(key)

    base_url = _pick(
        flags.base_url,
        env.get("VCCTL_BASE_URL"),
        from_file("base_url"),
        DEFAULT_BASE_URL,
        _parse_base_url,
    )
    insecure_http = flags.insecure_http or env.get("VCCTL_INSECURE_HTTP", "") in ("1", "true")
    check_base_url(base_url.value, insecure_http=insecure_http)

    return Settings(
        config=config,
        profile=profile,
        profile_in_file=in_file,
        api_key=_pick(None, env.get("VCCTL_API_KEY"), from_file("api_key"), None, _parse_secret),
        api_token=_pick(
            None, env.get("VCCTL_API_TOKEN"), from_file("api_token"), None, _parse_secret
        ),
        base_url=base_url,
        locale=_pick(
            flags.locale,
            env.get("VCCTL_LOCALE"),
            from_file("locale"),
            DEFAULT_LOCALE,
            _parse_locale,
            empty_env_is_a_value=True,
        ),
        timeout=_pick(
            flags.timeout,
            env.get("VCCTL_TIMEOUT"),
            from_file("timeout"),
            DEFAULT_TIMEOUT,
            _parse_timeout,
        ),
        max_attempts=_pick(
            flags.max_attempts,
            env.get("VCCTL_MAX_ATTEMPTS"),
            from_file("max_attempts"),
            DEFAULT_MAX_ATTEMPTS,
            _parse_attempts,
        ),
        rate=_pick(flags.rate, env.get("VCCTL_RATE"), from_file("rate"), None, _parse_rate),
        debug=_debug_setting(flags.debug, env.get("VCCTL_DEBUG", "")),
        insecure_http=insecure_http,
        ca_bundle=_ca_bundle(flags.ca_bundle or env.get("VCCTL_CA_BUNDLE") or None),
        max_answer_bytes=_parse_answer_size(env.get("VCCTL_MAX_ANSWER_BYTES") or None),
        inventory_url=_pick(
            None,
            env.get("VCCTL_INVENTORY_URL"),
            from_file("inventory_url"),
            None,
            lambda value, where: str(value).strip() or None,
        ),
    )


def resolve_profile(
    flags: Flags, env: Mapping[str, str], config: config_module.ConfigFile
) -> Setting[str]:
    """Which profile: --profile, VCCTL_PROFILE, the file's active_profile, then "default"."""
    return _pick(
        flags.profile,
        env.get("VCCTL_PROFILE"),
        config.active_profile,
        DEFAULT_PROFILE,
        _parse_profile_name,
    )


def _ca_bundle(path: str | None) -> str | None:
    # requests would only notice a missing bundle while sending, as an OSError.
    if path is not None and not os.path.exists(path):
        raise ConfigError(f"CA bundle {path} does not exist", hint="check --ca-bundle")
    return path


def _debug_setting(flag: bool, env_value: str) -> Setting[bool]:
    if flag:
        return Setting(True, "flag")
    if env_value:
        return Setting(env_value.lower() not in ("0", "false", "no"), "env")
    return Setting(False, "default")


def _parse_profile_name(value: Any, where: str) -> str:
    text = str(value).strip()
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", text):
        raise ConfigError(
            f"invalid profile name {text!r} (from {where}): use letters, digits, - _ ."
        )
    return text


def _parse_secret(value: Any, where: str) -> str:
    text = str(value).strip()
    if not SECRET_PATTERN.match(text):
        # Never echo the value: it is a secret.
        raise ConfigError(
            f"the API key or token from the {where} contains spaces or control characters"
        )
    return text


def _parse_locale(value: Any, where: str) -> str:
    text = str(value).strip()
    if not LOCALE_PATTERN.match(text):
        raise ConfigError(
            f"invalid locale {text!r} (from {where}): expected two lowercase letters such as 'fr', "
            "or empty for no locale prefix"
        )
    return text


def _parse_timeout(value: Any, where: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"invalid timeout {value!r} (from {where}): expected seconds") from None
    if not 0 < seconds <= 3600:
        raise ConfigError(f"invalid timeout {value!r} (from {where}): expected 0 < seconds <= 3600")
    return seconds


def _parse_attempts(value: Any, where: str) -> int:
    try:
        attempts = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"invalid max attempts {value!r} (from {where})") from None
    if not 1 <= attempts <= 20:
        raise ConfigError(f"invalid max attempts {value!r} (from {where}): expected 1 to 20")
    return attempts


def _parse_answer_size(value: str | None) -> int:
    if value is None:
        return DEFAULT_MAX_ANSWER_BYTES
    text = value.strip()
    if not text.isdigit() or not 1024 <= int(text) <= 1 << 40:
        raise ConfigError(
            f"invalid VCCTL_MAX_ANSWER_BYTES {value!r} (from environment): expected a number of "
            "bytes from 1024 to 1099511627776"
        )
    return int(text)


def _parse_rate(value: Any, where: str) -> float:
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"invalid rate {value!r} (from {where}): expected requests per second"
        ) from None
    if not 0 < rate <= 10_000:
        raise ConfigError(
            f"invalid rate {value!r} (from {where}): expected 0 < requests per second <= 10000"
        )
    return rate


def _parse_base_url(value: Any, where: str) -> str:
    text = str(value).strip().rstrip("/")
    if "@" in text.split("//", 1)[-1].split("/", 1)[0]:
        # Never echoed: the part before "@" is a password. vcctl sends its own credentials only.
        raise ConfigError(
            f"invalid base URL (from {where}): a user name or password in the URL is not "
            "supported; the API key and token are the only credentials vcctl sends",
            hint="remove the user:password@ part",
        )
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError as exc:
        raise ConfigError(f"invalid base URL {text!r} (from {where}): {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"invalid base URL {text!r} (from {where}): expected http(s)://host[:port]"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"invalid base URL {text!r} (from {where}): no query or fragment")
    return text


def check_base_url(base_url: str, *, insecure_http: bool) -> None:
    parts = urlsplit(base_url)
    if parts.scheme == "http" and not insecure_http and not is_loopback(parts.hostname or ""):
        raise ConfigError(
            f"refusing to send credentials over plain http to {parts.hostname}",
            hint="use https, or pass --insecure-http if you really mean it",
        )
