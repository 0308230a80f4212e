"""The TOML profile file: where it lives, reading it strictly, writing it atomically and under
a lock, and refusing one that another user could have changed.

A file vcctl cannot parse is reported and never rewritten: the user's other profiles matter more
than finishing the command.
"""

from __future__ import annotations

import contextlib
import copy
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from vcctl.config import files
from vcctl.errors import ConfigError

CONFIG_FILE_NAME = "config.toml"
DIR_MODE = files.DIR_MODE
FILE_MODE = files.FILE_MODE
LOCK_TIMEOUT = 10.0  # seconds; an edit holds the lock for milliseconds
# The top of every file vcctl writes: it is rewritten from its values, so comments do not last.
HEADER = (
    "# vcctl's profiles. 'vcctl auth login', 'logout' and 'switch' rewrite this file:\n"
    "# settings and unknown keys are kept, comments are not.\n"
)
PROFILE_KEYS = (
    "api_key",
    "api_token",
    "base_url",
    "locale",
    "timeout",
    "max_attempts",
    "rate",
    "inventory_url",
)


def config_dir(env: Mapping[str, str]) -> Path:
    explicit = env.get("VCCTL_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("vcctl", appauthor=False))


def config_path(env: Mapping[str, str]) -> Path:
    return config_dir(env) / CONFIG_FILE_NAME


class ConfigFile:
    """The parsed file (a plain class: every run creates this class, and creating a dataclass
    costs half a millisecond).

    `data` keeps every key the user wrote, known or not, so that a save loses none.
    """

    def __init__(
        self,
        path: Path,
        data: dict[str, Any] | None = None,
        exists: bool = False,
        warnings: list[str] | None = None,
        comment_lines: int = 0,  # lines with a comment a person wrote (vcctl's header aside)
    ) -> None:
        self.path = path
        self.data = {} if data is None else data
        self.exists = exists
        self.warnings = [] if warnings is None else warnings
        self.comment_lines = comment_lines

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
    config = ConfigFile(path=path)
    if path.exists() or path.is_symlink():
        _refuse_unsafe(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return config
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    config.exists = True
    import tomllib  # here: a run without a config file (CI, the emulator) does not load it

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
    config.comment_lines = count_comment_lines(raw.decode("utf-8").removeprefix(HEADER))
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
        for key in ("api_key", "api_token", "base_url", "locale", "inventory_url"):
            if key in profile and not isinstance(profile[key], str):
                raise ConfigError(f"{where}: profiles.{name}.{key} must be a string")
        if "inventory" in profile and not isinstance(profile["inventory"], bool):
            raise ConfigError(f"{where}: profiles.{name}.inventory must be true or false")
        for key in ("timeout", "max_attempts", "rate"):
            value = profile.get(key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise ConfigError(f"{where}: profiles.{name}.{key} must be a number")


def _refuse_unsafe(path: Path) -> None:
    """Someone who can change the file can send the next login's secrets anywhere (its
    base_url): a file or folder another user owns or may write is refused, never used."""
    checks = [(path, "config file"), (path.parent, "config folder")]
    if path.is_symlink():
        target = files.write_target(path)
        checks += [(target, "config file"), (target.parent, "config folder")]
    for candidate, what in checks:
        problem = files.unsafe_reason(candidate, what=what)
        if problem is not None:
            message, fix = problem
            raise ConfigError(f"{message}; vcctl will not use it", hint=fix)


def _tighten_permissions(path: Path) -> list[str]:
    """Secrets live here: a file readable by others is tightened, and the user told."""
    warnings: list[str] = []
    for target, wanted in ((path.parent, DIR_MODE), (path, FILE_MODE)):
        try:
            info = target.stat()
            mode = stat.S_IMODE(info.st_mode)
            # A shared sticky folder (VCCTL_CONFIG_DIR=/tmp) is not ours to close; the file in
            # it is still 0600.
            if mode & ~wanted and not files.is_shared_sticky_folder(info):
                os.chmod(target, wanted)
                warnings.append(
                    f"{target} was accessible to other users (mode {mode:04o}); "
                    f"changed it to {wanted:04o}"
                )
        except OSError:
            continue
    return warnings


def lock_path(path: Path) -> Path:
    """The lock file every writer of `path` holds: in the same folder, removed after use."""
    return path.parent / f".{path.name}.lock"


def count_comment_lines(text: str) -> int:
    """How many lines of a TOML text hold a comment: a '#' outside any string."""
    count = 0
    open_multiline: str | None = None  # the delimiter of a multi-line string still open
    for line in text.splitlines():
        index = 0
        quote: str | None = None
        while index < len(line):
            if open_multiline:
                end = line.find(open_multiline, index)
                if end < 0:
                    break
                index, open_multiline = end + 3, None
                continue
            char = line[index]
            if quote:
                if char == "\\" and quote == '"':
                    index += 2
                    continue
                if char == quote:
                    quote = None
            elif line.startswith(('"""', "'''"), index):
                open_multiline = line[index : index + 3]
                index += 3
                continue
            elif char in "\"'":
                quote = char
            elif char == "#":
                count += 1
                break
            index += 1
    return count


@contextlib.contextmanager
def editing(path: Path, *, warn: Callable[[str], None] | None = None) -> Iterator[ConfigFile]:
    """Load, let the caller change, and save the file, all under its lock: parallel edits (20
    `auth login` at once) each see the others' changes and none is lost. Saved only if changed;
    an exception inside the block saves nothing. `warn` hears, before the save, that it drops
    the comments the file has (tomli-w writes values, not comments)."""
    in_block = False
    try:
        files.make_private_dir(path.parent)
        with files.locked(lock_path(path), timeout=LOCK_TIMEOUT):
            loaded = load(path)
            before = copy.deepcopy(loaded.data)
            in_block = True
            yield loaded
            in_block = False
            if loaded.data != before:
                if loaded.comment_lines and warn is not None:
                    warn(dropped_comments_warning(loaded))
                save(loaded)
    except files.LockTimeout:
        raise _locked_error(path) from None
    except OSError as exc:
        if in_block:
            raise
        raise ConfigError(
            f"cannot write config file {path}: {exc.strerror or exc}; the old file is unchanged"
        ) from None


def dropped_comments_warning(config: ConfigFile) -> str:
    lines = config.comment_lines
    return (
        f"{config.path} has {lines} line{'s' if lines > 1 else ''} with comments; vcctl rewrites "
        "the file from its settings and cannot keep them (copy them elsewhere to keep them)"
    )


def _locked_error(path: Path) -> ConfigError:
    return ConfigError(
        f"config file {path} is locked by another vcctl process "
        f"(waited {LOCK_TIMEOUT:g} s for {lock_path(path)})",
        hint="try again once the other vcctl command has finished",
    )


def save(config: ConfigFile) -> None:
    """Write atomically under the file's lock (see `files.atomic_write`), through a symlink.

    Temporary files a killed save left behind hold every secret: they are removed first.
    """
    import tomli_w

    path = config.path
    directory = path.parent
    payload = (HEADER + tomli_w.dumps(config.data)).encode("utf-8")
    try:
        files.make_private_dir(directory)
        with files.locked(lock_path(path), timeout=LOCK_TIMEOUT):
            _refuse_unsafe(path)
            info = directory.stat()
            if stat.S_IMODE(info.st_mode) & ~DIR_MODE and not files.is_shared_sticky_folder(info):
                os.chmod(directory, DIR_MODE)
            files.remove_stale_temps(files.write_target(path))
            files.atomic_write(path, payload, mode=FILE_MODE)
    except files.LockTimeout:
        raise _locked_error(path) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot write config file {path}: {exc.strerror or exc}; the old file is unchanged"
        ) from None
    config.exists = True
