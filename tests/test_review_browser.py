"""The review page in a real headless Chromium: it loads from a file without a console error,
its three charts render at a real size, and it can be photographed.

Selenium is given Debian's chromedriver and Chromium explicitly, so it never downloads a driver
or a browser. Without /usr/bin/chromium the module is skipped, except on CI (the CI variable
set), where scripts/test installs the browser and a missing one stops the run (tests/conftest.py).
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from render.documents import ranking_circular_html, supervision_sheet_html
from render.review import render_html

from .conftest import CHROMEDRIVER, CHROMIUM
from .test_render_review import SHEET, sample_review, with_title

CHARTS = ("chart-phases", "chart-timeline", "chart-ranking")

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()) and not os.environ.get("CI"):
    pytest.skip(
        "Chromium and chromedriver are not installed (scripts/test installs them)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), "CI must have Chromium installed"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1800",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_window_size(1280, 1800)
    yield driver
    driver.quit()


def open_page(browser: webdriver.Chrome, path: Path, html: str) -> None:
    path.write_text(html, encoding="utf-8")
    browser.get(path.as_uri())
    assert browser.execute_script("return document.readyState") == "complete"


def severe(browser: webdriver.Chrome) -> list[dict[str, object]]:
    return [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]


def test_the_review_page_loads_without_console_errors_and_draws_its_charts(browser, tmp_path):
    open_page(browser, tmp_path / "review.html", render_html(sample_review()))
    assert severe(browser) == []
    for name in CHARTS:
        chart = browser.find_element(By.ID, name)
        assert chart.tag_name == "svg"
        assert chart.size["width"] > 600 and chart.size["height"] > 100, name
    line = browser.execute_script(
        "return document.getElementById('as-of-line').getBoundingClientRect().toJSON()"
    )
    assert line["height"] > 200  # across every row of the timeline
    assert browser.title == "南岸区医疗卫生行业综合监管制度试点实施方案 阶段评估报告"
    browser.save_screenshot(str(tmp_path / "review.png"))
    assert (tmp_path / "review.png").stat().st_size > 10_000


def test_a_script_in_the_data_is_shown_as_text_and_never_runs(browser, tmp_path):
    review = with_title(sample_review(), "t05", "<script>window.pwned = 1</script><img src=x>")
    open_page(browser, tmp_path / "hostile.html", render_html(review))
    assert browser.execute_script("return window.pwned === undefined")
    assert browser.find_elements(By.TAG_NAME, "img") == []
    assert "<script>window.pwned = 1</script>" in browser.find_element(By.ID, "flagged").text
    assert severe(browser) == []


def test_the_page_fits_an_a4_width_when_printed(browser, tmp_path):
    """Printed, nothing may stick out of the page: Chrome's PDF of it is one A4 column wide."""
    open_page(browser, tmp_path / "print.html", render_html(sample_review()))
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        browser.set_window_size(720, 1800)  # about 190 mm at 96 dpi
        widest = browser.execute_script(
            "return Math.max(...[...document.querySelectorAll('table, svg')]"
            ".map(e => e.getBoundingClientRect().right))"
        )
        assert widest <= browser.execute_script("return document.documentElement.clientWidth")
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        browser.set_window_size(1280, 1800)


def test_the_ranking_circular_renders_too(browser, tmp_path):
    open_page(
        browser,
        tmp_path / "circular.html",
        ranking_circular_html(sample_review(), issuer="联席会议办公室"),
    )
    assert severe(browser) == []
    rows = browser.find_elements(By.CSS_SELECTOR, "table.ranking tbody tr")
    assert len(rows) == 2  # the ranked units; the two with nothing due are not ranked


def pdf_pages(browser: webdriver.Chrome) -> list[bytes]:
    """Print the open page as Chrome would to paper (its own @page size); the pages' boxes."""
    pdf = base64.b64decode(
        browser.execute_cdp_cmd(
            "Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True}
        )["data"]
    )
    return re.findall(rb"/Type\s*/Page[^s].*?/MediaBox\s*\[([^\]]*)\]", pdf, re.S)


def test_a_supervision_sheet_prints_on_one_a4_page(browser, tmp_path):
    blocks = tuple(f"t{n:02d} 后续任务{n}" for n in range(10, 16))
    html = supervision_sheet_html(**{**SHEET, "blocks": blocks})  # type: ignore[arg-type]
    open_page(browser, tmp_path / "sheet.html", html)
    assert severe(browser) == []
    (page,) = pdf_pages(browser)
    width, height = (float(v) for v in page.split()[2:])
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)  # A4, in mm
