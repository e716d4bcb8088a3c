"""The markup of every mail duban sends: the `MailComposer` the shell hands to the sweep and
the review mails (`tasks.sweep.notices.MailComposer`).

`COMPOSER` renders letters as they are; `composer_for(settings)` is the one the sweep uses, which
first puts each item's one-click links into the letter (tasks.sweep.links), signed with this
installation's key so that `duban web` accepts them.
"""

from __future__ import annotations

from render.letters import render_letter
from render.review import render_html, render_markdown
from schemas.settings import Settings
from tasks.review.model import Review
from tasks.sweep.links import LinkSigner, add_links, link_signer
from tasks.sweep.notices import Letter, MailBody, RenderedMail


class Composer:
    """Letters through `render.letters` (with their links, given a signer), reviews through
    `render.review`."""

    def __init__(self, signer: LinkSigner | None = None) -> None:
        self.signer = signer

    def letter(self, letter: Letter) -> RenderedMail:
        if self.signer is not None:
            letter = add_links(letter, self.signer)
        return render_letter(letter)

    def review(self, review: Review) -> MailBody:
        return MailBody(text=render_markdown(review), html=render_html(review))


COMPOSER = Composer()


def composer_for(settings: Settings) -> Composer:
    """The composer of this installation's sweep: every notice carries its one-click links."""
    return Composer(link_signer(settings))
