"""The TOML profile file: where it lives, reading it strictly, writing it atomically.

A file vcctl cannot parse is reported and never rewritten: the user's other profiles matter more
than finishing the command.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vcctl.errors import ConfigError

CONFIG_FILE_NAME = "config.toml"
DIR_MODE = 0o700
FILE_MODE = 0o600
PROFILE_KEYS = ("api_key", "api_token", "base_url", "locale", "timeout", "max_attempts")


def config_dir(env: Mapping[str, str]) -> Path:
    explicit = env.get("VCCTL_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("vcctl", appauthor=False))


def config_path(env: Mapping[str, str]) -> Path:
    return config_dir(env) / CONFIG_FILE_NAME


@dataclass
class ConfigFile:
    """The parsed file.

    `data` keeps every key the user wrote, known or not, so that a save loses none.
    """

    path: Path
    data: dict[str, Any] = field(default_factory=dict)
    exists: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def active_profile(self) -> str | None:
        value = self.data.get("active_profile")
        return value if isinstance(value, str) and value else None

    @property
    def profiles(self) -> dict[str, dict[str, Any]]:
        profiles = self.data.get("profiles", {})
        return profiles if isinstance(profiles, dict) else {}

    def profile(self, name: str) -> dict[str, Any] | None:
        return self.profiles.get(name)


def load(path: Path) -> ConfigFile:
    """Read and check the file; a missing file is an empty configuration."""
    import tomllib

    config = ConfigFile(path=path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return config
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    config.exists = True
    try:
        config.data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(
            f"config file {path} is not valid UTF-8; fix or remove it (vcctl will not overwrite it)"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        # The message carries "(at line L, column C)".
        raise ConfigError(
            f"config file {path} is not valid TOML: {exc}; "
            "fix or remove it (vcctl will not overwrite it)"
        ) from None
    _check_shape(config)
    config.warnings.extend(_tighten_permissions(path))
    return config


def _check_shape(config: ConfigFile) -> None:
    data = config.data
    where = f"config file {config.path}"
    if "active_profile" in data and not isinstance(data["active_profile"], str):
        raise ConfigError(f"{where}: active_profile must be a string")
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError(f"{where}: [profiles] must be a table")
    for name, profile in profiles.items():
        if not isinstance(profile, dict):
            raise ConfigError(f"{where}: [profiles.{name}] must be a table")
        for key in ("api_key", "api_token", "base_url", "locale"):
            if key in profile and not isinstance(profile[key], str):
                raise ConfigError(f"{where}: profiles.{name}.{key} must be a string")
        for key in ("timeout", "max_attempts"):
            value = profile.get(key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise ConfigError(f"{where}: profiles.{name}.{key} must be a number")


def _tighten_permissions(path: Path) -> list[str]:
    """Secrets live here: a file readable by others is tightened, and the user told."""
    warnings: list[str] = []
    for target, wanted in ((path.parent, DIR_MODE), (path, FILE_MODE)):
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
            if mode & ~wanted and not _is_shared_folder(target):
                os.chmod(target, wanted)
                warnings.append(
                    f"{target} was accessible to other users (mode {mode:04o}); "
                    f"changed it to {wanted:04o}"
                )
        except OSError:
            continue
    return warnings


def _is_shared_folder(path: Path) -> bool:
    """A sticky folder (/tmp) or someone else's: VCCTL_CONFIG_DIR may point there, and closing
    it would break it for everyone; the file itself is still 0600."""
    try:
        info = path.stat()
    except OSError:
        return True
    if not stat.S_ISDIR(info.st_mode):
        return False
    return bool(info.st_mode & stat.S_ISVTX) or info.st_uid != os.getuid()


def save(config: ConfigFile) -> None:
    """Write atomically: a temporary file in the same folder, fsync, then rename over the old.

    A crash or a full disk leaves either the old file or the new one, never half of either.
    """
    import tomli_w

    path = config.path
    directory = path.parent
    try:
        directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        if stat.S_IMODE(directory.stat().st_mode) & ~DIR_MODE and not _is_shared_folder(directory):
            os.chmod(directory, DIR_MODE)
        payload = tomli_w.dumps(config.data).encode("utf-8")
        fd, temp_name = tempfile.mkstemp(prefix=".config-", suffix=".toml.tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), FILE_MODE)
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        _fsync_directory(directory)
    except OSError as exc:
        raise ConfigError(
            f"cannot write config file {path}: {exc.strerror or exc}; the old file is unchanged"
        ) from None
    config.exists = True


def _fsync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
