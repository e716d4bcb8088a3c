"""The review's three charts as inline SVG, for the HTML page and the review mail.

Each chart is an `<svg>` with a stable id and class (`chart-phases`, `chart-timeline`,
`chart-ranking`), 900 units wide and scaled to the page by CSS; it draws with plain shapes and
text (no scripts, no external fonts or images), so it renders the same in a browser, a mail
client and print. `words` is the label set of render.review for the review's language.

The charts stay Python rather than templates: each shape's place is arithmetic on the one before,
which reads better as code than as template expressions. Every element is written by one
function, `_element`, which escapes every attribute value and every text it is given, so a title
or a unit name reaches the page as text, never as markup; the page takes the result as Markup.
(ElementTree or Markup.format would do the same three times slower: a timeline has a few
elements per task.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

from calendars.clock import MONTHS
from render.environment import iso, pct
from schemas.vocabulary import Light
from tasks.review.model import Review, TaskReview

COLOURS: dict[Light, str] = {Light.GREEN: "#43a047", Light.YELLOW: "#f9a825", Light.RED: "#e53935"}
GOAL_COLOUR = "#90a4ae"  # a goal no unit holds: a target, not work that is green or red


def colour_of(light: Light | None) -> str:
    return COLOURS[light] if light else GOAL_COLOUR


def light_word(light: Light | None, words: Mapping[str, str]) -> str:
    """红灯/黄灯/绿灯, or 目标 for a goal no unit holds."""
    return words[light or "goal"]


WIDE = 900


class _Svg(str):
    """An SVG fragment written by `_element`, every value in it escaped: safe to nest."""


def _element(
    tag: str, attributes: dict[str, object], text: str = "", children: Sequence[_Svg] = ()
) -> _Svg:
    """One SVG element, the one place chart markup is written: attribute values and text are
    escaped (numbers need not be), children are elements. `font_size` is written font-size."""
    written = "".join(
        f' {name.rstrip("_").replace("_", "-")}="'
        f'{value if isinstance(value, int | float) else escape(value)}"'
        for name, value in attributes.items()
    )
    if not text and not children:
        return _Svg(f"<{tag}{written}/>")
    return _Svg(f"<{tag}{written}>{escape(text)}{''.join(children)}</{tag}>")


def _svg(name: str, height: int, title: str, body: Sequence[_Svg]) -> Markup:
    attributes = {
        "id": name,
        "class_": f"chart {name}",
        "viewBox": f"0 0 {WIDE} {height}",
        "width": WIDE,
        "height": height,
        "role": "img",
        "aria_label": title,
    }
    return Markup(_element("svg", attributes, children=[_element("title", {}, title), *body]))


def _at(value: float) -> float:
    """A coordinate to one decimal (written 12.0, as the charts always were)."""
    return round(float(value), 1)


def _text(x: float, y: float, text: str, anchor: str = "start", **more: object) -> _Svg:
    return _element("text", {"x": _at(x), "y": _at(y), "text_anchor": anchor, **more}, text)


def _rect(x: float, y: float, width: float, height: float, fill: str, **more: object) -> _Svg:
    place = {"x": _at(x), "y": _at(y), "width": _at(max(width, 0)), "height": _at(height)}
    return _element("rect", {**place, "fill": fill, **more})


def _line(x: float, y1: float, y2: float, stroke: str, **more: object) -> _Svg:
    """A vertical line (every line the charts draw is one)."""
    return _element(
        "line", {"x1": _at(x), "y1": y1, "x2": _at(x), "y2": y2, "stroke": stroke, **more}
    )


def _advance(char: str, size: float) -> float:
    """About how far one character moves the pen at this font size (CJK counted full width)."""
    return size if ord(char) > 0x2E80 else size * 0.6


def text_width(text: str, size: float = 12) -> float:
    return sum(_advance(char, size) for char in text)


def fit(text: str, room: float, size: float = 12) -> str:
    """Cut text to about `room` units at this font size (CJK counted full width)."""
    used = 0.0
    for n, char in enumerate(text):
        used += _advance(char, size)
        if used > room:
            return text[: max(n - 1, 0)] + "…"
    return text


def _legend(x: float, y: float, keys: Sequence[tuple[str, str]]) -> list[_Svg]:
    out = []
    for fill, name in keys:
        out += [_rect(x, y - 10, 12, 12, fill), _text(x + 16, y, name)]
        x += 28 + len(name) * 12
    return out


def phase_chart(review: Review, w: dict[str, str]) -> Markup:
    """(a) Completion and on-time percentages, one pair of bars per phase (and the total)."""
    rows = [(p.name, p.counts) for p in review.phases]
    if review.phase is None and len(rows) > 1:
        rows.append((w["total"], review.counts))
    left, plot, top, step = 180, 620, 44, 42
    body = _legend(left, 16, (("#1565c0", w["completion"]), ("#26a69a", w["on_time"])))
    for tick in range(0, 101, 25):
        x = left + plot * tick / 100
        body += [
            _line(x, top - 8, top + step * len(rows), "#e0e4e8"),
            _text(x, top - 12, f"{tick}%", "middle", fill="#5f6b7a", font_size="10"),
        ]
    for n, (name, counts) in enumerate(rows):
        y = top + n * step
        body.append(_text(left - 10, y + 21, fit(name, left - 20), "end"))
        for offset, value, fill, shown in (
            (6, counts.completion_pct, "#1565c0", True),
            (21, counts.on_time_pct, "#26a69a", counts.accepted > 0),
        ):
            body += [
                _rect(left, y + offset, plot, 12, "#eceff1"),
                _rect(left, y + offset, plot * value / 100, 12, fill),
                _text(
                    left + plot * value / 100 + 5,
                    y + offset + 10,
                    pct(value) if shown else "—",
                    font_size="11",
                ),
            ]
    return _svg("chart-phases", top + step * len(rows) + 6, w["phases"], body)


def _span(review: Review) -> tuple[dt.date, dt.date]:
    days = [d for t in review.tasks for d in (t.start, t.due, t.forecast_due) if d]
    days += [d for p in review.phases for d in (p.start, p.due) if d]
    start = review.span[0] or min(days, default=review.as_of)
    end = review.span[1] or max(days, default=review.as_of)
    start, end = min(start, review.as_of), max(end, review.as_of)
    return start, max(end, start + dt.timedelta(days=30))


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    count = (end.year - start.year) * 12 + end.month - start.month + 1
    step = 1 if count <= 18 else 3 if count <= 48 else 12
    firsts = [
        dt.date(start.year + (start.month - 1 + n) // 12, (start.month - 1 + n) % 12 + 1, 1)
        for n in range(0, count, step)
    ]
    return [max(day, start) for day in firsts]


def _slip(task: TaskReview, as_of: dt.date) -> dt.date | None:
    """Where a late bar's hatched tail ends: the forecast, or today for work still overdue."""
    if task.due is None:
        return None
    ends = [d for d in (task.forecast_due,) if d and d > task.due]
    if task.light == Light.RED and not task.done and as_of > task.due:
        ends.append(as_of)
    return max(ends, default=None)


def timeline_chart(review: Review, w: dict[str, str]) -> Markup:
    """(b) Phases and tasks over the plan's span, bars coloured by light, the as-of line."""
    start, end = _span(review)
    left, plot, top, row = 250, 630, 44, 20
    total = (end - start).days or 1

    def x(day: dt.date) -> float:
        return left + plot * min(max((day - start).days, 0), total) / total

    groups: list[tuple[str | None, dt.date | None, dt.date | None, list[TaskReview]]] = [
        (p.name, p.start, p.due, [t for t in review.tasks if t.phase == p.code])
        for p in review.phases
    ]
    known = {p.code for p in review.phases}
    stray = [t for t in review.tasks if t.phase not in known]
    if stray:  # a plan without phases draws its tasks under no heading
        groups.append((w["no_phase"] if review.phases else None, None, None, stray))
    bands = sum(name is not None for name, *_ in groups)
    height = top + row * (bands + sum(len(g[3]) for g in groups)) + 30
    hatch = _element(
        "pattern",
        {
            "id": "slip",
            "width": 6,
            "height": 6,
            "patternUnits": "userSpaceOnUse",
            "patternTransform": "rotate(45)",
        },
        children=[_element("rect", {"width": 3, "height": 6, "fill": "#e53935"})],
    )
    body = [_element("defs", {}, children=[hatch])]
    year: int | None = None
    for month in _months(start, end):
        body.append(_line(x(month), top - 6, height - 30, "#e0e4e8"))
        called = f"{month.month}月" if review.language == "zh" else MONTHS[month.month - 1][:3]
        body.append(_text(x(month) + 2, top - 10, called, font_size="10"))
        if month.year != year:  # the first tick of each year carries it
            year = month.year
            label = f"{year}年" if review.language == "zh" else str(year)
            body.append(_text(x(month) + 2, top - 26, label, font_weight="600"))
    y = top
    for name, begins, ends, tasks in groups:
        if name is not None:
            body += [
                _rect(0, y, WIDE, row, "#f1f4f8"),
                _text(8, y + 14, fit(name, left - 16), font_weight="600"),
            ]
            if begins and ends:
                body.append(_rect(x(begins), y + 7, x(ends) - x(begins), 6, "#90a4ae", rx="3"))
            y += row
        for task in tasks:
            first = task.start or begins or start
            last = task.due or task.forecast_due or end
            first, last = min(first, last), max(first, last)
            tip = (
                f"{task.code} {task.title} · {light_word(task.light, w)} · {iso(task.start)} – "
                f"{iso(task.due)}" + (f" → {iso(task.forecast_due)}" if task.forecast_due else "")
            )
            look: dict[str, object] = {"rx": "2"}
            if task.critical:
                look.update(stroke="#1a237e", stroke_width="1.6")
            if task.due is None:
                look.update(fill_opacity="0.45")
            shapes = [
                _text(16, y + 14, fit(f"{task.code} {task.title}", left - 24)),
                _rect(
                    x(first),
                    y + 4,
                    max(x(last) - x(first), 3),
                    row - 8,
                    colour_of(task.light),
                    **look,
                ),
            ]
            slip = _slip(task, review.as_of)
            if task.due and slip:
                shapes.append(
                    _rect(
                        x(task.due),
                        y + 4,
                        x(slip) - x(task.due),
                        row - 8,
                        "url(#slip)",
                        stroke="#e53935",
                    )
                )
            body.append(_element("g", {}, children=[_element("title", {}, tip), *shapes]))
            y += row
    at = x(review.as_of)
    anchor = "end" if at > WIDE - 120 else "start"
    body += [
        _line(
            at,
            top - 6,
            y + 4,
            "#b71c1c",
            id="as-of-line",
            class_="as-of",
            stroke_width="1.5",
            stroke_dasharray="5 3",
        ),
        _text(
            at + (-4 if anchor == "end" else 4),
            y + 20,
            f"{w['as_of']} {iso(review.as_of)}",
            anchor,
            fill="#b71c1c",
            font_weight="600",
        ),
    ]
    return _svg("chart-timeline", height, w["timeline"], body)


def ranking_chart(review: Review, w: dict[str, str]) -> Markup:
    """(c) The ranking: each ranked unit's on-time rate as a bar, in rank order (tied ranks
    repeat their number); a unit under an open 督办 in red."""
    left, plot, top, row = 190, 460, 34, 26
    escalated_colour, colour = "#e53935", "#43a047"
    body = _legend(left, 16, ((colour, w["rate_bar"]), (escalated_colour, w["rate_bar_escalated"])))
    for n, unit in enumerate(review.units):
        y = top + n * row
        width = plot * unit.rate / 100
        note = w["rate_note"].format(rate=pct(unit.rate), on_time=unit.on_time, due=unit.due)
        if unit.open_escalations:
            note += w["escalated_note"].format(n=unit.open_escalations)
        body += [
            _text(left - 10, y + 16, fit(f"{unit.rank}  {unit.name}", left - 20), "end"),
            _rect(left, y + 4, plot, row - 8, "#eceff1"),
            _rect(
                left, y + 4, width, row - 8, escalated_colour if unit.open_escalations else colour
            ),
            _text(left + plot + 6, y + 16, note),
        ]
    return _svg("chart-ranking", top + row * max(len(review.units), 1) + 6, w["ranking"], body)
