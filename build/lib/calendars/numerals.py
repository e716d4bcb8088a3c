"""Chinese numerals as they appear in dates of work plans.

Plans write years digit by digit ("二〇一九", often with "○" or "零" for zero) and months
and days with 十 ("十二月", "三十一日"). Only those two shapes occur in dates, so this is
deliberately not a general number reader: 百, 千 and 万 never reach a deadline.
"""

from __future__ import annotations

import re

_DIGITS = {
    "〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3,
    "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip

NUMERAL_RUN = re.compile("[〇○零一二两三四五六七八九十]+")


def numeral_digits(run: str) -> str | None:
    """Arabic digits for one run of Chinese numerals, or None if the run is not a number.

    None rather than an exception: the caller leaves such a run as it is, so that an
    error message later quotes the plan's own words.
    """
    if any(ch not in _DIGITS and ch != "十" for ch in run):
        return None
    if "十" not in run:
        return "".join(str(_DIGITS[ch]) for ch in run)
    tens, _, units = run.partition("十")
    if len(tens) > 1 or len(units) > 1 or "十" in units or _DIGITS.get(tens) == 0:
        return None
    value = (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0)
    return str(value)


def replace_numerals(text: str) -> str:
    """The text with every readable run of Chinese numerals written in Arabic digits."""
    return NUMERAL_RUN.sub(lambda m: numeral_digits(m.group()) or m.group(), text)
