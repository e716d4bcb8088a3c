"""Plain-text tables for the read-only commands that must start fast (`plans`, `show`,
`tasks`, `overdue`).

rich (`duban.terminal`) takes a noticeable share of a cold start to import and measures every
cell of every row as it lays a table out: fine for a review, too slow for `duban overdue`
listing forty thousand items. These are aligned columns, padded by display width (a Chinese
character takes two columns), worked out once per distinct value. A cell is printed as written
(text that looks like markup is data), except that control characters, which would break the
line or drive the terminal, are shown as spaces.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Sequence
from operator import getitem
from typing import Any

GAP = "  "


def width(text: str) -> int:
    """The columns `text` takes in a terminal: two for wide (CJK) characters."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def printable(text: str) -> str:
    return text if text.isprintable() else "".join(c if c.isprintable() else " " for c in text)


def render(
    title: str | None, header: Sequence[str], rows: Sequence[Sequence[Any]], blank: str = ""
) -> str:
    """The table as text: an optional title line, the header, a rule, then the rows; a cell is
    its value as text (None as `blank`), worked out once per distinct value. The last column
    is not padded, so no line ends in spaces."""
    cells = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    columns: list[set[Any]] = [{name, *values} for name, values in zip(header, cells, strict=True)]
    pads: list[dict[str, str]] = []
    widths: list[int] = []
    for i, distinct in enumerate(columns):
        shown = {value: printable(blank if value is None else str(value)) for value in distinct}
        widest = max(width(text) for text in shown.values())
        last = i == len(columns) - 1
        pads.append(
            {
                value: text if last else text + " " * (widest - width(text))
                for value, text in shown.items()
            }
        )
        widths.append(widest)
    lines = [title] if title else []
    lines.append(GAP.join(map(getitem, pads, header)).rstrip(" "))
    lines.append(GAP.join("-" * w for w in widths))
    lines += [GAP.join(map(getitem, pads, row)).rstrip(" ") for row in rows]
    return "\n".join(lines)


def table(title: str | None, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """`render` for rows as dicts, the columns named."""
    return render(title, columns, [[row.get(c) for c in columns] for row in rows])


def emit(text: str) -> None:
    """Print `text` (a table from here) and a newline. Not through typer.echo, which runs a
    regex over all of it to strip terminal codes when stdout is not a terminal: megabytes for
    `duban overdue`, and a table from here has none (control characters are shown as spaces)."""
    sys.stdout.write(text)
    sys.stdout.write("\n")
    sys.stdout.flush()
