"""The markup of every mail duban sends: the `MailComposer` the shell hands to the sweep and
the review mails (`tasks.sweep.notices.MailComposer`)."""

from __future__ import annotations

from render.letters import render_letter
from render.review import render_html, render_markdown
from tasks.review.model import Review
from tasks.sweep.notices import Letter, MailBody, RenderedMail


class Composer:
    """Letters through `render.letters`, reviews through `render.review`."""

    def letter(self, letter: Letter) -> RenderedMail:
        return render_letter(letter)

    def review(self, review: Review) -> MailBody:
        return MailBody(text=render_markdown(review), html=render_html(review))


COMPOSER = Composer()
