"""Where a stack's key -> id records live: the `StackState` protocol, and the `--state` JSON file.

The state file travels (committed beside the stack file, or kept in a CI cache), so fresh machines
converge on one set of resources. It is small and diff-friendly: sorted keys, indent 2, a trailing
newline, ids only. It is held under an advisory lock (`FILE.lock`, fcntl) for as long as it is
open, so two applies sharing it run one after the other and neither loses the other's records, and
every change is written through at once (temporary file, fsync, rename), so whatever succeeded is
recorded even if the process dies next.

Forgetting a room forgets its participants: the API deletes them with it. The file's format (its
versions, migrations and checks) is `vcctl.apply.state_format`.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from vcctl.apply import stack_lock
from vcctl.apply.desired import Applied, StackEntry
from vcctl.apply.state_format import STATE_VERSION, StateFileError, parse
from vcctl.inventory import claims
from vcctl.inventory.claims import Claim, KeyRef, KeyRow, Patience
from vcctl.inventory.locks import FileLock
from vcctl.inventory.records import Account
from vcctl.resources import Kind


class StackState(Protocol):
    """The key -> id records of one stack, wherever they are kept (state file or inventory).

    Creates go through the key protocol (`vcctl.inventory.claims`): `claim` holds a key before
    its create is sent, and the create's answer resolves the claim."""

    @property
    def stack(self) -> str | None: ...

    def entries(self) -> list[StackEntry]:
        """Every record: rooms, then participants, each sorted by key. A key whose create is in
        flight in another live process has no id and no `unknown_since`."""
        ...

    def lookup(self, kind: Kind, key: str, room_key: str | None = None) -> StackEntry | None: ...

    def claim(
        self,
        kind: Kind,
        key: str,
        room_key: str | None = None,
        *,
        room_id: str | None = None,
        retry_unknown: bool = False,
        patience: Patience | None = None,
    ) -> Claim | StackEntry:
        """Hold the key for a create (a participant's: in its room, `room_id` once the room
        exists). A StackEntry: another vcctl created it meanwhile. Raises KeyBlockedError /
        KeyPendingError (exit 11) or the store's error, nothing sent."""
        ...

    def remember(self, kind: Kind, key: str, id: str, room_key: str | None = None) -> None:
        """Record a live resource under its key (a participant's room must be recorded)."""
        ...

    def forget(self, kind: Kind, key: str, room_key: str | None = None) -> None:
        """Drop a record (and a room's participants' records); no-op when there is none."""
        ...

    def remember_applied(self, applied: Sequence[Applied]) -> None:
        """Keep what an apply set on each resource (`StackEntry.applied` gives it back), where
        its key still names that id; one write for them all."""
        ...

    def how_to_free(self, kind: Kind, key: str, room_key: str | None = None) -> str:
        """How a person frees exactly this key, for a blocked key's message."""
        ...


class StateFile:
    """A `StackState` kept in a JSON file; get one with `open_state`.

    It is the key protocol's table (`claims.KeyTable`) for its keys: a claim held by this apply
    is written as `unknown_since` (so that a crash leaves the key blocked, never free) and kept
    pending in memory; the file's lock keeps every other apply out meanwhile. Each change is
    written through at once, in group commits: workers changing it together share one write.
    """

    def __init__(self, path: Path, stack: str | None, rooms: dict[str, Any]) -> None:
        self.path = path
        self._stack = stack
        self._rooms = rooms
        self._held: dict[tuple[str, str, str], KeyRow] = {}  # (kind, scope, key) -> pending
        self._lock = threading.RLock()
        self._save_lock = threading.Lock()
        self._version = 0
        self._saved = 0
        self._account = Account(str(path), "")

    @property
    def stack(self) -> str | None:
        return self._stack

    def entries(self) -> list[StackEntry]:
        rooms: list[StackEntry] = []
        participants: list[StackEntry] = []
        with self._lock:
            for room_key in sorted(self._rooms):
                room = self._rooms[room_key]
                rooms.append(_record("room", room_key, room, None))
                for key in sorted(room.get("participants", {})):
                    participants.append(
                        _record("participant", key, room["participants"][key], room_key)
                    )
        return rooms + participants

    def lookup(self, kind: Kind, key: str, room_key: str | None = None) -> StackEntry | None:
        with self._lock:
            table = self._table(kind, room_key)
            if table is None or key not in table:
                return None
            return _record(kind, key, table[key], room_key)

    # -- the key protocol ------------------------------------------------------------------------

    def claim(
        self,
        kind: Kind,
        key: str,
        room_key: str | None = None,
        *,
        room_id: str | None = None,
        retry_unknown: bool = False,
        patience: Patience | None = None,
    ) -> Claim | StackEntry:
        ref = self._ref(kind, key, room_key)
        return claims.claim(self, ref, retry_unknown=retry_unknown, patience=patience)

    def how_to_free(self, kind: Kind, key: str, room_key: str | None = None) -> str:
        where = f"rooms.{key}" if kind == "room" else f"rooms.{room_key}.participants.{key}"
        return f"remove {where} from state file {self.path}"

    def release_hint(self, ref: KeyRef) -> str:
        return self.how_to_free(ref.kind, ref.key, _room_key(ref))

    def read_key(self, ref: KeyRef) -> KeyRow | None:
        with self._lock:
            held = self._held.get((ref.kind, ref.scope, ref.key))
            if held is not None:
                return held
            table = self._table(ref.kind, _room_key(ref))
            entry = None if table is None else table.get(ref.key)
        if entry is None:
            return None
        if entry.get("id"):
            return KeyRow(ref.kind, ref.scope, ref.key, claims.CREATED, entry["id"])
        return KeyRow(
            ref.kind, ref.scope, ref.key, claims.UNKNOWN, since=_moment(entry.get("unknown_since"))
        )

    def swap_key(
        self,
        ref: KeyRef,
        expected: KeyRow | None,
        new: KeyRow | None,
        *,
        resource: Mapping[str, Any] | None = None,
    ) -> bool:
        room_key = _room_key(ref)
        with self._lock:
            if self.read_key(ref) != expected:
                return False
            held = (ref.kind, ref.scope, ref.key)
            self._held.pop(held, None)
            if new is None:
                self._drop(ref.kind, ref.key, room_key)
            elif new.state == claims.CREATED:
                assert new.id is not None
                self._set(ref.kind, ref.key, room_key, {"id": new.id})
            else:
                if new.state == claims.PENDING:
                    self._held[held] = new
                since = datetime.fromtimestamp(new.since, UTC).isoformat(timespec="seconds")
                self._set(ref.kind, ref.key, room_key, {"id": None, "unknown_since": since})
            mine = self._changed()
        self._write_through(mine)
        return True

    def live_target(self, ref: KeyRef, row: KeyRow) -> StackEntry | None:
        return StackEntry(ref.kind, ref.key, row.id, _room_key(ref))

    def _ref(self, kind: Kind, key: str, room_key: str | None) -> KeyRef:
        if kind == "participant" and room_key is None:
            raise ValueError("a participant record needs its room key")
        return KeyRef(self._account, kind, (room_key or "") if kind == "participant" else "", key)

    # -- changing ------------------------------------------------------------------------------

    def remember(self, kind: Kind, key: str, id: str, room_key: str | None = None) -> None:
        with self._lock:
            self._held.pop((kind, room_key or "", key), None)
            self._set(kind, key, room_key, {"id": id})
            mine = self._changed()
        self._write_through(mine)

    def remember_applied(self, applied: Sequence[Applied]) -> None:
        with self._lock:
            changed = False
            for item in applied:
                table = self._table(item.kind, item.room_key)
                entry = None if table is None else table.get(item.key)
                if entry is not None and entry.get("id") == item.id:
                    entry["applied"] = dict(item.fields)
                    changed = True
            if not changed:
                return
            mine = self._changed()
        self._write_through(mine)

    def mark_unknown(
        self, kind: Kind, key: str, room_key: str | None = None, *, since: str
    ) -> None:
        """Record that a create for this key was sent and its outcome is unknown (what a crash
        between sending and recording leaves)."""
        with self._lock:
            self._set(kind, key, room_key, {"id": None, "unknown_since": since})
            mine = self._changed()
        self._write_through(mine)

    def forget(self, kind: Kind, key: str, room_key: str | None = None) -> None:
        with self._lock:
            if not self._drop(kind, key, room_key):
                return
            mine = self._changed()
        self._write_through(mine)

    def _drop(self, kind: Kind, key: str, room_key: str | None) -> bool:
        table = self._table(kind, room_key)
        if table is None or key not in table:
            return False
        del table[key]
        return True

    def _changed(self) -> int:
        """Under the lock, after an edit: its version, for `_write_through`."""
        self._version += 1
        return self._version

    def _write_through(self, mine: int) -> None:
        """Write the file unless a write since carried change `mine` already."""
        with self._save_lock:
            if self._saved >= mine:
                return
            with self._lock:
                version, text = self._version, self.to_text()
            self.save(text)
            self._saved = version

    def to_text(self) -> str:
        data = {"version": STATE_VERSION, "stack": self._stack, "rooms": self._rooms}
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def save(self, text: str | None = None) -> None:
        """Write the file atomically: a temporary file beside it, fsync, rename. `text`: what
        `to_text()` gave earlier (a snapshot taken under the caller's lock)."""
        folder = self.path.parent
        try:
            mode = self.path.stat().st_mode & 0o777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        try:
            handle, temporary = tempfile.mkstemp(
                dir=folder, prefix=f".{self.path.name}.", suffix=".tmp"
            )
        except OSError as exc:
            raise StateFileError(f"cannot write state file {self.path}: {exc.strerror}") from None
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(self.to_text() if text is None else text)
                stream.flush()
                os.fchmod(stream.fileno(), mode)
                os.fsync(stream.fileno())
            os.replace(temporary, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise StateFileError(f"cannot write state file {self.path}: {exc.strerror}") from None
        _fsync_folder(folder)

    def _table(self, kind: Kind, room_key: str | None) -> dict[str, Any] | None:
        if kind == "room":
            return self._rooms
        if room_key is None:
            raise ValueError("a participant record needs its room key")
        room = self._rooms.get(room_key)
        if room is None:
            return None
        participants: dict[str, Any] = room.setdefault("participants", {})
        return participants

    def _set(self, kind: Kind, key: str, room_key: str | None, entry: dict[str, Any]) -> None:
        table = self._table(kind, room_key)
        if table is None:
            raise ValueError(f"participant {room_key}/{key}: its room {room_key} is not recorded")
        if kind == "room":
            # A room whose id changes was created anew: the old one's participants went with it.
            previous = table.get(key, {})
            kept = previous.get("participants", {}) if previous.get("id") == entry["id"] else {}
            entry = {**entry, "participants": kept}
        table[key] = entry


def _room_key(ref: KeyRef) -> str | None:
    return ref.scope if ref.kind == "participant" else None


def _moment(iso: Any) -> float:
    """Unix seconds of an ISO time from the file (0 when it has none or cannot be read)."""
    if not isinstance(iso, str):
        return 0.0
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class MemoryState(StateFile):
    """The same records, kept in memory only: for tests, and plans that store nothing."""

    def __init__(self, stack: str | None, rooms: dict[str, Any] | None = None) -> None:
        super().__init__(Path(os.devnull), stack, rooms if rooms is not None else {})

    def save(self, text: str | None = None) -> None:
        pass


@contextlib.contextmanager
def open_state(
    path: str | Path,
    stack: str | None,
    *,
    timeout: float | None = stack_lock.DEFAULT_TIMEOUT,
    timeout_text: str | None = None,
    wait: bool = True,
) -> Iterator[StateFile]:
    """The state file at `path` for `stack`, locked until the block ends.

    A missing or empty file is a new state. `timeout`: seconds to wait for another apply's lock
    (None: as long as it takes; a stop signal ends the wait), then BlockedError (exit 11).
    `wait=False` (a dry run): when another apply holds the lock, read the file unlocked, with a
    warning (see `vcctl.apply.stack_lock`). Raises StateFileError for an unreadable file, or one
    of another stack.
    """
    path = Path(path)
    lock_path = path.with_name(path.name + ".lock")
    try:
        lock = FileLock(lock_path, 0o644)
    except OSError as exc:
        raise StateFileError(f"cannot lock state file {path}: {exc.strerror}") from None
    try:
        what = f"state file {path}"
        stack_lock.take(lock, what, wait=wait, timeout=timeout, timeout_text=timeout_text)
        yield _read(path, stack)
    finally:
        lock.release()


def _read(path: Path, stack: str | None) -> StateFile:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return StateFile(path, stack, {})
    except (OSError, UnicodeDecodeError) as exc:
        raise StateFileError(f"cannot read state file {path}: {exc}") from None
    return StateFile(path, stack, parse(text, path, stack))


def _record(kind: Kind, key: str, entry: dict[str, Any], room_key: str | None) -> StackEntry:
    since = entry.get("unknown_since")
    return StackEntry(kind, key, entry.get("id"), room_key, since, applied=entry.get("applied"))


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable; some file systems refuse to open a folder: harmless.
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
