"""The review's three charts as inline SVG, for the HTML page and the review mail.

Each chart is an `<svg>` with a stable id and class (`chart-phases`, `chart-timeline`,
`chart-ranking`), 900 units wide and scaled to the page by CSS; it draws with plain shapes and
text (no scripts, no external fonts or images), so it renders the same in a browser, a mail
client and print. `words` is the label set of render.review for the review's language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from html import escape

from schemas.vocabulary import Light
from tasks.review.model import Review, TaskReview

COLOURS: dict[Light, str] = {Light.GREEN: "#43a047", Light.YELLOW: "#f9a825", Light.RED: "#e53935"}
WIDE = 900


def pct(value: float) -> str:
    return f"{value:.1f}%"


def iso(day: dt.date | None) -> str:
    return day.isoformat() if day else "—"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _svg(name: str, height: int, title: str, body: Iterable[str]) -> str:
    return (
        f'<svg id="{name}" class="chart {name}" viewBox="0 0 {WIDE} {height}" '
        f'width="{WIDE}" height="{height}" role="img" aria-label="{_e(title)}">'
        f"<title>{_e(title)}</title>" + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{_e(text)}</text>'


def _rect(x: float, y: float, width: float, height: float, fill: str, extra: str = "") -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" height="{height:.1f}" '
        f'fill="{fill}"{extra}/>'
    )


def _fit(text: str, room: float, size: float = 12) -> str:
    """Cut text to about `room` units at this font size (CJK counted full width)."""
    used = 0.0
    for n, char in enumerate(text):
        used += size if ord(char) > 0x2E80 else size * 0.6
        if used > room:
            return text[: max(n - 1, 0)] + "…"
    return text


def _legend(x: float, y: float, keys: Sequence[tuple[str, str]]) -> list[str]:
    out = []
    for fill, name in keys:
        out += [_rect(x, y - 10, 12, 12, fill), _text(x + 16, y, name)]
        x += 28 + len(name) * 12
    return out


def phase_chart(review: Review, w: dict[str, str]) -> str:
    """(a) Completion and on-time percentages, one pair of bars per phase (and the total)."""
    rows = [(p.name, p.counts) for p in review.phases]
    if review.phase is None and len(rows) > 1:
        rows.append((w["total"], review.counts))
    left, plot, top, step = 180, 620, 44, 42
    body = _legend(left, 16, (("#1565c0", w["completion"]), ("#26a69a", w["on_time"])))
    for tick in range(0, 101, 25):
        x = left + plot * tick / 100
        body += [
            f'<line x1="{x:.1f}" y1="{top - 8}" x2="{x:.1f}" y2="{top + step * len(rows)}"'
            ' stroke="#e0e4e8"/>',
            _text(x, top - 12, f"{tick}%", "middle", ' fill="#5f6b7a" font-size="10"'),
        ]
    for n, (name, counts) in enumerate(rows):
        y = top + n * step
        body.append(_text(left - 10, y + 21, _fit(name, left - 20), "end"))
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
                    extra=' font-size="11"',
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


def timeline_chart(review: Review, w: dict[str, str]) -> str:
    """(b) Phases and tasks over the plan's span, bars coloured by light, the as-of line."""
    start, end = _span(review)
    left, plot, top, row = 250, 630, 44, 20
    total = (end - start).days or 1

    def x(day: dt.date) -> float:
        return left + plot * min(max((day - start).days, 0), total) / total

    groups: list[tuple[str, dt.date | None, dt.date | None, list[TaskReview]]] = [
        (p.name, p.start, p.due, [t for t in review.tasks if t.phase == p.code])
        for p in review.phases
    ]
    known = {p.code for p in review.phases}
    stray = [t for t in review.tasks if t.phase not in known]
    if stray:
        groups.append((w["no_phase"], None, None, stray))
    height = top + row * sum(1 + len(g[3]) for g in groups) + 30
    body = [
        '<defs><pattern id="slip" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="3" height="6" fill="#e53935"/>'
        "</pattern></defs>"
    ]
    for n, month in enumerate(_months(start, end)):
        body.append(
            f'<line x1="{x(month):.1f}" y1="{top - 6}" x2="{x(month):.1f}" '
            f'y2="{height - 30}" stroke="#e0e4e8"/>'
        )
        name = f"{month.month}月" if review.language == "zh" else f"{month:%b}"
        body.append(_text(x(month) + 2, top - 10, name, extra=' font-size="10"'))
        if n == 0 or month.month == 1:
            year = f"{month.year}年" if review.language == "zh" else str(month.year)
            body.append(_text(x(month) + 2, top - 26, year, extra=' font-weight="600"'))
    y = top
    for name, begins, ends, tasks in groups:
        body += [
            _rect(0, y, WIDE, row, "#f1f4f8"),
            _text(8, y + 14, _fit(name, left - 16), extra=' font-weight="600"'),
        ]
        if begins and ends:
            body.append(_rect(x(begins), y + 7, x(ends) - x(begins), 6, "#90a4ae", ' rx="3"'))
        y += row
        for task in tasks:
            first = task.start or begins or start
            last = task.due or task.forecast_due or end
            first, last = min(first, last), max(first, last)
            tip = (
                f"{task.code} {task.title} · {w[task.light]} · {iso(task.start)} – "
                f"{iso(task.due)}" + (f" → {iso(task.forecast_due)}" if task.forecast_due else "")
            )
            outline = ' stroke="#1a237e" stroke-width="1.6"' if task.critical else ""
            faded = ' fill-opacity="0.45"' if task.due is None else ""
            body += [
                f"<g><title>{_e(tip)}</title>",
                _text(16, y + 14, _fit(f"{task.code} {task.title}", left - 24)),
                _rect(
                    x(first),
                    y + 4,
                    max(x(last) - x(first), 3),
                    row - 8,
                    COLOURS[task.light],
                    f' rx="2"{outline}{faded}',
                ),
            ]
            slip = _slip(task, review.as_of)
            if task.due and slip:
                body.append(
                    _rect(
                        x(task.due),
                        y + 4,
                        x(slip) - x(task.due),
                        row - 8,
                        "url(#slip)",
                        ' stroke="#e53935"',
                    )
                )
            body.append("</g>")
            y += row
    at = x(review.as_of)
    anchor = "end" if at > WIDE - 120 else "start"
    body += [
        f'<line id="as-of-line" class="as-of" x1="{at:.1f}" y1="{top - 6}" x2="{at:.1f}" '
        f'y2="{y + 4}" stroke="#b71c1c" stroke-width="1.5" stroke-dasharray="5 3"/>',
        _text(
            at + (-4 if anchor == "end" else 4),
            y + 20,
            f"{w['as_of']} {iso(review.as_of)}",
            anchor,
            ' fill="#b71c1c" font-weight="600"',
        ),
    ]
    return _svg("chart-timeline", height, w["timeline"], body)


def ranking_chart(review: Review, w: dict[str, str]) -> str:
    """(c) The ranking: own delays (ranked) and upstream delays (not ranked), one bar each."""
    left, plot, top, row = 190, 480, 34, 26
    scale = max((u.own_delays + u.upstream_delays for u in review.units), default=0) or 1
    body = _legend(left, 16, (("#e53935", w["own_bar"]), ("#b0bec5", w["upstream_bar"])))
    for n, unit in enumerate(review.units):
        y = top + n * row
        own, upstream = plot * unit.own_delays / scale, plot * unit.upstream_delays / scale
        body += [
            _text(left - 10, y + 16, _fit(f"{unit.rank}  {unit.name}", left - 20), "end"),
            _rect(left, y + 4, own, row - 8, "#e53935"),
            _rect(left + own, y + 4, upstream, row - 8, "#b0bec5"),
        ]
        note = (
            (f"{w['own_short']} {unit.own_delays} · {w['upstream_short']} {unit.upstream_delays}")
            if unit.own_delays or unit.upstream_delays
            else w["no_delay"]
        )
        colour = "#2e7d32" if note == w["no_delay"] else "#1f2933"
        body.append(_text(left + own + upstream + 6, y + 16, note, extra=f' fill="{colour}"'))
    return _svg("chart-ranking", top + row * max(len(review.units), 1) + 6, w["ranking"], body)
