"""The State Council's holiday notices as published read into the bundled calendar data: a
new year's notice can be added the day it appears (`duban calendar add-notice`), and the
reader is held to the eight notices whose dates the engine already counts on."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from calendars.notices import NoticeError, read_notice
from calendars.workdays import DATA_DIR

from .conftest import ROOT

NOTICES = ROOT / "tests" / "data" / "holiday-notices"

# What the amending notices changed after publication; the bundled files follow them.
AMENDED = {
    2019: {  # 国办发明电〔2019〕3号: 劳动节 5月1日至4日, make-up days 4月28日 and 5月5日
        "holidays": {
            ("劳动节", "2019-05-01", "2019-05-01"): ("劳动节", "2019-05-01", "2019-05-04")
        },
        "makeups_added": {("2019-04-28", "劳动节"), ("2019-05-05", "劳动节")},
        "makeups_dropped": set(),
    },
    2020: {  # 国办发明电〔2020〕1号: 春节 extended to 2月2日; 2月1日 not worked
        "holidays": {("春节", "2020-01-24", "2020-01-30"): ("春节", "2020-01-24", "2020-02-02")},
        "makeups_added": set(),
        "makeups_dropped": {("2020-02-01", "春节")},
    },
}


def _bundled(year: int) -> tuple[list[tuple[str, str, str]], set[tuple[str, str]], str]:
    doc = tomllib.loads((DATA_DIR / "cn" / f"{year}.toml").read_text(encoding="utf-8"))
    holidays = [(h["name"], str(h["start"]), str(h["end"])) for h in doc["holidays"]]
    makeups = {(str(m["date"]), m["for"]) for m in doc.get("makeup_workdays", [])}
    return holidays, makeups, doc["notice"]


def _read(notice_text: str) -> tuple[list[tuple[str, str, str]], set[tuple[str, str]], str]:
    doc = tomllib.loads(read_notice(notice_text).toml())
    holidays = [(h["name"], str(h["start"]), str(h["end"])) for h in doc["holidays"]]
    makeups = {(str(m["date"]), m["for"]) for m in doc.get("makeup_workdays", [])}
    return holidays, makeups, doc["notice"]


@pytest.mark.parametrize("year", range(2019, 2027))
def test_each_published_notice_reads_into_the_bundled_data_file(year: int) -> None:
    holidays, makeups, notice = _read((NOTICES / f"{year}.txt").read_text(encoding="utf-8"))
    if year in AMENDED:
        change = AMENDED[year]
        holidays = [change["holidays"].get(h, h) for h in holidays]  # type: ignore[attr-defined]
        makeups = (makeups | change["makeups_added"]) - change["makeups_dropped"]  # type: ignore[operator]
    want_holidays, want_makeups, want_notice = _bundled(year)
    assert holidays == want_holidays
    assert makeups == want_makeups
    if "号" in notice:  # the 2026 text as released by Xinhua carries no document number
        assert notice == want_notice
    else:
        assert want_notice.startswith(notice)


def test_a_weekday_the_notice_states_wrongly_is_refused_with_its_line() -> None:
    text = (
        (NOTICES / "2026.txt")
        .read_text(encoding="utf-8")
        .replace("1月4日（周日）", "1月4日（周一）")
    )
    with pytest.raises(
        NoticeError, match=r"line \d+ \(元旦\): 1月4日\(周一\): 2026-01-04 is a Sunday"
    ):
        read_notice(text)


def test_a_makeup_day_on_a_weekday_is_refused() -> None:
    text = (
        (NOTICES / "2021.txt").read_text(encoding="utf-8").replace("9月18日（星期六）", "9月17日")
    )
    with pytest.raises(
        NoticeError, match=r"\(中秋节\): make-up working day 2021-09-17 is a Friday"
    ):
        read_notice(text)


def test_a_holiday_whose_dates_do_not_make_its_stated_days_is_refused() -> None:
    text = (
        (NOTICES / "2022.txt").read_text(encoding="utf-8").replace("10月1日至7日", "10月1日至6日")
    )
    with pytest.raises(
        NoticeError, match=r"\(国庆节\): says 7 days, but 2022-10-01 to 2022-10-06 is 6"
    ):
        read_notice(text)


def test_text_that_is_not_a_notice_is_refused() -> None:
    with pytest.raises(NoticeError, match="no title"):
        read_notice("关于做好元旦春节期间有关工作的通知")


def test_add_notice_writes_the_year_the_engine_then_counts_on(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from duban.cli import app

    folder = here / "calendar" / "cn"
    folder.mkdir(parents=True)
    for year in range(2019, 2026):
        (folder / f"{year}.toml").write_bytes((DATA_DIR / "cn" / f"{year}.toml").read_bytes())
    monkeypatch.setenv("DUBAN_CALENDAR_DIR", str(here / "calendar"))
    runner = CliRunner()
    before = runner.invoke(app, ["calendar", "2026", "--month", "2", "--json"])
    assert before.exit_code == 6 and "2026" in before.stdout
    declined = runner.invoke(
        app, ["calendar", "add-notice", str(NOTICES / "2026.txt")], input="n\n"
    )
    assert declined.exit_code == 2 and not (folder / "2026.toml").exists()
    assert (
        "2026年2月" in declined.stdout and "15休" in declined.stdout and "14班" in declined.stdout
    )
    added = runner.invoke(app, ["calendar", "add-notice", str(NOTICES / "2026.txt"), "--yes"])
    assert added.exit_code == 0, added.output
    shown = runner.invoke(app, ["calendar", "2026", "--month", "2", "--json"])
    days = {d["date"]: d for d in json.loads(shown.stdout)}
    assert days["2026-02-14"]["makeup"] and days["2026-02-23"]["holiday"] == "春节"
    again = runner.invoke(app, ["calendar", "add-notice", str(NOTICES / "2026.txt"), "--yes"])
    assert again.exit_code == 6 and "exists already" in again.stderr
