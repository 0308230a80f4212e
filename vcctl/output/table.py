"""The one table renderer: plain text aligned by display width, or a rich table; the on/off cell.

Widths are measured in terminal cells, not characters, so that wide characters (山田太郎 takes
eight cells) and combining marks keep columns aligned. rich is imported only when rendering.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
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
    return "".join(plain_lines(rows))


def write_plain_table(
    rows: Sequence[Sequence[str]], write: Callable[[str], object], *, chunk: int = 5000
) -> None:
    """`plain_table(rows)`, written `chunk` lines at a time (a listing of tens of thousands of
    rows is never one string, nor one write a line)."""
    if rows:
        write_plain_columns(rows[0], list(zip(*rows[1:], strict=True)), write, chunk=chunk)


def write_plain_columns(
    header: Sequence[str],
    columns: Sequence[Sequence[str]],
    write: Callable[[str], object],
    *,
    chunk: int = 5000,
) -> None:
    """`write_plain_table` of the header and, for each of its columns, the cells below it (as
    many in each; none at all: the header alone).

    When every cell is plain ASCII (a listing nearly always is), widths are lengths and the
    lines are laid out by one %-format a block, without a Python step per row; otherwise the
    rows go through `plain_lines`, which escapes and measures cell by cell."""
    named = list(zip(header, columns or [()] * len(header), strict=True))
    if not all(_plain_ascii(name + "".join(cells)) for name, cells in named):
        rows = zip(*(cells for _, cells in named), strict=True)
        write_table_lines(plain_lines([header, *rows]), write, chunk)
        return
    widths = [max(len(name), max(map(len, cells), default=0)) for name, cells in named]
    layout = _layout(widths)
    lines = itertools.chain([tuple(header)], zip(*(cells for _, cells in named), strict=True))
    while block := list(itertools.islice(lines, chunk)):
        write("\n".join(map(str.rstrip, map(layout.__mod__, block))) + "\n")


def write_table_lines(lines: Iterator[str], write: Callable[[str], object], chunk: int) -> None:
    while block := "".join(itertools.islice(lines, chunk)):
        write(block)


def _plain_ascii(text: str) -> bool:
    return text.isascii() and text.isprintable()


def _layout(widths: Sequence[int]) -> str:
    """The %-format of a line (of a tuple of cells): each column but the last padded to its
    width ("%-8s" pads as "{:<8}" does)."""
    return COLUMN_GAP.join([*(f"%-{width}s" for width in widths[:-1]), "%s"])


def plain_lines(rows: Sequence[Sequence[str]]) -> Iterator[str]:
    """The lines of `plain_table`, each with its newline.

    Listings have tens of thousands of rows, nearly all plain ASCII: such a row is checked
    once as a whole, measured with len() and laid out with one format string; any other row is
    escaped and measured cell by cell (wide characters take two cells)."""
    if not rows:
        return
    cells: list[Sequence[str]] = []
    measured: dict[int, list[int]] = {}  # the cell sizes of the rows that are not plain ASCII
    for index, row in enumerate(rows):
        if _plain_ascii("".join(row)):
            cells.append(row)
        else:
            escaped = [printable(cell) for cell in row]
            cells.append(escaped)
            measured[index] = [display_width(cell) for cell in escaped]
    plain = [row for index, row in enumerate(cells) if index not in measured] if measured else cells
    widths = [max(map(len, column), default=0) for column in zip(*plain, strict=True)]
    if not widths:
        widths = [0] * len(cells[0])
    for row_sizes in measured.values():
        widths = [max(width, size) for width, size in zip(widths, row_sizes, strict=True)]
    layout = _layout(widths)
    for index, row in enumerate(cells):
        sizes = measured.get(index)
        if sizes is None:
            yield (layout % tuple(row)).rstrip() + "\n"
        else:
            padded = [
                cell + " " * (width - size)
                for cell, width, size in zip(row, widths, sizes, strict=True)
            ]
            yield COLUMN_GAP.join(padded).rstrip() + "\n"


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
