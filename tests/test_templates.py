"""Every HTML and text rendering against the golden files in tests/data/golden, and hostile text.

The golden files were written by the f-string renderers before the move to Jinja2 templates
(`python -m tests.test_templates` writes them again), from the fixtures the other tests use: the
district review of tests/test_render_review.py, the letters of tests/test_notices.py and
tests/test_delivery.py, and the Chongqing story of tests/test_review.py (its reviews and a varied
set of its letters, captured once into story.json by capture_story.py beside them).

HTML is compared as structure: each page is parsed into an outline of tags, sorted attributes and
text with whitespace collapsed, so only what a browser or mail client would show differently
counts. Text and Markdown are compared line by line with whitespace collapsed; subjects exactly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import sys
import types
import typing
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from render.documents import ranking_circular_html, supervision_sheet_html
from render.environment import day, md
from render.letters import render_letter
from render.review import render_html, render_markdown
from tasks.review.model import Review
from tasks.sweep.notices import Letter, NoticeItem

from .test_delivery import EVIL, MAIL
from .test_delivery import OFFICE as DELIVERY_OFFICE
from .test_notices import (
    ALL,
    ASKED,
    DECISIONS,
    DUE,
    REMINDER,
    SUBMITTED,
    SUPERVISE,
    URGE,
    letter,
)
from .test_render_review import SHEET, sample_review, with_title

GOLDEN = Path(__file__).parent / "data" / "golden"
D = dt.date


# The documents -------------------------------------------------------------------------------


def build(kind: Any, data: Any) -> Any:
    """A value of type `kind` from its JSON form (dataclasses, named tuples, tuples, dates,
    enums)."""
    if data is None:
        return None
    if isinstance(kind, type) and (dataclasses.is_dataclass(kind) or hasattr(kind, "_fields")):
        hints = typing.get_type_hints(kind)
        return kind(**{name: build(hints[name], value) for name, value in data.items()})
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        return build(next(a for a in args if a is not type(None)), data)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(build(args[0], v) for v in data)
        return tuple(build(a, v) for a, v in zip(args, data, strict=True))
    if kind is dt.date:
        return dt.date.fromisoformat(data)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(data)
    return data


def story() -> tuple[list[Review], list[Letter]]:
    data = json.loads((GOLDEN / "story.json").read_text(encoding="utf-8"))
    return [build(Review, r) for r in data["reviews"]], [build(Letter, x) for x in data["letters"]]


def delivery_letter() -> Letter:
    """The hostile letter of tests/test_delivery.py: header injection in every field."""
    item = NoticeItem(
        plan_code="cq",
        plan_title="试点方案" + EVIL,
        document_number=None,
        task_code="t07",
        task_title="<script>alert(1)</script>" + EVIL,
        unit_name="南岸区" + EVIL,
        role="lead",
        level="urge",
        rung="1wd-overdue",
        why="逾期1个工作日",
        due=D(2019, 9, 24),
        original_due=None,
        deadline_text=None,
        deadline_reading=None,
        workdays_left=0,
        overdue_workdays=1,
        in_copy=False,
        recipient_role="responsible",
        receipt_code=None,
    )
    return Letter(
        recipient_name="南岸区" + EVIL,
        to=MAIL.to,
        sender_name=DELIVERY_OFFICE + EVIL,
        as_of=D(2019, 9, 25),
        items=(item,),
    )


def replace_copy(item: NoticeItem) -> NoticeItem:
    """The item as the office's copy of it."""
    return item._replace(in_copy=True, recipient_role="office")


def reviews() -> Iterator[tuple[str, Review]]:
    sample = sample_review()
    yield "district-zh", sample
    yield "district-en", sample_review(language="en")
    yield "district-later", sample_review(as_of=D(2020, 4, 30))
    yield "district-hostile", with_title(sample, "t05", '<script>alert("x")</script> & "引号"')
    yield "district-markdown", with_title(sample, "t05", "抽查|通报\n<b>[链接](x)</b>")
    yield (
        "district-calm",
        sample_review(items=tuple(i for i in sample.items if i.light == "green"), at_risk=()),
    )
    yield (
        "district-empty",
        sample_review(
            items=(), tasks=(), units=(), not_yet_due=(), phases=(), critical_path=(), at_risk=()
        ),
    )
    found, _ = story()
    yield from zip(
        ("chongqing-end", "chongqing-final-phase", "chongqing-early"), found, strict=True
    )
    yield "chongqing-end-en", dataclasses.replace(found[0], language="en")


def letters() -> Iterator[tuple[str, Letter]]:
    for language in ("zh", "en"):
        yield f"all-{language}", letter(*ALL, language=language)
        for item in ALL:
            yield f"{item.level}-{language}", letter(item, language=language)
        yield (
            f"several-plans-{language}",
            letter(
                REMINDER,
                DUE._replace(plan_code="yn", plan_title="楚雄州试点方案"),
                language=language,
            ),
        )
        yield (
            f"copy-{language}",
            letter(
                URGE._replace(in_copy=True, recipient_role="office"),
                language=language,
                recipient="联席会议办公室",
            ),
        )
        yield f"decisions-{language}", letter(REMINDER, followups=DECISIONS, language=language)
        yield f"decisions-only-{language}", letter(followups=DECISIONS[:2], language=language)
        yield (
            f"queue-{language}",
            letter(
                replace_copy(URGE),
                waiting=(ASKED, SUBMITTED),
                more=3,
                language=language,
                recipient="联席会议办公室",
            ),
        )
        yield (
            f"extended-{language}",
            letter(
                URGE._replace(original_due=D(2019, 8, 30), occurrence=D(2019, 9, 20)),
                SUPERVISE._replace(blocks=tuple(f"t{n:02d} 任务{n}" for n in range(9))),
                language=language,
            ),
        )
    yield (
        "six-zh",
        letter(*(URGE._replace(task_code=f"t{n:02d}", task_title=f"任务{n}") for n in range(7))),
    )
    yield "delivery-hostile", delivery_letter()
    _, found = story()
    yield from ((f"chongqing-{n:02d}", x) for n, x in enumerate(found, start=1))


CIRCULARS = ("district-zh", "district-en", "district-hostile", "district-empty", "chongqing-end")


def documents() -> dict[str, str]:
    """Every document the renderers make for the fixtures, by golden file name."""
    out: dict[str, str] = {}
    for name, review in reviews():
        out[f"review-{name}.html"] = render_html(review)
        out[f"review-{name}.md"] = render_markdown(review)
        if name in CIRCULARS:
            out[f"circular-{name}.html"] = ranking_circular_html(
                review, issuer="南岸区医疗卫生行业综合监管联席会议办公室"
            )
    out["circular-numbered.html"] = ranking_circular_html(
        sample_review(),
        issuer="联席会议办公室",
        number="南岸监管办〔2020〕3号",
        issued=D(2020, 3, 20),
    )
    sheets: dict[str, dict[str, object]] = {
        "zh": SHEET,
        "en": {**SHEET, "language": "en"},
        "plain": {**SHEET, "document_number": None, "blocks": (), "current_due": D(2020, 4, 30)},
        "hostile": {**SHEET, "task_title": "<script>x</script>", "unit_name": 'A&B "区"'},
    }
    for name, fields in sheets.items():
        out[f"sheet-{name}.html"] = supervision_sheet_html(**fields)  # type: ignore[arg-type]
    for name, each in letters():
        mail = render_letter(each)
        out[f"letter-{name}.subject"] = mail.subject
        out[f"letter-{name}.txt"] = mail.text
        out[f"letter-{name}.html"] = mail.html
    return out


# Comparing -----------------------------------------------------------------------------------

VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())


class Outline(HTMLParser):
    """An HTML page as indented lines: each tag with its attributes sorted, each run of text with
    its whitespace collapsed; whitespace between tags is dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.depth = 0
        self.text: list[str] = []

    def flush(self) -> None:
        text = " ".join("".join(self.text).split())
        if text:
            self.lines.append("  " * self.depth + repr(text))
        self.text = []

    def tag(self, tag: str, attrs: list[tuple[str, str | None]], end: str) -> None:
        self.flush()
        shown = "".join(f" {k}={v!r}" for k, v in sorted(attrs))
        self.lines.append(f"{'  ' * self.depth}<{tag}{shown}{end}>")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tag(tag, attrs, "")
        if tag not in VOID:
            self.depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tag(tag, attrs, "/")

    def handle_endtag(self, tag: str) -> None:
        self.flush()
        if tag not in VOID:
            self.depth -= 1
            self.lines.append(f"{'  ' * self.depth}</{tag}>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_decl(self, decl: str) -> None:
        self.lines.append(f"<!{decl}>")


def outline(page: str) -> list[str]:
    parser = Outline()
    parser.feed(page)
    parser.close()
    parser.flush()
    return parser.lines


def text_lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


COMPARE: dict[str, Callable[[str], object]] = {
    ".html": outline,
    ".md": text_lines,
    ".txt": text_lines,
    ".subject": lambda subject: subject,
}


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return documents()


def golden_names() -> list[str]:
    return sorted(p.name for p in GOLDEN.iterdir() if p.suffix in COMPARE)


def test_every_document_has_its_golden_file(rendered):
    assert sorted(rendered) == golden_names()


@pytest.mark.parametrize("name", golden_names())
def test_the_document_is_the_one_the_f_strings_made(rendered, name):
    compare = COMPARE[Path(name).suffix]
    with open(GOLDEN / name, encoding="utf-8", newline="") as file:
        expected = file.read()
    assert compare(rendered[name]) == compare(expected)


# Hostile text ---------------------------------------------------------------------------------


def evil(field: str) -> str:
    """Markup, a template expression, an ampersand and both quotes, named for its field."""
    return f"<script>alert(\"{field}\")</script>{{{{ 7*7 }}}} & '{field}'"


def hostile_review() -> Review:
    """The district review with hostile text in every field a plan or a unit writes."""
    review = sample_review()
    return dataclasses.replace(
        review,
        title=evil("plan title"),
        document_number=evil("document number"),
        ranking_rule=evil("ranking rule"),
        phases=tuple(
            dataclasses.replace(p, name=evil("phase"), missing=(evil("missing"),))
            for p in review.phases
        ),
        tasks=tuple(
            t._replace(title=evil("task title"), units=(evil("task unit"),)) for t in review.tasks
        ),
        items=tuple(
            i._replace(task_title=evil("task title"), unit_name=evil("unit name"))
            for i in review.items
        ),
        units=tuple(dataclasses.replace(u, name=evil("unit name")) for u in review.units),
    )


def hostile_letter() -> Letter:
    """Every kind of item, each field from the plan, its units or the rules hostile."""
    items = tuple(
        item._replace(
            plan_title=evil("plan title"),
            document_number=evil("document number"),
            task_code=evil("task code"),
            task_title=evil("task title"),
            unit_name=evil("unit name"),
            why=evil("reason"),
            deadline_text=evil("deadline"),
            deadline_reading=evil("reading"),
            receipt_code=evil("receipt") if item.receipt_code else None,
            blocks=(evil("blocks"),),
        )
        for item in ALL
    )
    return dataclasses.replace(
        letter(*items),
        recipient_name=evil("recipient"),
        sender_name=evil("sender"),
        contact_name=evil("contact"),
        contact_phone=evil("phone"),
    )


def hostile_decisions() -> Letter:
    """Decisions and the office's queue, every field from the plan, a unit or the office
    hostile; the office's desk link too."""
    plan = {
        "plan_title": evil("plan title"),
        "document_number": evil("document number"),
        "task_code": evil("task code"),
        "task_title": evil("task title"),
        "unit_name": evil("unit name"),
    }
    decisions = tuple(
        dataclasses.replace(
            d, **plan, reason=evil("reason"), other_unit=d.other_unit and evil("other unit")
        )
        for d in DECISIONS
    )
    waiting = tuple(dataclasses.replace(w, **plan, note=evil("note")) for w in (ASKED, SUBMITTED))
    return dataclasses.replace(
        letter(followups=decisions, waiting=waiting, more=1),
        recipient_name=evil("recipient"),
        desk=evil("desk"),
    )


HOSTILE_SHEET: dict[str, Any] = {
    **SHEET,
    **{
        field: evil(field)
        for field in ("plan_title", "document_number", "task_code", "task_title", "unit_name")
    },
    "blocks": (evil("blocks"),),
    "receipt_code": evil("receipt"),
    "issuer": evil("issuer"),
}
REVIEW_FIELDS: tuple[str, ...] = ("plan title", "document number", "ranking rule", "phase")
REVIEW_FIELDS += ("missing", "task title", "task unit", "unit name")
LETTER_FIELDS: tuple[str, ...] = ("plan title", "document number", "task title", "contact")
LETTER_FIELDS += ("unit name", "reason", "deadline", "reading", "receipt", "blocks")
LETTER_FIELDS += ("recipient", "sender", "phone")
HOSTILE_PAGES: dict[str, tuple[Callable[[], str], Callable[[], str], tuple[str, ...]]] = {
    "review page": (
        lambda: render_html(hostile_review()),
        lambda: render_html(sample_review()),
        REVIEW_FIELDS,
    ),
    "circular": (
        lambda: ranking_circular_html(hostile_review(), issuer=evil("issuer"), number=evil("no")),
        lambda: ranking_circular_html(sample_review(), issuer="办公室", number="1号"),
        ("plan title", "document number", "ranking rule", "task title", "unit name", "issuer"),
    ),
    "supervision sheet": (
        lambda: supervision_sheet_html(**HOSTILE_SHEET),
        lambda: supervision_sheet_html(**SHEET),  # type: ignore[arg-type]
        ("plan_title", "document_number", "task_code", "task_title", "unit_name", "blocks"),
    ),
    "letter": (
        lambda: render_letter(hostile_letter()).html,
        lambda: render_letter(letter(*ALL)).html,
        LETTER_FIELDS,
    ),
    "letter of decisions": (
        lambda: render_letter(hostile_decisions()).html,
        lambda: render_letter(letter(followups=DECISIONS, waiting=(ASKED, SUBMITTED), more=1)).html,
        ("plan title", "document number", "task title", "unit name", "reason")
        + ("other unit", "note", "recipient", "desk"),
    ),
}


class Shape(HTMLParser):
    """The elements and attribute names of a page, and its text as a reader sees it."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: set[tuple[str, str]] = set()
        self.text: list[str] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements |= {(tag, "")} | {(tag, name) for name, _ in attrs}
        self.text += [value for _, value in attrs if value]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.parametrize("page", HOSTILE_PAGES)
def test_hostile_text_is_text_in_every_html_page(page):
    hostile, calm, fields = HOSTILE_PAGES[page]
    html = hostile()
    shape = Shape(html)
    assert shape.elements == Shape(calm()).elements  # no element or attribute came in
    assert "<script" not in html
    text = "\n".join(shape.text)
    for field in fields:
        assert evil(field) in text, field  # every field, whole, as text, {{ 7*7 }} unevaluated


def test_hostile_text_is_literal_in_the_letters_text_part():
    text = render_letter(hostile_letter()).text
    for field in LETTER_FIELDS:
        assert evil(field) in text, field
    decisions = render_letter(hostile_decisions()).text
    for field in ("reason", "other unit", "note", "desk"):
        assert evil(field) in decisions, field


def test_hostile_text_is_one_escaped_markdown_line_in_the_review():
    text = render_markdown(hostile_review())
    for field in ("plan title", "document number", "ranking rule", "phase", "task title"):
        assert md(evil(field)) in text, field


def write_golden() -> None:
    """Write today's output as the golden files (run on the code whose output is the reference)."""
    for path in GOLDEN.iterdir():
        if path.suffix in COMPARE:
            path.unlink()
    for name, content in documents().items():
        (GOLDEN / name).write_text(content, encoding="utf-8", newline="")


if __name__ == "__main__":
    write_golden()
    sys.exit(0)


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2019, 9, 27, 7, 0, tzinfo=dt.UTC),
        dt.datetime(2019, 9, 27, 7, 0),  # as SQLite gives it back: UTC without a zone
        "2019-09-27T07:00:00+00:00",  # as the audit trail keeps it
    ],
)
def test_a_moment_on_a_page_is_on_the_offices_clock(moment):
    assert day(moment) == "2019-09-27 15:00"  # 15:00 in Shanghai, stored as 07:00 UTC
    assert day(dt.date(2019, 9, 27)) == day("2019-09-27") == "2019-09-27"
