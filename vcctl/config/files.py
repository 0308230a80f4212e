"""Private files on disk: 0700 folders, advisory locks, atomic writes, and who may own them.

Shared by the config file, the inventory and apply's state file, so that each keeps the same
promises: a folder vcctl creates is private whatever the umask; a read-modify-write under `locked`
is never interleaved with another process's; `atomic_write` leaves the old or the new file, never
half of one, and writes through a symlink rather than replacing it; a file or folder someone else
could change is refused (`unsafe_reason`), as ssh refuses a loose ~/.ssh/config.

Every function raises OSError (or `LockTimeout`); callers turn those into their own typed errors.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


class LockTimeout(OSError):
    """Another process held the lock for longer than the caller was willing to wait."""


def make_private_dir(directory: Path) -> None:
    """Create `directory` and any missing parent as 0700, whatever the umask.

    Folders that already exist are left as they are (checking them is `unsafe_reason`'s job).
    """
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # another process made it meanwhile: its mode is that process's business
        # mkdir's mode passes through the umask; a umask of 0o777 would leave it unusable.
        os.chmod(folder, DIR_MODE)


def is_shared_sticky_folder(info: os.stat_result) -> bool:
    """A sticky folder owned by root or by us, like /tmp: others may add entries but can neither
    replace nor remove ours, so it is a safe place for a private file, and not ours to close."""
    return (
        stat.S_ISDIR(info.st_mode)
        and bool(info.st_mode & stat.S_ISVTX)
        and info.st_uid in (0, os.geteuid())
    )


def unsafe_reason(path: Path, *, what: str) -> tuple[str, str] | None:
    """Why another user could change `path` (a file, folder or symlink), with the command that
    fixes it; None when only we (and root, who can do anything anyway) can.

    Ownership is compared with our own uid, so a file root owns is refused for a normal user and
    a file another uid owns is refused for root: only the files we wrote are trusted.
    """
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    me = os.geteuid()
    if stat.S_ISLNK(info.st_mode):
        if info.st_uid != me:
            return (
                f"{what} {path} is a symlink owned by uid {info.st_uid}, not by you (uid {me})",
                f"remove it, or run 'chown -h {me} {path}' if you made it",
            )
        return None
    if stat.S_ISDIR(info.st_mode) and is_shared_sticky_folder(info):
        return None
    if info.st_uid != me:
        return (
            f"{what} {path} is owned by uid {info.st_uid}, not by you (uid {me})",
            f"run 'chown {me} {path}' if it is yours, or use your own folder",
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o022:
        return (
            f"{what} {path} is writable by other users (mode {mode:04o})",
            f"run 'chmod go-w {path}'",
        )
    return None


_held: dict[str, int] = {}
_held_guard = threading.Lock()


@contextlib.contextmanager
def locked(lock_path: Path, *, timeout: float = 30.0) -> Iterator[None]:
    """Hold an exclusive advisory lock (flock) on `lock_path` for the block.

    Re-entrant within a process. The lock file is removed on release so that it never litters
    the folder; a waiter that then locks the removed file sees its inode no longer at the path and
    tries again, so two processes never both believe they hold the lock.
    """
    key = str(lock_path)
    with _held_guard:
        if _held.get(key):
            _held[key] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _held_guard:
                _held[key] -= 1
        return
    fd = _acquire(lock_path, timeout)
    with _held_guard:
        _held[key] = 1
    try:
        yield
    finally:
        with _held_guard:
            _held.pop(key, None)
        with contextlib.suppress(OSError):
            lock_path.unlink()  # while still held: see the docstring
        os.close(fd)


def _acquire(lock_path: Path, timeout: float) -> int:
    import fcntl

    deadline = time.monotonic() + timeout
    pause = 0.001
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    while True:
        fd = os.open(lock_path, flags, FILE_MODE)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockTimeout(
                            errno.EAGAIN, f"still locked by another process after {timeout:g} s"
                        ) from None
                    time.sleep(pause)
                    pause = min(pause * 2, 0.05)
            held = os.fstat(fd)
            try:
                current = os.lstat(lock_path)
            except FileNotFoundError:
                current = None
            if current is not None and (current.st_dev, current.st_ino) == (
                held.st_dev,
                held.st_ino,
            ):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the holder removed it as we waited: lock the one now at the path


def temp_pattern(path: Path) -> tuple[str, str]:
    """The prefix and suffix of `atomic_write`'s temporary files for `path`
    (`config.toml` -> `.config-XXXX.toml.tmp`)."""
    return f".{path.stem}-", f"{path.suffix}.tmp"


def remove_stale_temps(path: Path) -> None:
    """Remove temporary files an interrupted `atomic_write` of `path` left (they may hold
    secrets). Only safe while holding the lock every writer of `path` takes."""
    prefix, suffix = temp_pattern(path)
    me = os.geteuid()
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(suffix)):
            continue
        with contextlib.suppress(OSError):
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and info.st_uid == me:
                os.unlink(entry.path)


def write_target(path: Path) -> Path:
    """Where a write of `path` lands: the file a symlink points to (dotfile managers link
    config files into a repository), else `path` itself."""
    if path.is_symlink():
        return Path(os.path.realpath(path))
    return path


def atomic_write(path: Path, payload: bytes, *, mode: int = FILE_MODE) -> Path:
    """Replace the file at `path` (through any symlink) with `payload`; returns the file written.

    A temporary file in the target's folder, fsynced, renamed over the target, then the folder
    fsynced: a crash or a full disk leaves the old file or the new one, never half of either.
    """
    import tempfile

    target = write_target(path)
    prefix, suffix = temp_pattern(target)
    fd, temp_name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    fsync_directory(target.parent)
    return target


def fsync_directory(directory: Path) -> None:
    # A rename is durable only once the directory entry is on disk.
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
