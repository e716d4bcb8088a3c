"""The one Jinja2 environment every renderer uses, the web pages too: render/templates.

Whether a template escapes is decided by its file name, once, here:

- ``.html``, ``.xml`` and ``.svg`` templates escape every value they print (autoescape). Markup
  reaches them only as ``Markup``: the SVG charts of render.charts, and ``{% set %}`` blocks of
  other HTML templates (the font stacks of ``fonts.html``).
- ``.txt`` and ``.md`` templates print values as they are: plain text has no markup to escape,
  and Markdown has its own rules, applied by the ``md`` and ``md_cells`` filters to every value
  from the data. ``.yaml`` templates likewise: YAML's rules are applied by the ``yq`` filter
  (a value as a quoted scalar) and ``oneline`` (text inside a comment).

Undefined names fail (``StrictUndefined``) instead of printing nothing, and block tags take
their own line break with them (``trim_blocks``, ``lstrip_blocks``), so a template can be laid out
for reading without changing what it prints.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from calendars.clock import local, long_date


def iso(day: dt.date | None) -> str:
    """2020-09-30, or a dash for no day (a table cell)."""
    return day.isoformat() if day else "—"


def day(value: dt.date | dt.datetime | str | None) -> str:
    """A day (2020-09-30) or a moment to the minute on the office's clock (2020-09-30 14:05,
    Asia/Shanghai: moments are stored in UTC, and a zoneless one is UTC); a dash for none."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return local(value).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def pct(value: float) -> str:
    return f"{value:.1f}%"


def md(value: object) -> str:
    """One Markdown table cell or line: no line breaks, nothing Markdown would read as markup."""
    text = " ".join(str(value).split())
    for char in "\\|<>[]`":
        text = text.replace(char, "\\" + char)
    return text


def md_cells(row: Iterable[object]) -> str:
    """The cells of one Markdown table row, each through `md`, between pipes."""
    return " | ".join(md(cell) for cell in row)


def yq(value: object) -> str:
    """A YAML scalar that reads back as the same string: JSON's quoting is YAML's."""
    return json.dumps(str(value), ensure_ascii=False)


def oneline(value: object) -> str:
    """Text for a YAML comment: one line, whatever the value held."""
    return " ".join(str(value).split())


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("render", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html", "xml", "svg"),
            disabled_extensions=("txt", "md", "yaml"),
            default_for_string=True,
            default=True,
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        long_date=long_date,
        iso=iso,
        day=day,
        pct=pct,
        md=md,
        md_cells=md_cells,
        yq=yq,
        oneline=oneline,
    )
    return env


ENVIRONMENT = _environment()


def render(name: str, **context: Any) -> str:
    """The template `name` (a path under render/templates) filled with `context`."""
    return ENVIRONMENT.get_template(name).render(**context)
