"""Where the inventory lives: the local SQLite file (the default), or a shared PostgreSQL
database named by a `postgresql://` URL (`VCCTL_INVENTORY_URL`, profile key `inventory_url`).

Nothing here imports a database driver: opening is `open_store`, which loads the SQLite store or
the PostgreSQL one (and psycopg) only for the location it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from vcctl.text import mask_url

if TYPE_CHECKING:
    from vcctl.inventory.store import Inventory

URL_SCHEMES = ("postgresql://", "postgres://")


class Location(NamedTuple):
    """The inventory's place. `path` is the local file's (also where apply keeps its stack
    locks when the inventory is the file); `url` a shared database's, or None."""

    path: Path
    url: str | None = None

    @property
    def shared(self) -> bool:
        return self.url is not None

    @property
    def shown(self) -> str:
        """How messages name it: the file's path, or the URL with its password masked."""
        return str(self.path) if self.url is None else mask_url(self.url)


def inventory_url(env: Mapping[str, str], profile: Mapping[str, Any] | None = None) -> str | None:
    """VCCTL_INVENTORY_URL, else the profile's `inventory_url`; None (or empty): the file."""
    value = env.get("VCCTL_INVENTORY_URL") or (profile or {}).get("inventory_url")
    return value.strip() if isinstance(value, str) and value.strip() else None


def inventory_location(
    env: Mapping[str, str], profile: Mapping[str, Any] | None = None
) -> Location:
    from vcctl.inventory.records import inventory_path

    return Location(inventory_path(env), inventory_url(env, profile))


def open_store(location: Location) -> Inventory:
    """Open the inventory where it lives (InventoryError, exit 2, when it cannot be used)."""
    if location.url is None:
        from vcctl.inventory.store import Inventory

        return Inventory.open(location.path)
    from vcctl.errors import InventoryError

    if not location.url.lower().startswith(URL_SCHEMES):
        raise InventoryError(
            f"inventory URL {location.shown} is not a postgresql:// URL",
            path=location.shown,
            hint="set VCCTL_INVENTORY_URL (or inventory_url in the profile) to "
            "postgresql://USER@HOST/DATABASE, or unset it to use the local file",
        )
    from vcctl.inventory.store.postgres import PostgresInventory

    return PostgresInventory.open(location.url)  # type: ignore[return-value]
