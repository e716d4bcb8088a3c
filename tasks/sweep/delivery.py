"""Delivering mail: an outbox folder of .eml files (the embedded default), or SMTP via yagmail.

Both transports send the same message text, built by `build_message` with yagmail's message
builder, so an .eml in the outbox is exactly what SMTP would carry. `transport_from(settings)`
chooses between them.

    DeliveryError       a send failed; worth retrying later (the outbox backs off and retries)
     └── InvalidMail    the mail itself cannot be sent (no recipient, a malformed address or
                        Message-ID, every recipient refused with 5xx); retrying will not help
                        until the data is corrected

What yagmail (0.16) does, and what is done about it here:

- yagmail turns every string in `contents` into HTML (wrapped in <div>, newlines to <br>,
  optionally run through premailer) and uses the same strings as the text/plain alternative,
  so it cannot carry a plain-text part of our own. `build_message` lets yagmail build the
  message (From with its encoded display name, To, Cc, Subject, Message-ID, Date, the MIME
  structure) without contents, then puts our text and our HTML, untouched, into the
  multipart/alternative, and folds the headers to 78 columns (yagmail does not fold).
- `SMTP.send(..., preview_only=True)` connects and logs in before it previews, so it cannot
  build an .eml without a server; `build_message` calls yagmail's builder directly instead.
- yagmail appends "@gmail.com" to a login name without "@" and, with no password, asks the
  keyring or prompts on the terminal; `SmtpTransport` passes the login as an {address: name}
  pair (no rewriting) and refuses a login without a password up front.
- yagmail's STARTTLS and SSL do not verify the server's certificate by default; here both use
  `ssl.create_default_context()` (the system's trust store, or SSL_CERT_FILE).
- yagmail retries a dropped connection three times (sleeping 3, 6, 9 seconds) and then returns
  False instead of raising; that becomes a DeliveryError here.
- The envelope sender (MAIL FROM) is yagmail's `user`: the SMTP login when there is one, else
  the From address.
"""

from __future__ import annotations

import binascii
import contextlib
import datetime as dt
import email.utils
import hashlib
import logging
import os
import re
import smtplib
import ssl
import tempfile
from dataclasses import dataclass, replace
from email.generator import Generator
from email.message import Message
from email.mime.nonmultipart import MIMENonMultipart
from io import StringIO
from pathlib import Path
from typing import Any, Protocol

import yagmail
from yagmail.headers import resolve_addresses
from yagmail.message import prepare_message

from duban.errors import BadInput, DeliveryFailed
from schemas.settings import Settings
from tasks.sweep.notices import one_line

log = logging.getLogger(__name__)

# A plain ASCII addr-spec: no display name, no spaces, no line breaks, nothing to inject.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = rf"{_ATOM}(?:\.{_ATOM})*"
_DOMAIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
_ADDRESS = re.compile(rf"{_DOT_ATOM}@{_DOMAIN}")
_MESSAGE_ID = re.compile(rf"<{_DOT_ATOM}@{_DOT_ATOM}>")  # RFC 5322 msg-id, dot-atom form
_FILE_NAME = re.compile(r"[^A-Za-z0-9._@+-]")


@dataclass(frozen=True)
class OutgoingMail:
    """One message as the outbox stores it, ready for a transport."""

    sender: str  # address, e.g. office@cq.example.org
    sender_name: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    text: str
    html: str
    message_id: str  # e.g. "<duban.42.3f2a@cq.example.org>", stable across retries
    date: dt.datetime | None = None  # the Date header; None lets yagmail stamp the send time


class DeliveryError(DeliveryFailed):
    """A send failed; worth retrying later. The message says what went wrong."""


class InvalidMail(DeliveryError):
    """The mail cannot be sent as it is: fix the address (or Message-ID) it names."""


Refused = dict[str, tuple[int, str]]
"""The recipients a server refused while it took the mail for the others: address → (SMTP
reply code, its text). 4xx is temporary (try that recipient again), 5xx permanent."""


class Transport(Protocol):
    def send(self, mail: OutgoingMail) -> Refused: ...


def build_message(mail: OutgoingMail) -> str:
    """The RFC 5322 message text for `mail`, built by yagmail; raises InvalidMail."""
    return _prepare(mail)[1]


def _prepare(mail: OutgoingMail) -> tuple[list[str], str]:
    """The envelope recipients (To and Cc, never anything else) and the message text."""
    sender = _address(mail.sender, "sender")
    to = [_address(a, "To") for a in mail.to]
    cc = [_address(a, "Cc") for a in mail.cc]
    if not to:
        raise InvalidMail(f"mail {mail.message_id!r} has no To address")
    if not _MESSAGE_ID.fullmatch(mail.message_id):
        raise InvalidMail(f"malformed Message-ID {mail.message_id!r}: expected <local@domain>")
    name = _display_name(mail.sender_name) or sender
    headers = {"Auto-Submitted": "auto-generated"}
    if mail.date is not None:
        headers["Date"] = email.utils.format_datetime(mail.date)
    addresses = resolve_addresses(sender, name, to, cc or None, None)
    message = prepare_message(
        sender,
        name,
        addresses,
        one_line(mail.subject),
        None,
        None,
        headers,
        "utf-8",
        prettify_html=False,
        message_id=mail.message_id,
        group_messages=False,
    )
    _put_parts(message, mail)
    _fix_boundaries(message, mail.message_id)
    out = StringIO()
    _Generator(out, mangle_from_=False, maxheaderlen=78).flatten(message)
    return list(addresses["recipients"]), out.getvalue()


def _address(value: str, field: str) -> str:
    if not _ADDRESS.fullmatch(value):
        raise InvalidMail(f"malformed {field} address {value!r}: expected a plain name@domain")
    return value


def _display_name(value: str | None) -> str:
    """The name on one line, without the quotes and backslashes yagmail would double-escape."""
    return one_line((value or "").replace('"', " ").replace("\\", " "))


def _put_parts(message: Message, mail: OutgoingMail) -> None:
    """Our own plain text and HTML as the two alternatives, in place of yagmail's."""
    alternative = next(p for p in message.walk() if p.get_content_type() == "multipart/alternative")
    alternative.set_payload([_utf8_part(mail.text, "plain"), _utf8_part(mail.html, "html")])


def _utf8_part(body: str, subtype: str) -> MIMENonMultipart:
    """A text part in UTF-8, base64 in 76-column lines: what MIMEText makes, but encoded whole
    (`base64_lines`) instead of by MIMEText's line-by-line loop, which took a fifth of a 100k
    sweep's time on its letters of several hundred items."""
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(base64_lines(body.encode("utf-8")))
    return part


def base64_lines(data: bytes) -> str:
    """`base64.encodebytes(data)` as text, made in half its time: one C call encodes the whole,
    slices cut its lines, where encodebytes makes a call per 57-byte line."""
    encoded = binascii.b2a_base64(data, newline=False)
    lines = [encoded[i : i + 76] for i in range(0, len(encoded), 76)]
    return b"\n".join([*lines, b""]).decode("ascii")


def _fix_boundaries(message: Message, message_id: str) -> None:
    """MIME boundaries derived from the Message-ID, so the same mail builds the same text."""
    digest = hashlib.sha256(message_id.encode()).hexdigest()[:24]
    multiparts = (p for p in message.walk() if p.is_multipart())
    for n, part in enumerate(multiparts):
        part.set_boundary(f"=_duban_{digest}_{n}")  # "=_" never occurs in base64 bodies


class _Generator(Generator):
    """The standard generator, writing a body that already has its line breaks as they are.

    `Generator._write_lines` splits every body into lines to rejoin them with the same "\n":
    two million calls for the base64 lines of a 100k sweep's letters. A body with no "\r"
    (ours always: base64 and our own headers) comes out the same written whole."""

    _NL: str  # the line separator, set by `flatten`

    def _write_lines(self, lines: str) -> None:
        if self._NL == "\n" and "\r" not in lines:
            self.write(lines)
        else:
            super()._write_lines(lines)  # type: ignore[misc]


class EmlOutbox:
    """Writes each mail to <folder>/<name from the Message-ID>.eml; the embedded default.

    Sending the same Message-ID again overwrites its file, so a retried send leaves one file.
    The file is written whole or not at all (a temporary file renamed into place).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path_for(self, message_id: str) -> Path:
        return self.folder / f"{file_name(message_id)}.eml"

    def send(self, mail: OutgoingMail) -> Refused:
        text = build_message(mail)
        target = self.path_for(mail.message_id)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "w", encoding="ascii", newline="\r\n") as f:
                    f.write(text)
                os.replace(temporary, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as exc:
            raise DeliveryError(f"cannot write {target}: {exc.strerror or exc}") from exc
        return {}


def file_name(message_id: str) -> str:
    """A safe file name for a Message-ID: no path separators, distinct ids stay distinct."""
    bare = message_id.strip().removeprefix("<").removesuffix(">")
    safe = _FILE_NAME.sub("_", bare).lstrip(".")[:120]
    if safe != bare or not safe:
        safe += "-" + hashlib.sha256(message_id.encode()).hexdigest()[:10]
    return safe


class _Yagmail(yagmail.SMTP):  # type: ignore[misc]  # yagmail ships no type hints
    """yagmail's SMTP client, sending the message `build_message` makes.

    `send(contents=mail)` takes an OutgoingMail; everything (recipients, headers, parts)
    comes from it, so what goes over the wire is what the outbox would have written.
    """

    def prepare_send(
        self, to: Any = None, subject: Any = None, contents: Any = None, *args: Any, **kwargs: Any
    ) -> tuple[list[str], str]:
        if not isinstance(contents, OutgoingMail):
            raise TypeError("send(contents=...) takes an OutgoingMail")
        return _prepare(contents)


class SmtpTransport:
    """Sends through an SMTP server with yagmail.

    `user=None` skips the login (a local relay). `sender`, when given (DUBAN_MAIL_FROM),
    replaces each mail's From address: many servers only accept their own account as sender.
    `starttls` upgrades a plain connection; `ssl` connects with TLS from the start (port 465).
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        user: str | None,
        password: str | None,
        starttls: bool = False,
        ssl: bool = False,
        sender: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        if user is not None and password is None:
            raise BadInput(f"SMTP login {user!r} has no password: set DUBAN_SMTP_PASSWORD")
        if starttls and ssl:
            raise BadInput("choose STARTTLS or SSL, not both")
        self.host, self.port, self.user = host, port, user
        self._password = password
        self.starttls, self.ssl, self.sender, self.timeout = starttls, ssl, sender, timeout

    def __repr__(self) -> str:  # never shows the password
        return (
            f"SmtpTransport(host={self.host!r}, port={self.port}, user={self.user!r}, "
            f"starttls={self.starttls}, ssl={self.ssl}, sender={self.sender!r})"
        )

    def send(self, mail: OutgoingMail) -> Refused:
        """Send `mail`; the recipients refused while the others got it (smtplib's partial
        refusal, which yagmail passes on as its return value)."""
        if self.sender is not None:
            mail = replace(mail, sender=self.sender)
        _prepare(mail)  # a malformed mail fails here, before any connection
        client = self._client(mail.sender)
        try:
            result = client.send(contents=mail)
        except smtplib.SMTPRecipientsRefused as exc:
            permanent = all(code >= 500 for code, _ in exc.recipients.values())
            raise (InvalidMail if permanent else DeliveryError)(self._say(exc)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(self._say(exc)) from exc
        finally:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                client.close()
        if result is False:
            raise DeliveryError(
                f"SMTP {self.host}:{self.port}: the server closed the "
                "connection three times while sending"
            )
        refused: Refused = {}
        if isinstance(result, dict):
            for address, (code, reply) in result.items():
                refused[address] = (int(code), _text(reply))
        if refused:
            log.warning(
                "SMTP %s:%s refused %s for %s; the other recipients got it",
                self.host,
                self.port,
                ", ".join(sorted(refused)),
                mail.message_id,
            )
        return refused

    def _client(self, sender: str) -> _Yagmail:
        login = self.user if self.user is not None else sender
        options: dict[str, Any] = {"timeout": self.timeout}
        starttls: bool | dict[str, Any] = False
        if self.ssl:
            options["context"] = ssl.create_default_context()
        elif self.starttls:
            starttls = {"context": ssl.create_default_context()}
        # {login: login}: yagmail takes the login as it is only in this form (a plain string
        # without "@" would become login@gmail.com).
        client = _Yagmail(
            user={login: login},
            password=self._password,
            host=self.host,
            port=self.port,
            smtp_starttls=starttls,
            smtp_ssl=self.ssl,
            smtp_skip_login=self.user is None,
            soft_email_validation=False,
            **options,
        )
        client.set_logging(None)  # no stderr handler of yagmail's: its errors reach us raised
        return client

    def _say(self, exc: BaseException) -> str:
        detail = str(exc) or type(exc).__name__
        if isinstance(exc, smtplib.SMTPResponseException):
            reply = exc.smtp_error
            text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
            detail = f"{exc.smtp_code} {text}"
        elif isinstance(exc, smtplib.SMTPRecipientsRefused):
            detail = "every recipient refused: " + ", ".join(
                f"{address} ({code} {_text(reply)})"
                for address, (code, reply) in sorted(exc.recipients.items())
            )
        message = f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {detail}"
        if self._password:
            message = message.replace(self._password, "***")
        return message


def _text(reply: bytes | str) -> str:
    """An SMTP reply's text on one line."""
    return one_line(reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply))


def transport_from(settings: Settings) -> Transport:
    """SMTP when a host is configured, else .eml files in the outbox folder.

    The password is unwrapped here, inside the process that sends, and kept private in the
    transport (whose repr leaves it out).
    """
    if settings.smtp_host is None:
        return EmlOutbox(settings.outbox_dir)
    password = settings.smtp_password
    return SmtpTransport(
        host=settings.smtp_host,
        port=settings.smtp_port,
        user=settings.smtp_user,
        password=password.get_secret_value() if password is not None else None,
        starttls=settings.smtp_starttls,
        ssl=settings.smtp_ssl,
        sender=settings.mail_from,
    )


def where_mail_goes(settings: Settings) -> str:
    if settings.smtp_host is None:
        return f".eml files in {settings.outbox_dir}"
    return f"SMTP {settings.smtp_host}:{settings.smtp_port}"
