"""The review as Markdown (mail text, the CLI) and as one self-contained HTML page with charts.

The HTML page (templates/review/page.html) fetches nothing: its CSS is inline and its three
charts (render.charts) are inline SVG: phase progress `chart-phases` (left out, with the phase
table, for a plan without phases), the timeline `chart-timeline` with its as-of line, the unit
ranking `chart-ranking`. It prints on A4. The templates escape every value from the data (HTML)
or keep it to one plain line (Markdown, templates/review/page.md); this module and
render.review_rows only choose and word what they show. The wording (render.review_words) is
Chinese (`review.language == "zh"`) or English; render.xlsx and render.documents share it.
"""

from __future__ import annotations

from collections.abc import Sequence

from calendars.clock import long_date
from render.charts import COLOURS, light_word, phase_chart, ranking_chart, timeline_chart
from render.environment import iso, pct, render
from render.review_rows import (
    ITEM_COLUMNS,
    UNIT_COLUMNS,
    flagged_rows,
    not_yet_due,
    unit_cells,
    unit_names,
)
from render.review_words import LABELS
from schemas.vocabulary import Light
from tasks.review.model import Counts, PhaseReview, Review, TaskReview

TINTS: dict[Light, str] = {Light.GREEN: "C6EFCE", Light.YELLOW: "FFEB9C", Light.RED: "FFC7CE"}
SHOWN = 5  # list at most this many "missing" or "blocks" lines, then "and N more"


def labels(review: Review) -> dict[str, str]:
    return LABELS.get(review.language, LABELS["zh"])


def shortened(lines: Sequence[str], words: dict[str, str]) -> list[str]:
    if len(lines) <= SHOWN:
        return list(lines)
    return [*lines[:SHOWN], words["more"].format(n=len(lines))]


def folded(phase: PhaseReview) -> bool:
    """Whether the summary of what a phase lacks leaves some of the detail out."""
    summary = phase.missing_summary
    return len(summary) > SHOWN or len(phase.missing) > len(summary)


def missing_lines(phase: PhaseReview, words: dict[str, str]) -> list[str]:
    """What a phase still lacks for the text: the summary (one line per task and earlier
    phase, the first few), then how many items the detail has when it is left out."""
    lines = shortened(phase.missing_summary, words)
    if folded(phase):
        lines.append(words["detail"].format(n=len(phase.missing)))
    return lines


def light_counts(review: Review) -> dict[str, int]:
    return {light: sum(i.light == light for i in review.items) for light in COLOURS}


COUNT_KEYS = (
    "tasks",
    "assignments",
    "accepted",
    "accepted_on_time",
    "submitted",
    "in_progress",
    "not_started",
    "overdue",
    "extended",
    "waived",
)  # Counts' fields and label keys


def on_time(counts: Counts) -> str:
    """The on-time rate, or a dash while nothing is accepted."""
    return pct(counts.on_time_pct) if counts.accepted else "—"


def count_rows(counts: Counts, words: dict[str, str]) -> list[tuple[str, str]]:
    """Every figure of the counts, labelled, the two percentages last."""
    rows = [(words[key], words["count"].format(n=getattr(counts, key))) for key in COUNT_KEYS]
    return [
        *rows,
        (words["completion"], pct(counts.completion_pct)),
        (words["on_time"], on_time(counts)),
    ]


def scope(review: Review, words: dict[str, str]) -> str:
    chosen = next((p.name for p in review.phases if p.code == review.phase), review.phase)
    return chosen or words["plan_scope"]


def at_risk_tasks(review: Review) -> list[TaskReview]:
    by_code = {t.code: t for t in review.tasks}
    return [by_code[c] for c in review.at_risk if c in by_code]


def unled(review: Review) -> list[TaskReview]:
    """Tasks whose plan names no lead and the office has not named one (牵头单位未明确)."""
    return [t for t in review.tasks if t.no_lead]


def meta(review: Review, words: dict[str, str]) -> list[str]:
    """The line under the title: document number, the day, the scope."""
    parts = (
        review.document_number,
        f"{words['as_of']} {long_date(review.as_of, review.language)}",
        f"{words['scope']}{words['colon']}{scope(review, words)}",
    )
    return [p for p in parts if p]


def render_markdown(review: Review) -> str:
    """The review as Markdown: figures, phases, red and yellow items, critical path, ranking."""
    w = labels(review)
    counts = review.counts
    headline = w["headline"].format(
        completion=pct(counts.completion_pct),
        lights=w["lights"].format(**light_counts(review)),
        on_time=on_time(counts),
    )
    phase_rows = [
        (
            p.name,
            f"{iso(p.start)} – {iso(p.due)}",
            pct(p.counts.completion_pct),
            on_time(p.counts),
            w["yes" if p.ready else "no"],
            "；".join(missing_lines(p, w)) or "—",
        )
        for p in review.phases
    ]
    risky_rows = [
        (
            light_word(t.light, w),
            f"{t.code} {t.title}",
            iso(t.due),
            iso(t.forecast_due),
            w["sep"].join(shortened(t.blocks, w)) or "—",
        )
        for t in at_risk_tasks(review)
    ]
    return render(
        "review/page.md",
        review=review,
        w=w,
        meta=meta(review, w),
        headline=headline,
        figures=count_rows(counts, w),
        phase_rows=phase_rows,
        flagged_rows=[row.cells for row in flagged_rows(review.items, w)],
        risky_rows=risky_rows,
        unled_rows=[[f"{t.code} {t.title}", unit_names(t.units, w)] for t in unled(review)],
        unit_rows=[unit_cells(u, review, w) for u in review.units],
        not_yet_due=not_yet_due(review, w),
        item_columns=[w[c] for c in ITEM_COLUMNS],
        unit_columns=[w[c] for c in UNIT_COLUMNS],
    )


def render_html(review: Review) -> str:
    """One self-contained, printable HTML page: figures, three SVG charts, tables."""
    w = labels(review)
    counts = review.counts
    lights = light_counts(review)
    cards = (
        ("", pct(counts.completion_pct), w["completion"]),
        ("", on_time(counts), w["on_time"]),
        ("red", lights["red"], w["red"]),
        ("yellow", lights["yellow"], w["yellow"]),
        ("green", lights["green"], w["green"]),
        ("", counts.overdue, w["overdue"]),
    )
    charts = {
        "phases": phase_chart(review, w) if review.phases else None,
        "timeline": timeline_chart(review, w),
        "ranking": ranking_chart(review, w),
    }
    return render(
        "review/page.html",
        review=review,
        w=w,
        lang=w["lang"],
        meta=meta(review, w),
        cards=cards,
        figures=count_rows(counts, w),
        charts=charts,
        flagged=flagged_rows(review.items, w),
        risky=[(t, unit_names(t.units, w)) for t in at_risk_tasks(review)],
        unled=[(t, unit_names(t.units, w)) for t in unled(review)],
        shortened=shortened,
        folded=folded,
        unit_rows=[unit_cells(u, review, w) for u in review.units],
        not_yet_due=not_yet_due(review, w),
        item_columns=ITEM_COLUMNS,
        unit_columns=UNIT_COLUMNS,
    )
