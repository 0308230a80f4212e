"""Both inventory backends for the store's tests: a "place" is the SQLite file's path or a
PostgreSQL URL (the `store_place` fixture gives each in turn)."""

from __future__ import annotations

from pathlib import Path

from vcctl.inventory.location import Location, open_store
from vcctl.inventory.store import Inventory

# What a script run in another process puts first, to open the place given as its argv[1].
OPEN_PLACE = """
from pathlib import Path
from vcctl.inventory.location import Location, open_store
def open_place(place):
    shared = "://" in place
    return open_store(Location(Path("/nonexistent"), place) if shared else Location(Path(place)))
"""


def location_of(place: str) -> Location:
    return Location(Path("/nonexistent"), place) if "://" in place else Location(Path(place))


def open_place(place: str) -> Inventory:
    return open_store(location_of(place))
