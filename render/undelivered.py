"""通知未能送达: the letter to the office about a letter that did not reach its recipient.

The wording lives in `render.letter_words.TEMPLATES` (keys "undelivered.*"), the layout in
templates/letters/undelivered.txt and undelivered.html, as for every other letter.
"""

from __future__ import annotations

from render.environment import render
from render.letter_words import TEMPLATES
from tasks.sweep.notices import RenderedMail, Undelivered, one_line


def render_undelivered(notice: Undelivered) -> RenderedMail:
    w = TEMPLATES[notice.language]
    subject = w["undelivered.subject"].format(recipient=one_line(notice.recipient_name))
    rows = [
        (w["undelivered.recipient"], one_line(notice.recipient_name)),
        (w["undelivered.letter"], one_line(notice.subject)),
        (w["undelivered.addresses"], ", ".join(notice.addresses)),
        (w["undelivered.why"], one_line(notice.why)),
        (w["undelivered.sent_on"], notice.sent_on.isoformat()),
    ]
    context = {
        "w": w,
        "subject": subject,
        "salutation": w["salutation"].format(recipient=one_line(notice.office_name)),
        "opening": w["undelivered.opening"],
        "rows": rows,
        "closing": w["undelivered.closing"],
    }
    return RenderedMail(
        subject=subject,
        text=render("letters/undelivered.txt", **context),
        html=render("letters/undelivered.html", **context),
    )
