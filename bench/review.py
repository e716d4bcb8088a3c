"""Review benchmark: the full review of the sweep benchmark's 100k assignments (40 plans ×
250 tasks × 10 units), computed and rendered to HTML and XLSX, against the floor of one SQL
query reading the same rows, and the XLSX also against XlsxWriter writing the same cells with no
style (what the library itself costs). Prints ratios measured in one run on one file, each part
run --runs times (min and median). Usage: python bench/review.py [--plans 40] [--tasks 250]
[--units 10] [--runs 3]
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import text
from xlsxwriter import Workbook

sys.path.insert(0, str(Path(__file__).parent))
from processes import load_parser, parsed, table_row  # noqa: E402
from sweep import FLOOR, build  # noqa: E402  (the same synthetic load)

from render.review import render_html  # noqa: E402
from render.xlsx import write_xlsx  # noqa: E402
from schemas.db import engine_for, session_scope  # noqa: E402
from schemas.vocabulary import CLOSED  # noqa: E402
from tasks.review.compute import review_plan  # noqa: E402
from tasks.review.model import Review  # noqa: E402

T = TypeVar("T")


def timed(work: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def main() -> None:
    args = parsed(load_parser(__doc__))
    as_of = dt.date(2020, 6, 15)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'bench.db'}"
        build(url, folder, args.plans, args.tasks, args.units)
        codes = [f"bench-{i}" for i in range(args.plans)]

        def floor() -> int:
            with engine_for(url).connect() as conn:
                return len(conn.execute(text(FLOOR)).all())

        def compute() -> list[Review]:
            with session_scope(url) as session:
                return [review_plan(session, code, as_of) for code in codes]

        def xlsx() -> None:
            for review in reviews:
                write_xlsx(review, folder / f"{review.plan}.xlsx")

        def unstyled() -> None:
            """XlsxWriter's own floor: each item's plain fields, items and open items again as
            the review's two long sheets hold them, streamed, with no style."""
            for review in reviews:
                book = Workbook(folder / f"{review.plan}-unstyled.xlsx", {"constant_memory": True})
                items, missing = book.add_worksheet(), book.add_worksheet()
                shown = 0
                for row, item in enumerate(review.items):
                    fields = [v for v in item if isinstance(v, str | int | dt.date)]
                    items.write_row(row, 0, fields)
                    if item.state not in CLOSED:
                        missing.write_row(shown, 0, fields[:9])
                        shown += 1
                book.close()

        floor_time, rows = min(timed(floor) for _ in range(3))
        computed = [timed(compute) for _ in range(args.runs)]
        reviews = computed[0][1]
        html = [timed(lambda: [render_html(r) for r in reviews]) for _ in range(args.runs)]
        pages = html[0][1]
        xlsx_times = [timed(xlsx)[0] for _ in range(args.runs)]
        library = min(timed(unstyled)[0] for _ in range(args.runs))
    items = sum(len(r.items) for r in reviews)
    size = sum(len(p) for p in pages) / len(pages) / 1024
    print(f"data: {rows} assignments in {args.plans} plans; {items} items reviewed")
    print(
        f"floor (one query reading them), best of 3: {floor_time:.3f} s; {args.runs} runs of each:"
    )
    for what, times, target in (
        ("review compute, all plans", [t for t, _ in computed], 5),
        ("review HTML, all plans", [t for t, _ in html], None),
        ("review XLSX, all plans", xlsx_times, 10),
    ):
        best, middle = min(times), statistics.median(times)
        print(
            f"{what:<26} min {best:7.3f} s, median {middle:7.3f} s = {best / floor_time:.1f}× "
            f"(min), {middle / floor_time:.1f}× (median) the floor"
            + (f" (target ≤ {target}×)" if target else f", {size:.0f} KiB a page")
        )
        if what.endswith("XLSX, all plans"):
            print(
                f"{'  the same cells unstyled':<26} min {library:7.3f} s = "
                f"{library / floor_time:.1f}× the floor: XlsxWriter's own cost; the review's "
                f"workbook takes {best / library:.1f}× it"
            )
        table_row(
            f"{what} ({args.plans} plans)",
            f"{middle:.2f} s",
            f"floor {floor_time:.3f} s",
            f"{middle / floor_time:.1f}× the floor" + (f" (target {target}×)" if target else ""),
        )


if __name__ == "__main__":
    main()
