"""What the inventory holds, without any SQL: accounts, records, where the file lives, and
whether the user turned it off."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, NamedTuple

from vcctl.resources import Kind

KINDS: tuple[Kind, ...] = ("room", "participant")
FILE_NAME = "inventory.sqlite3"
FINGERPRINT_LENGTH = 16  # hex digits of SHA-256: enough to tell keys apart, useless to guess one
OFF_VALUES = frozenset({"off", "0", "false", "no"})


class Account(NamedTuple):
    """Whose resources these are: the API's base URL and a fingerprint of the API key."""

    base_url: str
    key_fingerprint: str


def account_for(base_url: str, api_key: str) -> Account:
    """The account of a base URL and API key; the key itself is never stored."""
    digest = hashlib.sha256(api_key.encode("utf-8")).hexdigest()
    return Account(normal_base_url(base_url), digest[:FINGERPRINT_LENGTH])


DEFAULT_PORTS = {"http": 80, "https": 443}


def normal_base_url(base_url: str) -> str:
    """One spelling per server, so that one server is one account: scheme and host lower-cased,
    a non-ASCII host in its IDNA (xn--) form, the scheme's default port, any user:password@,
    query, fragment and trailing slash dropped. `HTTP://LocalHost:80/` is `http://localhost`.
    A text that is not a URL comes back only without its trailing slash."""
    from urllib.parse import urlsplit

    text = base_url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text.rstrip("/")
    host = parts.hostname
    if not parts.scheme or host is None:
        return text.rstrip("/")
    scheme = parts.scheme.lower()
    host = _ascii_host(host.rstrip("."))
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    if port is not None and port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path.rstrip('/')}"


def _ascii_host(host: str) -> str:
    host = host.lower()
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host  # not a name IDNA can spell: kept as given (lower-cased)


# What a listing's table can show of a record, by name (`list_rows` of a store fetches the ones
# it is asked for, as one plain tuple a row, in the order asked): text is "" where a Record has
# None; gone stays None for a live record; created is a Record's created_ts. (Tuples, not
# Records: a listing of 10,000 rooms builds none of them.)
ListedColumn = Literal["id", "label", "room_id", "key", "created", "last_seen", "gone", "base_url"]


class Record:
    """One room or participant as vcctl last saw it.

    Times are unix seconds (`*_ts`) with datetime views; `data` (the API's JSON) is decoded on
    first use, so listing thousands of records for their ids costs no JSON parsing. (A plain
    class, as `Account` is a named tuple: every run that opens the inventory creates them.)"""

    def __init__(
        self,
        id: str,
        kind: Kind,
        room_id: str | None,  # a participant's room; None for rooms
        key: str | None,  # the key it was created under, if any
        data_json: str,
        created_ts: float,  # the API's created_at, or first_seen when it has none
        first_seen_ts: float,
        last_seen_ts: float,
        gone_ts: float | None,  # when vcctl learnt it no longer exists
        base_url: str,
        label: str | None = None,  # a room's name or a participant's username, undecoded
        participants: list[Record] | None = None,  # rooms, when asked: as last seen
    ) -> None:
        self.id = id
        self.kind = kind
        self.room_id = room_id
        self.key = key
        self.data_json = data_json
        self.created_ts = created_ts
        self.first_seen_ts = first_seen_ts
        self.last_seen_ts = last_seen_ts
        self.gone_ts = gone_ts
        self.base_url = base_url
        self.label = label
        self.participants = participants

    def __repr__(self) -> str:
        return f"Record({self.kind} {self.id!r}, label={self.label!r}, gone={self.gone})"

    @cached_property
    def data(self) -> dict[str, Any]:
        value = json.loads(self.data_json)
        return value if isinstance(value, dict) else {}

    @property
    def gone(self) -> bool:
        return self.gone_ts is not None

    @property
    def created(self) -> datetime:
        return datetime.fromtimestamp(self.created_ts, UTC)

    @property
    def first_seen(self) -> datetime:
        return datetime.fromtimestamp(self.first_seen_ts, UTC)

    @property
    def last_seen(self) -> datetime:
        return datetime.fromtimestamp(self.last_seen_ts, UTC)

    @property
    def gone_since(self) -> datetime | None:
        return None if self.gone_ts is None else datetime.fromtimestamp(self.gone_ts, UTC)

    def local_facts(self) -> dict[str, Any]:
        """What vcctl knows beyond the API's object (the `vcctl` member of JSON output)."""
        return {
            "kind": self.kind,
            "key": self.key,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "gone": self.gone,
            "base_url": self.base_url,
        }


def prepare_file(path: Path) -> list[str]:
    """Make the folder (0700) and an empty file (0600) if missing; refuse ones others could
    change; tighten ones others could read (returns a warning for each, as the config file
    does). SQLite gives its -wal and -shm files the mode of the database file."""
    import os

    from vcctl.config import files
    from vcctl.errors import InventoryError

    try:
        files.make_private_dir(path.parent)
        for candidate, what in ((path.parent, "inventory folder"), (path, "inventory")):
            problem = files.unsafe_reason(candidate, what=what)
            if problem is not None:
                raise InventoryError(
                    f"{problem[0]}; vcctl will not use it", path=str(path), hint=problem[1]
                )
        if not path.exists():
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, files.FILE_MODE))
                os.chmod(path, files.FILE_MODE)
            except FileExistsError:
                pass  # another process created it meanwhile
    except OSError as exc:
        raise InventoryError(
            f"cannot create inventory {path}: {exc.strerror or exc}", path=str(path)
        ) from None
    return _tighten(path)


def _tighten(path: Path) -> list[str]:
    """The inventory tells what exists on an account: a file or folder others may read is made
    private again, and the user told."""
    import os
    import stat

    from vcctl.config import files

    warnings: list[str] = []
    targets = [(path.parent, files.DIR_MODE), (path, files.FILE_MODE)]
    for suffix in ("-wal", "-shm"):
        targets.append((path.with_name(path.name + suffix), files.FILE_MODE))
    for target, wanted in targets:
        try:
            info = target.lstat()
            mode = stat.S_IMODE(info.st_mode)
            if stat.S_ISLNK(info.st_mode) or files.is_shared_sticky_folder(info):
                continue  # a link's mode means nothing; /tmp is not ours to close
            if mode & ~wanted:
                os.chmod(target, wanted)
                warnings.append(
                    f"{target} was accessible to other users (mode {mode:04o}); "
                    f"changed it to {wanted:04o}"
                )
        except OSError:
            continue
    return warnings


def inventory_path(env: Mapping[str, str]) -> Path:
    """`inventory.sqlite3` in VCCTL_DATA_DIR, else in platformdirs' user data folder."""
    explicit = env.get("VCCTL_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser() / FILE_NAME
    import platformdirs

    return Path(platformdirs.user_data_dir("vcctl", appauthor=False)) / FILE_NAME


def inventory_enabled(env: Mapping[str, str], profile: Mapping[str, Any] | None = None) -> bool:
    """False when VCCTL_INVENTORY=off, or the profile says `inventory = false` (the
    environment wins: VCCTL_INVENTORY=on turns it back on for one command)."""
    value = env.get("VCCTL_INVENTORY", "").strip().lower()
    if value:
        return value not in OFF_VALUES
    return not (profile is not None and profile.get("inventory") is False)


def created_at_ts(resource: Mapping[str, Any]) -> float | None:
    """The API's created_at as unix seconds, if it is a readable ISO time."""
    value = resource.get("created_at")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
