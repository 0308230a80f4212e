"""The one table renderer: plain text aligned by display width, or a rich table; the on/off cell.

Widths are measured in terminal cells, not characters, so that wide characters (山田太郎 takes
eight cells) and combining marks keep columns aligned. rich is imported only when rendering.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from vcctl.text import printable

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

COLUMN_GAP = "  "


def display_width(text: str) -> int:
    """Terminal cells `text` takes (East Asian wide characters count two)."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def plain_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows (the header first) as lines of left-aligned columns two spaces apart; no trailing
    blanks. Every row has as many cells as the first. Cells are escaped (`printable`)."""
    if not rows:
        return ""
    rows = [[printable(cell) for cell in row] for row in rows]
    # Each cell measured once (listings have tens of thousands); ASCII needs no cell table.
    measured = [[len(c) if c.isascii() else display_width(c) for c in row] for row in rows]
    widths = [max(column) for column in zip(*measured, strict=True)]
    lines = [
        COLUMN_GAP.join(
            [
                cell + " " * (width - size)
                for cell, width, size in zip(row, widths, sizes, strict=True)
            ]
        ).rstrip()
        for row, sizes in zip(rows, measured, strict=True)
    ]
    return "\n".join(lines) + "\n"


def rich_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str | Text]],
    *,
    title: str | None = None,
    caption: str | None = None,
    wrap: Sequence[str] = (),
) -> Table:
    """A rich table; only the columns named in `wrap` may wrap. Plain strings are shown as
    text, never read as rich markup (an id may hold "[...]"), and escaped."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", header_style="bold")
    for name in header:
        table.add_column(name, no_wrap=name not in wrap)
    for row in rows:
        table.add_row(*(Text(printable(cell)) if isinstance(cell, str) else cell for cell in row))
    if caption:
        table.caption = caption
    return table


def on_off(value: bool) -> str:
    return "on" if value else "off"


def on_off_text(value: bool) -> Text:
    """The on/off cell of a rich view: green on, red off."""
    from rich.text import Text

    return Text(on_off(value), style="green" if value else "red")
