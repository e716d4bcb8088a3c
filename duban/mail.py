"""Which transport delivers mail: SMTP when configured, else .eml files in the outbox folder."""

from __future__ import annotations

from duban.settings import Settings
from tasks.sweep.delivery import EmlOutbox, SmtpTransport, Transport


def transport_from(settings: Settings) -> Transport:
    if settings.smtp_host is None:
        return EmlOutbox(settings.outbox_dir)
    return SmtpTransport(
        host=settings.smtp_host,
        port=settings.smtp_port,
        user=settings.smtp_user,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        ssl=settings.smtp_ssl,
        sender=settings.mail_from,
    )


def where_mail_goes(settings: Settings) -> str:
    if settings.smtp_host is None:
        return f".eml files in {settings.outbox_dir}"
    return f"SMTP {settings.smtp_host}:{settings.smtp_port}"
