"""The profile file under pressure: parallel edits, files others could change, umasks, stale
temporary files and symlinks."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import API_KEY, API_TOKEN, run_in_process
from vcctl.config import files, profiles
from vcctl.errors import ConfigError

OTHER_UID = 4242  # any uid but ours: tests run as root here, and root may chown

PROFILES = """\
active_profile = "a"

[profiles.a]
api_key = "a-key-000000000001"
api_token = "a-token-0000000002"
base_url = "http://127.0.0.1:9"

[profiles.b]
api_key = "b-key-000000000003"
api_token = "b-token-0000000004"
"""


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def write_profiles(env: dict[str, str]) -> Path:
    directory = Path(env["VCCTL_CONFIG_DIR"])
    directory.mkdir(mode=0o700, exist_ok=True)
    path = directory / "config.toml"
    path.write_text(PROFILES, encoding="utf-8")
    path.chmod(0o600)
    return path


def login_process(env: dict[str, str], profile: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "vcctl", "--profile", profile, "auth", "login", "--no-check"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdin is not None
    process.stdin.write(f"{API_KEY}\n{API_TOKEN}\n")
    process.stdin.close()
    return process


def test_twenty_parallel_logins_leave_twenty_profiles(env: dict[str, str]) -> None:
    names = [f"p{i:02d}" for i in range(20)]
    processes = [login_process(env, name) for name in names]
    for name, process in zip(names, processes, strict=True):
        assert process.stderr is not None
        stderr = process.stderr.read()
        assert process.wait(timeout=60) == 0, stderr
        assert f"saved profile {name!r}" in stderr
    directory = Path(env["VCCTL_CONFIG_DIR"])
    loaded = profiles.load(directory / "config.toml")
    assert sorted(loaded.profiles) == names
    assert loaded.active_profile in names
    # env's VCCTL_BASE_URL (the emulator) is saved with each profile.
    saved = {"api_key": API_KEY, "api_token": API_TOKEN, "base_url": env["VCCTL_BASE_URL"]}
    assert all(p == saved for p in loaded.profiles.values())
    assert [p.name for p in directory.iterdir()] == ["config.toml"]  # no lock or temp file left


# -- files and folders another user could change are refused ------------------------------------


def _refusal_cases(path: Path) -> dict[str, tuple[Path, str]]:
    return {
        "file owned by another user": (path, f"owned by uid {OTHER_UID}, not by you"),
        "folder owned by another user": (path.parent, f"owned by uid {OTHER_UID}, not by you"),
        "file writable by the group": (path, "writable by other users (mode 0620)"),
        "folder writable by others": (path.parent, "writable by other users (mode 0702)"),
    }


@pytest.mark.parametrize("case", list(_refusal_cases(Path("x/y"))))
@pytest.mark.parametrize(
    "args",
    [["rooms", "get", "abcdef"], ["auth", "switch", "b"], ["auth", "logout"], ["auth", "list"]],
    ids=" ".join,
)
def test_a_file_or_folder_others_could_change_is_refused(
    env: dict[str, str], case: str, args: list[str]
) -> None:
    path = write_profiles(env)
    target, needle = _refusal_cases(path)[case]
    if "owned" in case:
        os.chown(target, OTHER_UID, -1)
    else:
        target.chmod(0o620 if target == path else 0o702)
    before = (path.read_bytes(), path.stat(), path.parent.stat())
    result = run_in_process(args, env)
    assert result.code == 2, result
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"vcctl: error: config {'file' if target == path else 'folder'}"
    )
    assert f"{target} is {needle}" in result.stderr
    fix = f"chown {os.geteuid()} {target}" if "owned" in case else f"chmod go-w {target}"
    assert f"hint: run '{fix}" in result.stderr
    after = (path.read_bytes(), path.stat(), path.parent.stat())
    assert before == after  # nothing tightened, nothing rewritten
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]


def test_a_login_into_a_folder_others_could_change_is_refused(env: dict[str, str]) -> None:
    directory = Path(env["VCCTL_CONFIG_DIR"])
    directory.mkdir()
    directory.chmod(0o770)
    result = run_in_process(["auth", "login", "--no-check"], env, input=f"{API_KEY}\n{API_TOKEN}\n")
    assert result.code == 2, result
    assert f"config folder {directory} is writable by other users (mode 0770)" in result.stderr
    assert list(directory.iterdir()) == []


def test_root_ownership_is_not_trusted_for_a_normal_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "cfg"
    directory.mkdir(mode=0o700)
    path = directory / "config.toml"
    path.write_text(PROFILES, encoding="utf-8")
    path.chmod(0o600)
    os.chown(directory, OTHER_UID, -1)
    os.chown(path, 0, -1)
    monkeypatch.setattr(os, "geteuid", lambda: OTHER_UID)  # we are now a normal user
    with pytest.raises(ConfigError) as caught:
        profiles.load(path)
    assert f"config file {path} is owned by uid 0, not by you (uid {OTHER_UID})" in (
        caught.value.message
    )


def test_a_sticky_folder_owned_by_another_normal_user_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    os.chown(shared, OTHER_UID, -1)  # its owner could replace our file at will
    with pytest.raises(ConfigError) as caught:
        profiles.save(
            profiles.ConfigFile(path=shared / "config.toml", data={"active_profile": "a"})
        )
    assert f"config folder {shared} is owned by uid {OTHER_UID}" in caught.value.message
    assert list(shared.iterdir()) == []


# -- folders vcctl creates ----------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o002, 0o022, 0o000], ids=["002", "022", "000"])
def test_folders_vcctl_creates_are_0700_with_their_parents_whatever_the_umask(
    env: dict[str, str], tmp_path: Path, umask: int
) -> None:
    env["VCCTL_CONFIG_DIR"] = str(tmp_path / "a" / "b" / "c")
    completed = subprocess.run(
        [sys.executable, "-m", "vcctl", "auth", "login", "--no-check"],
        input=f"{API_KEY}\n{API_TOKEN}\n",
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=lambda: os.umask(umask),  # the child's umask only
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    for folder in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert mode_of(folder) == 0o700, folder
    assert mode_of(tmp_path / "a" / "b" / "c" / "config.toml") == 0o600


# -- stale temporary files and symlinks ---------------------------------------------------------


def test_temporary_files_a_killed_save_left_are_removed_by_the_next_save(
    env: dict[str, str],
) -> None:
    path = write_profiles(env)
    stale = [path.parent / ".config-k1ll3d.toml.tmp", path.parent / ".config-0ther.toml.tmp"]
    for leftover in stale:
        leftover.write_text(PROFILES, encoding="utf-8")
        leftover.chmod(0o600)
    unrelated = path.parent / "notes.txt"
    unrelated.write_text("mine", encoding="utf-8")
    result = run_in_process(["auth", "switch", "b"], env)
    assert result.code == 0, result
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml", "notes.txt"]
    assert profiles.load(path).active_profile == "b"


def test_a_symlinked_config_file_is_updated_through_the_link(env: dict[str, str]) -> None:
    dotfiles = Path(env["HOME"]) / "dotfiles"
    dotfiles.mkdir(parents=True, mode=0o700)
    real = dotfiles / "vcctl.toml"
    real.write_text(PROFILES, encoding="utf-8")
    real.chmod(0o600)
    directory = Path(env["VCCTL_CONFIG_DIR"])
    directory.mkdir(mode=0o700)
    link = directory / "config.toml"
    link.symlink_to(real)
    result = run_in_process(["auth", "switch", "b"], env)
    assert result.code == 0, result
    result = run_in_process(
        ["--profile", "c", "auth", "login", "--no-check"], env, input=f"{API_KEY}\n{API_TOKEN}\n"
    )
    assert result.code == 0, result
    assert link.is_symlink()
    assert os.readlink(link) == str(real)
    loaded = profiles.load(real)
    assert loaded.active_profile == "b"
    assert sorted(loaded.profiles) == ["a", "b", "c"]
    assert mode_of(real) == 0o600
    assert [p.name for p in dotfiles.iterdir()] == ["vcctl.toml"]
    assert [p.name for p in directory.iterdir()] == ["config.toml"]


def test_a_symlink_to_a_file_of_another_user_is_refused(env: dict[str, str]) -> None:
    elsewhere = Path(env["HOME"]) / "theirs"
    elsewhere.mkdir(parents=True, mode=0o700)
    real = elsewhere / "config.toml"
    real.write_text(PROFILES, encoding="utf-8")
    os.chown(real, OTHER_UID, -1)
    directory = Path(env["VCCTL_CONFIG_DIR"])
    directory.mkdir(mode=0o700)
    (directory / "config.toml").symlink_to(real)
    result = run_in_process(["auth", "switch", "b"], env)
    assert result.code == 2, result
    assert f"config file {real} is owned by uid {OTHER_UID}" in result.stderr
    assert real.read_text(encoding="utf-8") == PROFILES


# -- the lock itself ----------------------------------------------------------------------------

HOLD_THE_LOCK = """
import sys
from pathlib import Path
from vcctl.config import files
try:
    with files.locked(Path(sys.argv[1]), timeout=0.2):
        print("got it")
except files.LockTimeout as exc:
    print("timed out:", exc)
"""


def test_a_held_lock_makes_another_process_wait_and_give_up(tmp_path: Path) -> None:
    lock = tmp_path / ".config.toml.lock"
    with files.locked(lock), files.locked(lock):  # re-entrant within a process
        waiting = subprocess.run(
            [sys.executable, "-c", HOLD_THE_LOCK, str(lock)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert waiting.stdout.startswith("timed out: ")
        assert lock.exists()
    assert not lock.exists()
    free = subprocess.run(
        [sys.executable, "-c", HOLD_THE_LOCK, str(lock)], capture_output=True, text=True, check=True
    )
    assert free.stdout == "got it\n"
