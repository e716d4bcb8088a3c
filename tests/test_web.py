"""The web app through HTTP: who may open and post what, CSRF, the links in notices, hostile
text, uploads, logins, and the whole return-and-resubmit story on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, func, select

from schemas.db import session_scope
from schemas.tables import (
    Account,
    Assignment,
    AuditEvent,
    Evidence,
    ExtensionRequest,
    LinkRecord,
    Notice,
    OutboxMessage,
    Phase,
    ProgressReport,
    Submission,
    Task,
    Unit,
)
from tasks.plans.importer import import_plan
from tasks.sweep.links import Binding, link_signer
from tasks.work.accounts import add_account
from tasks.work.audit import verify_chain

from .conftest import sweep_once
from .webworld import (
    DAY,
    PASSWORD,
    PLAN,
    World,
    build_world,
    client,
    copy_world,
    csrf_of,
    logged_in,
    token_of,
)

ROLES = ("anonymous", "wjw", "nanan", "office", "leader")
NEXT_DAY = DAY + dt.timedelta(days=1)
HOSTILE = "<script>window.pwned=1</script><img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("world"))


@pytest.fixture
def fresh(world: World, tmp_path: Path) -> World:
    return copy_world(world, tmp_path)


def assignment_of(world: World, task: str, unit: str) -> int:
    with session_scope(world.url) as session:
        found = session.exec(
            select(Assignment.id)
            .join(Task, Assignment.task_id == Task.id)
            .join(Unit, Assignment.unit_id == Unit.id)
            .where(Task.code == task, Unit.code == unit)
        ).one()
        return int(found)


def receipt_of(world: World, task: str, recipient: str) -> str:
    with session_scope(world.url) as session:
        return (
            session.exec(
                select(Notice.receipt_code).where(
                    Notice.task_code == task, Notice.recipient_code == recipient
                )
            ).one()
            or ""
        )


def count(world: World, table) -> int:  # type: ignore[no-untyped-def]
    with session_scope(world.url) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def who(username: str) -> str:
    return "anonymous" if username == "anonymous" else username


# -- the permission table: every route, every role


def routes(world: World) -> list[tuple[str, str, dict[str, str], set[str]]]:
    """(method, path, form, the roles allowed) for every route of the app."""
    own = assignment_of(world, "t02", "cqwjw")  # 市卫生健康委's, under supervision
    receipt = receipt_of(world, "t02", "cqwjw")
    everyone = {"wjw", "nanan", "office", "leader"}
    return [
        ("GET", "/my", {}, {"wjw", "nanan"}),
        ("GET", "/office", {}, {"office"}),
        ("GET", "/office/export.xlsx", {}, {"office"}),
        ("GET", "/users", {}, {"office"}),
        ("GET", "/review", {}, {"office", "leader"}),
        ("GET", f"/review/{PLAN}", {}, {"office", "leader"}),
        ("GET", f"/plans/{PLAN}", {}, {"office", "leader"}),
        ("GET", f"/a/{own}", {}, {"wjw", "office", "leader"}),
        ("GET", "/evidence/999999", {}, everyone),  # allowed roles get 404: no such file
        ("POST", f"/a/{own}/progress", {"note": ""}, {"wjw"}),
        ("POST", f"/a/{own}/submit", {"note": ""}, {"wjw"}),
        ("POST", f"/a/{own}/extension", {"new_due": "2019-08-01", "reason": "x"}, {"wjw"}),
        ("POST", f"/a/{own}/accept", {}, {"office"}),
        ("POST", f"/a/{own}/return", {"reason": ""}, {"office"}),
        ("POST", f"/a/{own}/waive", {"reason": ""}, {"office"}),
        ("POST", f"/a/{own}/reassign", {"reason": "", "to_unit": "na"}, {"office"}),
        ("POST", "/x/999999/decide", {"decision": "approve"}, {"office"}),
        ("POST", "/office/accept", {}, {"office"}),
        ("POST", "/users", {"username": ""}, {"office"}),
        ("POST", "/users/ghost/disable", {}, {"office"}),
        ("POST", "/users/ghost/reset", {}, {"office"}),
        ("GET", "/password", {}, everyone),
        ("POST", "/password", {"current": "", "new": "", "again": ""}, everyone),  # 400
        ("POST", f"/n/{receipt}/ack", {}, {"wjw", "office"}),
        ("POST", f"/n/{receipt}/revoke", {}, {"office"}),
    ]


def test_every_route_as_every_role_allows_and_denies_as_the_table_says(fresh: World):
    world = fresh
    clients = {role: logged_in(world, None if role == "anonymous" else role) for role in ROLES}
    tokens = {role: token_of(c) for role, c in clients.items()}
    wrong = []
    for method, path, form, allowed in routes(world):
        for role, browser in clients.items():
            if method == "GET":
                answer = browser.get(path)
            else:
                answer = browser.post(path, data={**form, "csrf": tokens[role]})
            if role == "anonymous":
                ok = answer.status_code == 303 and answer.headers["location"].startswith("/login")
            elif role in allowed:
                ok = answer.status_code in (200, 303, 400, 404, 409)  # 409: not in that state
            else:
                ok = answer.status_code in (403, 404) and "/login" not in answer.headers.get(
                    "location", ""
                )
                ok = ok and (answer.status_code == 403 or path.startswith("/evidence"))
            if not ok:
                wrong.append(f"{method} {path} as {role}: {answer.status_code}")
    assert wrong == []


def test_a_liaison_sees_only_their_own_units_work(world: World):
    page = logged_in(world, "nanan").get("/my").text
    assert "南岸区" not in page or "t06" in page
    for link in re.findall(r'href="/a/(\d+)"', page):
        with session_scope(world.url) as session:
            assignment = session.get(Assignment, int(link))
            assert assignment is not None
            assert session.get(Unit, assignment.unit_id).code == "na"  # type: ignore[union-attr]
    assert "截至 2019-08-12" in page


# -- CSRF


def test_a_post_without_the_sessions_csrf_token_is_refused_and_changes_nothing(fresh: World):
    own = assignment_of(fresh, "t02", "cqwjw")
    browser = logged_in(fresh, "wjw")
    other = token_of(logged_in(fresh, "nanan"))
    for data in ({"note": "done"}, {"note": "done", "csrf": other}, {"note": "x", "csrf": ""}):
        answer = browser.post(f"/a/{own}/progress", data=data)
        assert answer.status_code == 403
        assert "CSRF" in answer.text
    assert count(fresh, ProgressReport) == 0


def test_logging_in_needs_the_login_pages_token_too(world: World):
    browser = client(world)
    browser.get("/login")
    answer = browser.post("/login", data={"username": "wjw", "password": PASSWORD})
    assert answer.status_code == 403


# -- the links in notices


def mailed_links(world: World, recipient: str) -> dict[str, str]:
    with session_scope(world.url) as session:
        message = session.exec(
            select(OutboxMessage).where(OutboxMessage.recipient_code == recipient)
        ).first()
        assert message is not None
    found = dict(re.findall(r'<a href="([^"]+)" data-action="(\w+)"', message.body.html))
    return {action: url for url, action in found.items()}


def test_the_notice_carries_links_and_the_receipt_code_for_paper(world: World):
    with session_scope(world.url) as session:
        message = session.exec(
            select(OutboxMessage).where(OutboxMessage.recipient_code == "cqwjw")
        ).one()
    receipt = receipt_of(world, "t02", "cqwjw")
    assert receipt in message.body.text and receipt in message.body.html
    assert "一键签收 http://duban.test/l/" in message.body.text
    links = mailed_links(world, "cqwjw")
    assert set(links) >= {"ack", "report"}
    assert all(url.startswith("http://duban.test/") for url in links.values())


def path_of(url: str) -> str:
    return url.removeprefix("http://duban.test")


def acknowledged(world: World, receipt: str) -> dt.datetime | None:
    with session_scope(world.url) as session:
        [when] = set(  # a letter's items share its receipt and are acknowledged together
            session.exec(select(Notice.acknowledged_at).where(Notice.receipt_code == receipt))
        )
        return when


def test_acknowledging_from_the_link_takes_one_click_and_a_confirmation(fresh: World):
    receipt = receipt_of(fresh, "t02", "cqwjw")
    ack = path_of(mailed_links(fresh, "cqwjw")["ack"])
    browser = client(fresh)
    confirm = browser.get(ack)
    assert confirm.status_code == 200 and receipt in confirm.text
    assert acknowledged(fresh, receipt) is None  # opening a link changes nothing
    done = browser.post(ack, data={"csrf": csrf_of(confirm.text)})
    assert done.status_code == 200 and "已签收" in done.text
    assert acknowledged(fresh, receipt) is not None
    with session_scope(fresh.url) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "acknowledge")).one()
        assert (event.channel, event.person, event.unit_code) == ("link", "link:cqwjw", "cqwjw")
        assert verify_chain(session)[1] is None
    again = browser.post(ack, data={"csrf": csrf_of(confirm.text)})
    assert again.status_code == 410 and 'data-reason="used"' in again.text
    assert browser.get(ack).status_code == 410


def test_a_tampered_expired_foreign_or_revoked_link_gets_a_clear_page_and_changes_nothing(
    fresh: World,
):
    from duban.web.app import create_app

    receipt = receipt_of(fresh, "t02", "cqwjw")
    ack = path_of(mailed_links(fresh, "cqwjw")["ack"])
    signer = link_signer(fresh.settings)
    cases = {
        "tampered": (client(fresh), ack[:-3] + ("aaa" if not ack.endswith("aaa") else "bbb")),
        "expired": (
            TestClient(
                create_app(fresh.settings, fixed_day=DAY + dt.timedelta(days=31)),
                follow_redirects=False,
            ),
            ack,
        ),
        "foreign": (client(fresh), path_of(signer.url(Binding("ack", receipt, "na"), DAY))),
    }
    for reason, (browser, path) in cases.items():
        page = browser.get(path)
        assert f'data-reason="{reason}"' in page.text, reason
        posted = browser.post(path, data={"csrf": token_of(browser)})
        assert f'data-reason="{reason}"' in posted.text, reason
    nanan = logged_in(fresh, "nanan")  # the right link, opened by another unit's liaison
    assert 'data-reason="foreign"' in nanan.get(ack).text
    assert acknowledged(fresh, receipt) is None
    office = logged_in(fresh, "office")
    own = assignment_of(fresh, "t02", "cqwjw")
    office.post(f"/n/{receipt}/revoke", data={"csrf": token_of(office, f"/a/{own}")})
    assert 'data-reason="revoked"' in client(fresh).get(ack).text
    assert acknowledged(fresh, receipt) is None
    assert count(fresh, LinkRecord) == 1  # the revocation only


def test_the_report_link_opens_the_form_after_login(fresh: World):
    report = path_of(mailed_links(fresh, "cqwjw")["report"])
    anonymous = client(fresh).get(report)
    assert anonymous.status_code == 200 and "/login?next=/a/" in anonymous.text
    opened = logged_in(fresh, "wjw").get(report)
    assert opened.status_code == 303 and opened.headers["location"].startswith("/a/")


# -- hostile text and files


def test_hostile_text_is_escaped_on_every_page_and_in_every_mail(fresh: World):
    own = assignment_of(fresh, "t02", "cqwjw")
    wjw, office = logged_in(fresh, "wjw"), logged_in(fresh, "office")
    token = token_of(wjw, f"/a/{own}")
    assert wjw.post(f"/a/{own}/progress", data={"csrf": token, "note": HOSTILE}).status_code == 303
    wjw.post(f"/a/{own}/submit", data={"csrf": token, "note": HOSTILE})
    office_token = token_of(office, f"/a/{own}")
    office.post(f"/a/{own}/return", data={"csrf": office_token, "reason": HOSTILE})
    wjw.post(
        f"/a/{own}/extension", data={"csrf": token, "new_due": "2019-12-31", "reason": HOSTILE}
    )
    office.post(
        "/users",
        data={
            "csrf": office_token,
            "username": "evil",
            "name": HOSTILE,
            "unit": HOSTILE,
            "password": PASSWORD,
        },
    )
    pages = [
        wjw.get(f"/a/{own}").text,
        wjw.get("/my").text,
        office.get(f"/a/{own}").text,
        office.get("/office").text,
        office.get("/users").text,
        office.post("/users/evil/reset", data={"csrf": office_token}).text,
    ]
    sweep_once(
        fresh.url, as_of=NEXT_DAY, plan=PLAN
    )  # the return to the unit, the request to the office
    with session_scope(fresh.url) as session:
        mails = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "followup")).all()
    assert {m.recipient_code for m in mails} == {"cqwjw", "cqwjw-zhjdc"}
    for html in pages + [m.body.html for m in mails]:
        assert "<script>window.pwned" not in html and "<img src=x" not in html
    assert sum("&lt;script&gt;window.pwned=1&lt;/script&gt;" in p for p in pages) >= 5
    assert all(HOSTILE in m.body.text for m in mails)  # the plain part says it as typed


def test_a_file_of_the_wrong_type_or_too_large_is_refused_and_changes_nothing(fresh: World):
    own = assignment_of(fresh, "t02", "cqwjw")
    wjw = logged_in(fresh, "wjw")
    token = token_of(wjw, f"/a/{own}")
    for name, content, words in (
        ("page.html", b"<script>alert(1)</script>", "不接受此类文件"),
        ("run.exe", b"MZ", "不接受此类文件"),
        ("big.pdf", b"%PDF" + b"0" * (1024 * 1024 + 1), "文件过大"),
    ):
        answer = wjw.post(
            f"/a/{own}/submit",
            data={"csrf": token, "note": "done"},
            files=[("files", (name, content, "application/octet-stream"))],
        )
        assert answer.status_code == 400 and words in answer.text, name
    assert count(fresh, Submission) == 0 and count(fresh, Evidence) == 0
    assert not (fresh.settings.evidence_dir).exists()


# -- logins


def test_repeated_wrong_passwords_lock_the_account_even_against_the_right_one(fresh: World):
    browser = client(fresh)
    for _ in range(5):
        page = browser.get("/login")
        failed = browser.post(
            "/login", data={"csrf": csrf_of(page.text), "username": "wjw", "password": "nope"}
        )
        assert failed.status_code == 401
    page = browser.get("/login")
    right = browser.post(
        "/login", data={"csrf": csrf_of(page.text), "username": "wjw", "password": PASSWORD}
    )
    assert right.status_code == 401 and "错误" in right.text


def test_disabling_an_account_ends_its_open_session(fresh: World):
    wjw, office = logged_in(fresh, "wjw"), logged_in(fresh, "office")
    assert wjw.get("/my").status_code == 200
    office.post("/users/wjw/disable", data={"csrf": token_of(office, "/users")})
    assert wjw.get("/my").status_code == 303


def test_the_session_cookie_is_secure_only_when_told_a_proxy_is_in_front(world: World):
    from fastapi.testclient import TestClient

    from duban.web.app import create_app

    for behind_proxy in (False, True):
        settings = world.settings.model_copy(update={"behind_proxy": behind_proxy})
        browser = TestClient(create_app(settings, fixed_day=DAY), follow_redirects=False)
        cookie = browser.get("/login").headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert ("Secure" in cookie) == behind_proxy


def test_a_forged_session_cookie_is_a_stranger(world: World):
    browser = client(world)
    browser.cookies.set("duban_session", "eyJhIjoxfQ.forged.sig")
    assert browser.get("/my").status_code == 303


# -- passwords: the office resets a liaison's, everyone changes their own


def log_in(world: World, username: str, password: str) -> TestClient | None:
    """A client logged in with this password, or None when the login is refused."""
    browser = client(world)
    page = browser.get("/login")
    answer = browser.post(
        "/login", data={"csrf": csrf_of(page.text), "username": username, "password": password}
    )
    return browser if answer.status_code == 303 else None


def account_row(world: World, username: str) -> Account:
    with session_scope(world.url) as session:
        return session.exec(select(Account).where(Account.username == username)).one()


def password_events(world: World) -> list[AuditEvent]:
    with session_scope(world.url) as session:
        return list(
            session.exec(
                select(AuditEvent).where(
                    col(AuditEvent.action).in_(["reset_password", "change_password"])
                )
            )
        )


def test_the_office_resets_a_liaisons_password_shown_once_and_audited_without_it(
    fresh: World, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    wjw, office = logged_in(fresh, "wjw"), logged_in(fresh, "office")
    listed = office.get("/users").text
    assert 'action="/users/wjw/reset"' in listed
    assert 'action="/users/leader/reset"' not in listed  # managed at the server

    answer = office.post("/users/wjw/reset", data={"csrf": csrf_of(listed)})
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    shown = re.search(r'id="temporary-password">([^<]+)</code>', answer.text)
    assert shown and "wjw" in answer.text
    temporary = shown.group(1)
    assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", temporary)

    assert wjw.get("/my").status_code == 303  # the liaison's open session has ended
    assert log_in(fresh, "wjw", PASSWORD) is None
    liaison = log_in(fresh, "wjw", temporary)
    assert liaison is not None and liaison.get("/my").status_code == 200
    assert temporary not in office.get("/users").text  # shown once: not on the page again

    (event,) = password_events(fresh)
    assert (event.action, event.entity, event.unit_code) == ("reset_password", "account", "cqwjw")
    assert (event.person, event.channel, event.actor) == ("office", "web", "office 姓名")
    assert event.after == {"account": "wjw"} and event.before is None
    assert temporary not in caplog.text  # never logged
    with session_scope(fresh.url) as session:
        assert verify_chain(session)[1] is None


def test_only_the_office_resets_and_only_a_liaisons_password(fresh: World):
    before = {name: account_row(fresh, name) for name in ("wjw", "leader")}
    nanan, office = logged_in(fresh, "nanan"), logged_in(fresh, "office")
    assert nanan.post("/users/wjw/reset", data={"csrf": token_of(nanan)}).status_code == 403
    leader = office.post("/users/leader/reset", data={"csrf": token_of(office, "/users")})
    assert leader.status_code == 403 and "temporary-password" not in leader.text
    for name, was in before.items():
        now = account_row(fresh, name)
        assert (now.password_hash, now.session_version) == (was.password_hash, was.session_version)
    assert password_events(fresh) == []
    assert log_in(fresh, "wjw", PASSWORD) is not None


def test_an_office_limited_to_a_plan_resets_only_that_plans_liaisons(fresh: World):
    with session_scope(fresh.url) as session:
        add_account(
            session,
            username="planoffice",
            name="某方案办公室",
            role="office",
            password=PASSWORD,
            plan_code="another-plan",
            at=dt.datetime(2019, 8, 12, tzinfo=dt.UTC),
        )
    office = logged_in(fresh, "planoffice")
    refused = office.post("/users/wjw/reset", data={"csrf": token_of(office, "/users")})
    assert refused.status_code == 403 and password_events(fresh) == []


def test_changing_ones_own_password_needs_the_current_one(fresh: World):
    wjw, elsewhere = logged_in(fresh, "wjw"), logged_in(fresh, "wjw")
    form = wjw.get("/password")
    assert form.status_code == 200 and 'name="current"' in form.text
    token = csrf_of(form.text)
    was = account_row(fresh, "wjw")
    new = "a-new-long-password"
    for current, typed, again, says in (
        ("not-my-password", new, new, "当前密码不正确"),
        (PASSWORD, new, "a-different-password", "不一致"),
        (PASSWORD, "short", "short", "至少需要 8 个字符"),
    ):
        refused = wjw.post(
            "/password", data={"csrf": token, "current": current, "new": typed, "again": again}
        )
        assert refused.status_code == 400 and says in refused.text
        now = account_row(fresh, "wjw")
        assert (now.password_hash, now.session_version) == (was.password_hash, was.session_version)
    assert password_events(fresh) == []
    assert elsewhere.get("/my").status_code == 200

    changed = wjw.post(
        "/password", data={"csrf": token, "current": PASSWORD, "new": new, "again": new}
    )
    assert changed.status_code == 303 and changed.headers["location"] == "/password?done=password"
    assert wjw.get("/my").status_code == 200  # this session goes on
    assert elsewhere.get("/my").status_code == 303  # the others end
    assert log_in(fresh, "wjw", PASSWORD) is None and log_in(fresh, "wjw", new) is not None
    (event,) = password_events(fresh)
    assert (event.action, event.person, event.channel) == ("change_password", "wjw", "web")
    assert new not in str(event.after) and PASSWORD not in str(event.after)


def test_wrong_current_passwords_count_towards_the_lockout(fresh: World):
    wjw = logged_in(fresh, "wjw")
    token = token_of(wjw, "/password")
    for _ in range(5):
        wjw.post(
            "/password", data={"csrf": token, "current": "nope", "new": "x" * 9, "again": "x" * 9}
        )
    assert log_in(fresh, "wjw", PASSWORD) is None  # locked, even against the right one


# -- the story, on both databases


def test_report_submit_return_resubmit_accept_and_an_extension(database_url: str, tmp_path: Path):
    world = build_world(tmp_path, database_url)
    own = assignment_of(world, "t02", "cqwjw")
    later = assignment_of(world, "t03", "cqwjw")
    wjw, office = logged_in(world, "wjw"), logged_in(world, "office")
    token, office_token = token_of(wjw, f"/a/{own}"), token_of(office, f"/a/{own}")
    content = "会议纪要".encode() * 100
    wjw.post(
        f"/a/{own}/progress",
        data={"csrf": token, "note": "已起草例会制度"},
        files=[("files", ("纪要.pdf", content, "application/pdf"))],
    )
    assert (
        wjw.post(f"/a/{own}/submit", data={"csrf": token, "note": "例会制度已印发"}).status_code
        == 303
    )
    desk = office.get("/office").text
    assert "例会制度已印发" in desk
    detail = office.get(f"/a/{own}").text
    evidence = re.search(r'href="/evidence/(\d+)"', detail)
    assert evidence and "纪要.pdf" in detail
    download = office.get(f"/evidence/{evidence.group(1)}")
    assert download.content == content
    assert "attachment" in download.headers["content-disposition"]
    office.post(f"/a/{own}/return", data={"csrf": office_token, "reason": "缺信息互通机制"})
    assert "缺信息互通机制" in wjw.get(f"/a/{own}").text
    wjw.post(f"/a/{own}/submit", data={"csrf": token, "note": "已补充信息互通机制"})
    assert office.post(f"/a/{own}/accept", data={"csrf": office_token}).status_code == 303
    wjw.post(
        f"/a/{later}/extension",
        data={"csrf": token, "new_due": "2019-12-31", "reason": "等待市政府审定"},
    )
    assert "等待市政府审定" in office.get("/office").text
    with session_scope(world.url) as session:
        request_id = session.exec(select(ExtensionRequest.id)).one()
    office.post(
        f"/x/{request_id}/decide",
        data={"csrf": office_token, "decision": "approve", "reason": "同意"},
    )
    assert "2019-12-31" in wjw.get(f"/a/{later}").text
    with session_scope(world.url) as session:
        assert session.get(Assignment, own).state == "accepted"  # type: ignore[union-attr]
        events = session.exec(select(AuditEvent).where(AuditEvent.channel == "web")).all()
        assert {e.person for e in events} == {"wjw", "office"}
        assert verify_chain(session)[1] is None
    sweep_once(world.url, as_of=NEXT_DAY, plan=PLAN)  # the next morning's letter tells the unit
    with session_scope(world.url) as session:
        [mail] = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "followup")).all()
    assert mail.to_addrs == ["wjw@cq.example.org"]  # and nothing waits for the office
    assert "：1项退回、1项验收办结、1项同意延期（2019年8月13日）" in mail.subject
    assert "理由：缺信息互通机制" in mail.body.text


def test_bulk_accept_accepts_all_selected_or_none(fresh: World):
    wjw, office = logged_in(fresh, "wjw"), logged_in(fresh, "office")
    first, second = assignment_of(fresh, "t02", "cqwjw"), assignment_of(fresh, "t03", "cqwjw")
    token = token_of(wjw, "/my")
    wjw.post(f"/a/{first}/submit", data={"csrf": token, "note": "好了"})
    office_token = token_of(office, "/office")
    refused = office.post(
        "/office/accept", data={"csrf": office_token, "ids": [str(first), str(second)]}
    )
    assert refused.status_code == 409  # t03 was never submitted (a Conflict): none accepted
    with session_scope(fresh.url) as session:
        assert session.get(Assignment, first).state == "submitted"  # type: ignore[union-attr]
    wjw.post(f"/a/{second}/submit", data={"csrf": token, "note": "也好了"})
    office.post("/office/accept", data={"csrf": office_token, "ids": [str(first), str(second)]})
    with session_scope(fresh.url) as session:
        assert {session.get(Assignment, i).state for i in (first, second)} == {"accepted"}  # type: ignore[union-attr]


def test_the_office_can_view_a_past_day_and_export_the_view(world: World):
    office = logged_in(world, "office")
    page = office.get("/office?as_of=2019-07-15").text
    assert "截至 2019-07-15" in page
    export = office.get(f"/office/export.xlsx?plan={PLAN}&unit=cqwjw")
    assert export.content[:2] == b"PK"
    review = office.get(f"/review/{PLAN}?as_of=2019-07-15")
    assert review.status_code == 200 and "2019" in review.text
    english = client(world)
    english.cookies.set("lang", "en")
    assert "Log in" in english.get("/login").text


# -- the plan view


def section(html: str, start: str, end: str) -> str:
    """The page from the first `start` to the next `end` after it."""
    begin = html.index(start)
    return html[begin : html.index(end, begin)]


def test_the_plan_view_shows_phases_graph_units_and_tasks_as_of_the_day(world: World):
    office = logged_in(world, "office")
    page = office.get(f"/plans/{PLAN}")
    assert page.status_code == 200
    html = page.text
    assert "重庆市医疗卫生行业多元化综合监管试点工作方案" in html and "渝卫发〔2019〕32号" in html
    assert "截至 2019-08-12" in html and "2019-07-01 — 2020-09-30" in html
    phases = section(html, 'id="phases"', "</ol>")
    names = ["启动阶段", "实施阶段", "中期总结评估阶段", "全面总结评估阶段"]
    assert [phases.index(n) for n in names] == sorted(phases.index(n) for n in names)
    assert "时限已过" in phases and "进行中" in phases and "已办结 0/7（0.0%）" in phases
    graph = section(html, '<svg id="plan-graph"', "</svg>")
    assert graph.count('class="node') == 18 and graph.count('class="node critical"') == 4
    assert graph.count('class="gate"') == 4 and "启动阶段 · 2019年7月" in graph
    assert "<title>理顺内部监管职责\n理顺内部管理和监督职责" in graph  # the whole text, on hover
    units = section(html, 'id="units"', "</table>")
    assert f'href="/office?plan={PLAN}&amp;unit=cqwjw&amp;as_of=2019-08-12"' in units
    row = section(html, 'id="task-t02"', "</tr>")
    assert "理顺内部监管职责" in row and "市卫生健康委" in row and "2019-07-31" in row
    assert 'data-light="red"' in row and "未开始" in row and "已逾期" in row
    assert f'href="/a/{assignment_of(world, "t02", "cqwjw")}"' in row
    pilots = section(html, 'id="task-t08"', "</tr>")
    assert "试点</span> 南岸区、永川区" in pilots
    assert f'href="/plans/{PLAN}?as_of=2019-08-12"' in office.get("/office").text
    assert f'href="/plans/{PLAN}"' in office.get("/review").text
    leader = logged_in(world, "leader").get(f"/plans/{PLAN}").text
    assert 'id="plan-graph"' in leader and "/office?" not in leader  # leadership has no desk
    assert office.get("/plans/no-such-plan").status_code == 404
    assert office.get(f"/plans/{PLAN}?as_of=12/08/2019").status_code == 400


def test_the_plan_view_shows_an_approved_extension_and_any_past_day_as_it_stood(fresh: World):
    later = assignment_of(fresh, "t03", "cqwjw")
    wjw, office = logged_in(fresh, "wjw"), logged_in(fresh, "office")
    wjw.post(
        f"/a/{later}/extension",
        data={"csrf": token_of(wjw, "/my"), "new_due": "2019-12-31", "reason": "等待审定"},
    )
    with session_scope(fresh.url) as session:
        request_id = session.exec(select(ExtensionRequest.id)).one()
    office.post(
        f"/x/{request_id}/decide",
        data={"csrf": token_of(office, "/office"), "decision": "approve", "reason": "同意"},
    )
    today = section(office.get(f"/plans/{PLAN}").text, 'id="task-t03"', "</tr>")
    assert "2019-09-30" in today and "<b>2019-12-31</b>" in today
    before = office.get(f"/plans/{PLAN}?as_of=2019-08-11").text
    assert "截至 2019-08-11" in before
    assert "2019-12-31" not in section(before, 'id="task-t03"', "</tr>")
    english = logged_in(fresh, "leader")
    english.cookies.set("lang", "en")
    page = english.get(f"/plans/{PLAN}").text
    assert "Plan view" in page and "Dependency graph" in page and "under way" in page


def test_hostile_task_unit_and_phase_text_is_escaped_in_the_plan_view_and_its_graph(fresh: World):
    with session_scope(fresh.url) as session:
        for row in session.exec(select(Task).where(col(Task.code).in_(["t01", "t06"]))):
            row.title, row.text = HOSTILE, HOSTILE
        for unit in session.exec(select(Unit).where(Unit.code == "cqwjw")):
            unit.name = HOSTILE
        for phase in session.exec(select(Phase).where(Phase.code == "launch")):
            phase.name, phase.window_text = HOSTILE, HOSTILE
    html = logged_in(fresh, "office").get(f"/plans/{PLAN}").text
    assert "<script>window.pwned" not in html and "<img src=x" not in html
    escaped = "&lt;script&gt;window.pwned=1&lt;/script&gt;"
    graph = section(html, '<svg id="plan-graph"', "</svg>")
    assert escaped in graph  # in the boxes' <title>, whole
    assert '#1f2933">&lt;script&gt;window' in graph  # and cut short on the box itself
    assert html.count(escaped) >= 6


def test_the_plan_view_shows_a_goal_nobody_holds_as_a_goal(fresh: World):
    goals = Path(__file__).parent / "data" / "plans" / "goals-2020.yaml"
    with session_scope(fresh.url) as session:
        import_plan(session, goals, at=dt.datetime(2020, 5, 1, tzinfo=dt.UTC))
    html = logged_in(fresh, "office").get("/plans/goals-2020?as_of=2022-03-01").text
    for code in ("g2021", "g2030"):  # one past its year, one ahead: neither green nor red
        row = section(html, f'id="task-{code}"', "</tr>")
        assert 'data-light="goal"' in row and "目标（不计入完成情况）" in row
        assert "light-green" not in row and "light-red" not in row
    assert 'data-light="red"' in section(html, 'id="task-m1"', "</tr>")  # work keeps its light


def test_the_plan_view_marks_a_task_whose_plan_names_no_lead(fresh: World):
    example = Path(__file__).parent.parent / "docs" / "example-plan.yaml"
    plan = fresh.folder / "no-lead.yaml"
    plan.write_text(
        example.read_text(encoding="utf-8").replace(
            "区卫生健康委牵头，区财政局、区市场监管局参与", "区财政局、区市场监管局按职责分工负责"
        ),
        encoding="utf-8",
    )
    with session_scope(fresh.url) as session:
        import_plan(session, plan, at=dt.datetime(2019, 7, 1, tzinfo=dt.UTC))
    html = logged_in(fresh, "office").get("/plans/example-2019?as_of=2019-10-08").text
    assert "牵头单位未明确" in section(html, 'id="task-t2"', "</tr>")
    assert "牵头单位未明确" not in section(html, 'id="task-t1"', "</tr>")
