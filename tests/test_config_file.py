"""The profile file: modes, atomic writes, strict reading, and a broken file never rewritten."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import API_KEY, API_TOKEN, Result, run_in_process, run_vcctl
from vcctl.config import profiles
from vcctl.emulator.server import Emulator
from vcctl.errors import ConfigError

GOOD_FILE = """\
# my profiles
active_profile = "prod"
editor_hint = "kept"

[profiles.prod]
api_key = "prod-key-0000000001"
api_token = "prod-token-00000002"
locale = "en"
custom = 1

[profiles.staging]
api_key = "staging-key-0000003"
api_token = "staging-token-00004"
"""

CORRUPT_FILE = b'active_profile = "prod"\n\n[profiles.prod\napi_key = "k"\n'


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def make_config(tmp_path: Path, text: str = GOOD_FILE) -> profiles.ConfigFile:
    directory = tmp_path / "cfg"
    directory.mkdir(mode=0o700)
    path = directory / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return profiles.load(path)


def test_config_path_honours_vcctl_config_dir_then_platformdirs(tmp_path: Path) -> None:
    explicit = profiles.config_path({"VCCTL_CONFIG_DIR": str(tmp_path / "here")})
    assert explicit == tmp_path / "here" / "config.toml"
    import platformdirs

    default = profiles.config_path({})
    assert default == Path(platformdirs.user_config_dir("vcctl", appauthor=False)) / "config.toml"


def test_a_missing_file_is_an_empty_configuration(tmp_path: Path) -> None:
    loaded = profiles.load(tmp_path / "nothing" / "config.toml")
    assert (loaded.exists, loaded.data, loaded.profiles, loaded.active_profile) == (
        False,
        {},
        {},
        None,
    )


def test_save_creates_the_file_0600_in_a_0700_folder(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "vcctl" / "config.toml"
    loaded = profiles.load(path)
    loaded.data = {"active_profile": "a", "profiles": {"a": {"api_key": "k" * 16}}}
    profiles.save(loaded)
    assert mode_of(path) == 0o600
    assert mode_of(path.parent) == 0o700
    assert profiles.load(path).data == loaded.data
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]  # no temporary file left


def test_save_keeps_every_key_and_profile_it_does_not_know(tmp_path: Path) -> None:
    loaded = make_config(tmp_path)
    loaded.profiles["staging"]["locale"] = "de"
    profiles.save(loaded)
    again = profiles.load(loaded.path)
    assert again.data["editor_hint"] == "kept"
    assert again.profiles["prod"] == {
        "api_key": "prod-key-0000000001",
        "api_token": "prod-token-00000002",
        "locale": "en",
        "custom": 1,
    }
    assert again.profiles["staging"]["locale"] == "de"


def test_looser_modes_are_tightened_with_a_warning(tmp_path: Path) -> None:
    loaded = make_config(tmp_path)
    loaded.path.chmod(0o644)
    loaded.path.parent.chmod(0o755)
    reloaded = profiles.load(loaded.path)
    assert mode_of(loaded.path) == 0o600
    assert mode_of(loaded.path.parent) == 0o700
    assert len(reloaded.warnings) == 2
    assert "(mode 0644); changed it to 0600" in reloaded.warnings[1]
    assert profiles.load(loaded.path).warnings == []  # once tightened, no more warnings


def test_looser_modes_warn_on_stderr_of_any_command(
    tmp_path: Path, env: dict[str, str], emulator: Emulator
) -> None:
    directory = Path(env["VCCTL_CONFIG_DIR"])
    directory.mkdir(mode=0o755)
    (directory / "config.toml").write_text(GOOD_FILE, encoding="utf-8")
    (directory / "config.toml").chmod(0o644)  # readable by others; writable is refused (below)
    result = run_in_process(["rooms", "get", "nosuch"], env)
    assert result.code == 6, result
    assert f"vcctl: warning: {directory / 'config.toml'} was accessible to other users" in (
        result.stderr
    )
    assert mode_of(directory / "config.toml") == 0o600
    assert mode_of(directory) == 0o700
    assert result.stdout == ""


def _fail(*_args: Any, **_kwargs: Any) -> Any:
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize(
    ("target", "name"),
    [(os, "replace"), (os, "fsync"), (os, "fchmod")],
    ids=["rename", "fsync", "chmod"],
)
def test_a_failure_mid_write_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: Any, name: str
) -> None:
    loaded = make_config(tmp_path)
    before = loaded.path.read_bytes()
    loaded.profiles["staging"]["api_key"] = "replaced-key-000005"
    monkeypatch.setattr(target, name, _fail)
    with pytest.raises(ConfigError) as caught:
        profiles.save(loaded)
    monkeypatch.undo()
    assert caught.value.exit_code == 2
    assert f"cannot write config file {loaded.path}: No space left on device" in (
        caught.value.message
    )
    assert loaded.path.read_bytes() == before
    assert profiles.load(loaded.path).profiles["staging"]["api_key"] == "staging-key-0000003"
    assert [p.name for p in loaded.path.parent.iterdir()] == ["config.toml"]


def test_a_full_disk_while_writing_the_temporary_file_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = make_config(tmp_path)
    before = loaded.path.read_bytes()
    real_fdopen = os.fdopen

    class FullDisk:
        """A file that accepts a few bytes, then reports the disk full."""

        def __init__(self, fd: int) -> None:
            self.handle = real_fdopen(fd, "wb")

        def __enter__(self) -> FullDisk:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def fileno(self) -> int:
            return self.handle.fileno()

        def write(self, data: bytes) -> int:
            self.handle.write(data[:10])
            self.handle.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: FullDisk(fd))
    with pytest.raises(ConfigError):
        profiles.save(loaded)
    monkeypatch.undo()
    assert loaded.path.read_bytes() == before
    assert [p.name for p in loaded.path.parent.iterdir()] == ["config.toml"]


def test_a_serialisation_failure_happens_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tomli_w

    loaded = make_config(tmp_path)
    before = loaded.path.read_bytes()

    def broken_dumps(*_args: Any, **_kwargs: Any) -> str:
        raise TypeError("cannot serialise")

    monkeypatch.setattr(tomli_w, "dumps", broken_dumps)
    with pytest.raises(TypeError):
        profiles.save(loaded)
    assert loaded.path.read_bytes() == before
    assert [p.name for p in loaded.path.parent.iterdir()] == ["config.toml"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('active_profile = "a"\n[profiles.a\n', "(at line 2, column 12)"),
        ('active_profile = "a"\nactive_profile = "b"\n', "line 2"),
        ('[profiles.a]\napi_key = "unterminated\n', "line 2"),
    ],
)
def test_a_file_that_does_not_parse_names_path_and_line(
    tmp_path: Path, text: str, needle: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        profiles.load(path)
    assert caught.value.exit_code == 2
    assert f"config file {path} is not valid TOML" in caught.value.message
    assert needle in caught.value.message
    assert "will not overwrite it" in caught.value.message


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("active_profile = 3\n", "active_profile must be a string"),
        ("profiles = 1\n", "[profiles] must be a table"),
        ("[profiles]\nprod = 1\n", "[profiles.prod] must be a table"),
        ("[profiles.prod]\napi_key = 12\n", "profiles.prod.api_key must be a string"),
        ('[profiles.prod]\ntimeout = "10"\n', "profiles.prod.timeout must be a number"),
        ("[profiles.prod]\ntimeout = true\n", "profiles.prod.timeout must be a number"),
        ('[profiles.prod]\ninventory = "off"\n', "profiles.prod.inventory must be true or false"),
    ],
)
def test_a_file_of_the_wrong_shape_is_refused(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        profiles.load(path)
    assert needle in caught.value.message


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'active_profile = "\xff"\n')
    with pytest.raises(ConfigError) as caught:
        profiles.load(path)
    assert "is not valid UTF-8" in caught.value.message


# -- a corrupt file, end to end: every command refuses, and none rewrites it ---------------------

COMMANDS_ON_A_CORRUPT_FILE: list[tuple[list[str], str | None]] = [
    (["auth", "login"], f"{API_KEY}\n{API_TOKEN}\n"),
    (["auth", "login", "--profile", "new", "--no-check"], f"{API_KEY}\n{API_TOKEN}\n"),
    (["auth", "logout"], None),
    (["auth", "switch", "prod"], None),
    (["auth", "status"], None),
    (["auth", "list"], None),
    (["rooms", "create", "--name", "x"], None),
    (["rooms", "get", "abcdef", "--json"], None),
    (["rooms", "delete", "abcdef", "--yes"], None),
    (["participants", "list", "--room", "abcdef"], None),
    (["events", "mute-all", "--room", "abcdef"], None),
    (["api", "GET", "/fr/api/v1/rooms/abcdef"], None),
]


@pytest.mark.parametrize(
    ("args", "stdin"),
    COMMANDS_ON_A_CORRUPT_FILE,
    ids=[" ".join(a) for a, _ in COMMANDS_ON_A_CORRUPT_FILE],
)
def test_a_corrupt_file_stops_every_command_and_stays_byte_for_byte(
    env: dict[str, str], emulator: Emulator, args: list[str], stdin: str | None
) -> None:
    directory = Path(env["VCCTL_CONFIG_DIR"])
    directory.mkdir(mode=0o755)
    path = directory / "config.toml"
    path.write_bytes(CORRUPT_FILE)
    path.chmod(0o644)  # looser on purpose: not even the mode of a broken file is touched
    before = path.stat()
    # auth login runs as a real process (its secrets on a real pipe); the others in process.
    runner = run_vcctl if args[:2] == ["auth", "login"] else run_in_process
    result = runner(args, env, input=stdin or "")
    assert result.code == 2, result
    json_mode = "--json" in args
    message = f"config file {path} is not valid TOML"
    assert message in result.stderr
    assert "line 3" in result.stderr
    if not json_mode:
        assert result.stderr.startswith("vcctl: error: ")
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert path.read_bytes() == CORRUPT_FILE
    after = path.stat()
    assert (after.st_mtime_ns, after.st_ino, stat.S_IMODE(after.st_mode)) == (
        before.st_mtime_ns,
        before.st_ino,
        0o644,
    )
    assert [p.name for p in directory.iterdir()] == ["config.toml"]
    assert emulator.recorded() == []  # nothing was sent


def test_help_and_version_work_despite_a_corrupt_file(env: dict[str, str]) -> None:
    directory = Path(env["VCCTL_CONFIG_DIR"])
    directory.mkdir(mode=0o700)
    (directory / "config.toml").write_bytes(CORRUPT_FILE)
    results: list[Result] = [
        run_in_process(["--version"], env),
        run_in_process(["auth", "--help"], env),
    ]
    for result in results:
        assert result.code == 0, result
    assert (directory / "config.toml").read_bytes() == CORRUPT_FILE


def test_a_shared_sticky_folder_is_left_alone_but_the_file_is_private(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp, which VCCTL_CONFIG_DIR may point at
    loaded = profiles.ConfigFile(path=shared / "config.toml", data={"active_profile": "default"})
    profiles.save(loaded)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert stat.S_IMODE((shared / "config.toml").stat().st_mode) == 0o600
    assert profiles.load(shared / "config.toml").warnings == []
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777


def test_a_write_that_drops_comments_warns_first_and_the_file_says_why(tmp_path: Path) -> None:
    env = {"VCCTL_CONFIG_DIR": str(tmp_path / "config"), "HOME": str(tmp_path)}
    path = tmp_path / "config" / "config.toml"
    path.parent.mkdir(mode=0o700)
    path.write_text(
        "# my work accounts\n"
        'active_profile = "one"  # the usual one\n'
        "[profiles.one]\n"
        'api_key = "key-with-#-0000001"\n'
        'api_token = "token-0000000001"\n'
        "[profiles.two]\n"
        'locale = "de"\n'
        'api_key = "key-0000000000002"\n'
        'api_token = "token-0000000002"\n'
    )
    path.chmod(0o600)
    switched = run_in_process(["auth", "switch", "two"], env)
    assert switched.code == 0, switched
    assert switched.stderr.splitlines() == [
        f"vcctl: warning: {path} has 2 lines with comments; vcctl rewrites the file from its "
        "settings and cannot keep them (copy them elsewhere to keep them)",
        "vcctl: active profile is now 'two'",
    ]
    written = path.read_text()
    assert written.startswith(profiles.HEADER)
    assert "my work accounts" not in written
    assert profiles.load(path).data["profiles"]["one"]["api_key"] == "key-with-#-0000001"
    # vcctl's own header is not a comment a person wrote: the next write is silent.
    again = run_in_process(["auth", "switch", "one"], env)
    assert again.stderr == "vcctl: active profile is now 'one'\n"
    assert path.read_text().startswith(profiles.HEADER)


def test_comment_lines_are_found_outside_strings_only() -> None:
    text = (
        'a = "x # not a comment"  # one\n'
        "b = 'y # no' # two\n"
        'c = """\n# inside a multi-line string\n"""\n'
        "   # three\n"
        'd = "escaped \\" # still a string"\n'
    )
    assert profiles.count_comment_lines(text) == 3
    assert profiles.count_comment_lines(profiles.HEADER) == 2
