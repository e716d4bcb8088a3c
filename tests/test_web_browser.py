"""The workplace in a real headless Chromium against uvicorn: each role walks through its work,
and a 督办单 is acknowledged from the link in a mail received by a real SMTP server.

Screenshots of each role's main page are saved under the test's folder (and, when
DUBAN_SCREENSHOTS names a folder, there too).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .test_review_browser import CHROMEDRIVER, CHROMIUM
from .webworld import PASSWORD, World, build_world

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()) and not os.environ.get("CI"):
    pytest.skip("Chromium and chromedriver are not installed", allow_module_level=True)

import uvicorn  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

from duban.web.app import create_app  # noqa: E402
from schemas.db import sessions  # noqa: E402
from tasks.sweep.delivery import SmtpTransport  # noqa: E402
from tasks.sweep.outbox import deliver_pending  # noqa: E402

from .test_delivery import Inbox, smtp_server  # noqa: E402
from .webworld import DAY  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str]]:
    """The world served by uvicorn in a thread, on a free port; its mails carry its address."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    world = build_world(tmp_path_factory.mktemp("site"), public_url=base)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(world.settings, fixed_day=DAY),
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield world, base
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
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
        "--window-size=1366,768",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-web')}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_window_size(1366, 768)
    yield driver
    driver.quit()


def shoot(browser: webdriver.Chrome, folder: Path, name: str) -> None:
    height = browser.execute_script("return document.body.scrollHeight")
    width = browser.get_window_size()["width"]
    browser.set_window_size(width, min(max(768, height + 120), 2400))
    path = folder / f"{name}.png"
    browser.save_screenshot(str(path))
    assert path.stat().st_size > 10_000
    if os.environ.get("DUBAN_SCREENSHOTS"):
        target = Path(os.environ["DUBAN_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / path.name)
    browser.set_window_size(width, 768)


def press(button: WebElement) -> None:
    """Click a submit button and wait for the next page to replace this one."""
    button.click()
    WebDriverWait(button.parent, 20).until(lambda _: replaced(button))


def replaced(element: WebElement) -> bool:
    """Whether the page holding `element` is gone. Mid-navigation chromedriver may answer
    "Node with given id does not belong to the document" instead of a stale reference."""
    try:
        element.is_enabled()
    except WebDriverException:
        return True
    return False


def log_in(browser: webdriver.Chrome, base: str, username: str, password: str = PASSWORD) -> None:
    browser.delete_all_cookies()
    browser.get(f"{base}/login")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    press(browser.find_element(By.ID, "login-button"))


def task_page(browser: webdriver.Chrome, code: str) -> str:
    """The address of a task's page, from the liaison's list."""
    return next(
        row.find_element(By.CSS_SELECTOR, "a.button").get_attribute("href") or ""
        for row in browser.find_elements(By.CSS_SELECTOR, "tr[data-assignment]")
        if row.text.startswith(code + " ")
    )


def severe(browser: webdriver.Chrome) -> list[dict[str, object]]:
    return [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]


def test_each_role_walks_through_its_work(site, browser, tmp_path):
    world, base = site
    # The liaison: my work, then t02: progress with an attachment, then submit.
    log_in(browser, base, "wjw")
    assert browser.current_url.endswith("/my")
    assert "截至 2019-08-12" in browser.find_element(By.ID, "as-of").text
    shoot(browser, tmp_path, "liaison")
    browser.get(task_page(browser, "t02"))
    assert "t02" in browser.find_element(By.ID, "title").text
    attachment = tmp_path / "例会纪要.pdf"
    attachment.write_bytes(b"%PDF-1.4 minutes of the weekly meeting")
    form = browser.find_element(By.ID, "progress-form")
    form.find_element(By.NAME, "note").send_keys("例会制度已起草")
    form.find_element(By.NAME, "files").send_keys(str(attachment))
    press(form.find_element(By.CSS_SELECTOR, "button"))
    assert "进展已报送" in browser.find_element(By.ID, "done").text
    form = browser.find_element(By.ID, "submit-form")
    form.find_element(By.NAME, "note").send_keys("例会制度已印发")
    press(form.find_element(By.CSS_SELECTOR, "button"))
    assignment = browser.current_url.split("?")[0]
    # The office sees the note and the file, and returns it with a reason.
    log_in(browser, base, "office")
    assert "例会制度已印发" in browser.find_element(By.ID, "queue-submissions").text
    shoot(browser, tmp_path, "office")
    browser.get(assignment)
    assert "例会纪要.pdf" in browser.find_element(By.ID, "progress").text
    form = browser.find_element(By.ID, "return-form")
    form.find_element(By.NAME, "reason").send_keys("缺信息互通机制")
    press(form.find_element(By.CSS_SELECTOR, "button"))
    assert browser.find_element(By.ID, "state").get_attribute("data-state") == "returned"
    # The liaison sees the reason, resubmits, and asks for more time on t03.
    log_in(browser, base, "wjw")
    browser.get(assignment)
    assert "缺信息互通机制" in browser.find_element(By.ID, "submissions").text
    form = browser.find_element(By.ID, "submit-form")
    form.find_element(By.NAME, "note").send_keys("已补充信息互通机制")
    press(form.find_element(By.CSS_SELECTOR, "button"))
    browser.get(f"{base}/my")
    later = task_page(browser, "t03")
    browser.get(later)
    form = browser.find_element(By.ID, "extension-form")
    browser.execute_script(
        "arguments[0].value = '2019-12-31'", form.find_element(By.NAME, "new_due")
    )
    form.find_element(By.NAME, "reason").send_keys("等待市政府审定")
    press(form.find_element(By.CSS_SELECTOR, "button"))
    assert "延期申请已提交" in browser.find_element(By.ID, "done").text
    # The office accepts the resubmission and approves the extension.
    log_in(browser, base, "office")
    browser.get(assignment)
    press(browser.find_element(By.CSS_SELECTOR, "#accept-form button"))
    assert browser.find_element(By.ID, "state").get_attribute("data-state") == "accepted"
    browser.get(later)
    press(browser.find_element(By.CSS_SELECTOR, "form[id^=decide] button[value=approve]"))
    assert browser.find_element(By.ID, "due").text == "2019-12-31"
    assert severe(browser) == []
    # Leadership reads the review, live, and drills into a red light.
    log_in(browser, base, "leader")
    browser.get(f"{base}/review/cq-2019-pilot")
    assert browser.find_element(By.ID, "chart-ranking").size["width"] > 300
    shoot(browser, tmp_path, "leadership")
    # A phone-width screen: the liaison's list still reads without sideways scrolling.
    log_in(browser, base, "wjw")
    browser.set_window_size(390, 844)
    try:
        browser.get(f"{base}/my")
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1"
        )
        shoot(browser, tmp_path, "liaison-phone")
    finally:
        browser.set_window_size(1366, 768)


def test_the_plan_view_draws_its_graph_legibly_at_1366_and_scrolls_it_on_a_phone(
    site, browser, tmp_path
):
    world, base = site
    log_in(browser, base, "leader")
    browser.get_log("browser")  # read and forget what the pages before left in the log
    browser.get(f"{base}/plans/cq-2019-pilot")
    assert "截至 2019-08-12" in browser.find_element(By.ID, "as-of").text
    graph = browser.find_element(By.ID, "plan-graph")
    assert graph.size["width"] > 1000 and graph.size["height"] > 500
    assert len(graph.find_elements(By.CSS_SELECTOR, "a.node")) == 18
    frame = browser.find_element(By.ID, "graph")
    assert browser.execute_script(  # the whole graph in view, no sideways scrolling
        "return arguments[0].scrollWidth <= arguments[0].clientWidth", frame
    )
    label = graph.find_element(By.CSS_SELECTOR, "a.node[data-task=t06] text")
    assert label.size["width"] > 60 and label.text == "辖区试点方案与推进"
    shoot(browser, tmp_path, "plan-view")
    graph.find_element(By.CSS_SELECTOR, "a.node[data-task=t06]").click()
    assert browser.current_url.endswith("#task-t06")
    assert "辖区试点方案与推进" in browser.find_element(By.ID, "task-t06").text
    assert severe(browser) == []
    browser.set_window_size(390, 844)
    try:
        browser.get(f"{base}/plans/cq-2019-pilot")
        frame = browser.find_element(By.ID, "graph")
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1"
        )
        assert browser.execute_script(
            "return arguments[0].scrollWidth > arguments[0].clientWidth", frame
        )  # the graph keeps its size and scrolls sideways in its frame
        shoot(browser, tmp_path, "plan-view-phone")
    finally:
        browser.set_window_size(1366, 768)


def test_a_supervision_order_is_acknowledged_from_the_link_in_a_real_mail(site, browser):
    world, base = site
    inbox = Inbox()
    with smtp_server(inbox) as server:
        transport = SmtpTransport(host="127.0.0.1", port=server.port, user=None, password=None)
        deliver_pending(sessions(world.url), transport, now=dt.datetime.now(dt.UTC))
    mail = next(m for m in inbox.messages() if "wjw@cq.example.org" in str(m["To"]))
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    ack = re.search(r'<a href="([^"]+)" data-action="ack">', html)
    assert ack, "the 督办单 carries its one-click link"
    browser.delete_all_cookies()
    browser.get(ack.group(1).replace("&amp;", "&"))
    press(browser.find_element(By.ID, "confirm-ack"))
    assert "已签收" in browser.find_element(By.ID, "link-done").text
    browser.get(ack.group(1))  # a second time: used
    assert browser.find_element(By.ID, "link-refused").get_attribute("data-reason") == "used"


def test_the_office_resets_a_password_and_the_liaison_changes_it_back(site, browser):
    _, base = site
    browser.get_log("browser")  # drained: what the pages of earlier tests logged
    log_in(browser, base, "office")
    browser.find_element(By.LINK_TEXT, "联络员账户").click()
    press(browser.find_element(By.CSS_SELECTOR, 'form[action="/users/nanan/reset"] button'))
    temporary = browser.find_element(By.ID, "temporary-password").text
    assert "nanan" in browser.find_element(By.ID, "reset").text
    log_in(browser, base, "nanan", temporary)
    assert browser.current_url.endswith("/my")
    browser.find_element(By.LINK_TEXT, "修改密码").click()
    form = browser.find_element(By.ID, "change-password")
    form.find_element(By.NAME, "current").send_keys(temporary)
    for field in ("new", "again"):  # back to the world's password, for the other tests
        form.find_element(By.NAME, field).send_keys(PASSWORD)
    press(form.find_element(By.CSS_SELECTOR, "button"))
    assert "密码已修改" in browser.find_element(By.ID, "done").text
    log_in(browser, base, "nanan")
    assert browser.current_url.endswith("/my")
    assert severe(browser) == []
