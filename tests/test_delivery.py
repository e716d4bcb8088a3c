"""Delivery: the .eml outbox and SMTP through yagmail, against a real aiosmtpd server."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import ipaddress
import logging
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from duban.errors import BadInput
from render.letters import render_letter
from tasks.sweep.delivery import (
    DeliveryError,
    EmlOutbox,
    InvalidMail,
    OutgoingMail,
    SmtpTransport,
    base64_lines,
    build_message,
    file_name,
)
from tasks.sweep.notices import Letter, NoticeItem

OFFICE = "重庆市医疗卫生行业综合监管联席会议办公室"
SUBJECT = (
    "【督办通知】重庆市医疗卫生行业综合监管制度试点工作方案：2项逾期、1项即将到期（2019年9月25日）"
)
TEXT = "南岸区：\n\n\u3000\u3000现将截至2019年9月25日的工作任务通知如下。\n\n特此通知。\n"
HTML = '<!DOCTYPE html>\n<html lang="zh-CN"><body><p style="margin:0">南岸区：</p></body></html>\n'
EVIL = "\r\nBcc: evil@example.org"

MAIL = OutgoingMail(
    sender="office@cq.example.org",
    sender_name=OFFICE,
    to=("nanan@cq.example.org", "nanan.backup@cq.example.org"),
    cc=("office@cq.example.org",),
    subject=SUBJECT,
    text=TEXT,
    html=HTML,
    message_id="<duban.42.3f2a9c@cq.example.org>",
    date=dt.datetime(2019, 9, 25, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
)


def parse(raw: bytes | str) -> EmailMessage:
    data = raw.encode("ascii") if isinstance(raw, str) else raw
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def assert_is_the_mail(message: EmailMessage, mail: OutgoingMail) -> None:
    """Every header and both parts decode to exactly what was given."""
    assert message["Subject"] == mail.subject
    assert message["From"].addresses[0].display_name == mail.sender_name
    assert message["From"].addresses[0].addr_spec == mail.sender
    assert [a.addr_spec for a in message["To"].addresses] == list(mail.to)
    assert [a.addr_spec for a in message["Cc"].addresses] == list(mail.cc)
    assert message["Message-ID"] == mail.message_id
    assert message["Auto-Submitted"] == "auto-generated"
    assert "Bcc" not in message
    assert message.get_content_type() == "multipart/mixed"
    alternative = next(p for p in message.walk() if p.get_content_type() == "multipart/alternative")
    parts = alternative.get_payload()
    assert isinstance(parts, list)
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert [p.get_content_charset() for p in parts] == ["utf-8", "utf-8"]
    assert parts[0].get_content() == mail.text  # our text, not yagmail's guess from the HTML
    assert parts[1].get_content() == mail.html  # our HTML, not wrapped or "prettified"


# -- a real SMTP server


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what it is given and refuses the addresses it is told to."""

    refuse: set[str] = field(default_factory=set)
    envelopes: list[Envelope] = field(default_factory=list)
    logins: list[bytes] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        self.tls.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 2.0.0 accepted"

    def authenticate(
        self,
        server: Any,
        session: Any,
        envelope: Envelope,
        mechanism: str,
        auth_data: LoginPassword,
    ) -> AuthResult:
        self.logins.append(auth_data.login)
        ok = (auth_data.login, auth_data.password) == (b"duban", b"s3cret-pw")
        return AuthResult(success=ok, handled=False)  # the server answers 535 on failure

    def messages(self) -> list[EmailMessage]:
        return [parse(e.original_content or b"") for e in self.envelopes]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(inbox: Inbox, **options: Any) -> Iterator[Controller]:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def server(inbox: Inbox) -> Iterator[Controller]:
    with smtp_server(inbox) as controller:
        yield controller


def relay(server: Controller, **options: Any) -> SmtpTransport:
    """SMTP to the test server without a login, as to a local relay."""
    settings: dict[str, Any] = {"user": None, "password": None, **options}
    return SmtpTransport(host="127.0.0.1", port=server.port, **settings)


def test_smtp_delivers_to_every_to_and_cc_address_and_the_message_decodes(server, inbox):
    relay(server).send(MAIL)
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "office@cq.example.org"
    assert envelope.rcpt_tos == [*MAIL.to, *MAIL.cc]
    [message] = inbox.messages()
    assert_is_the_mail(message, MAIL)
    assert message["Date"].datetime == MAIL.date


def test_smtp_carries_exactly_the_message_build_message_makes(server, inbox):
    relay(server).send(MAIL)
    received = (inbox.envelopes[0].original_content or b"").replace(b"\r\n", b"\n")
    assert received.decode("ascii") == build_message(MAIL)


def test_the_headers_are_encoded_and_folded_for_any_mail_client(server, inbox):
    relay(server).send(MAIL)
    raw = (inbox.envelopes[0].original_content or b"").decode("ascii")
    head = raw.split("\r\n\r\n", 1)[0]
    assert "Subject: =?utf-8?b?" in head  # RFC 2047
    assert "From: =?utf-8?b?" in head or "From: \r\n =?utf-8?b?" in head
    assert all(len(line) <= 998 for line in head.split("\r\n"))
    subject = head[head.index("Subject:") :].split("\r\nFrom:")[0]
    assert all(len(line) <= 78 for line in subject.split("\r\n"))


def test_the_configured_sender_replaces_the_mails_from_address(server, inbox):
    relay(server, sender="duban@cq.example.org").send(MAIL)
    [message] = inbox.messages()
    assert message["From"].addresses[0].addr_spec == "duban@cq.example.org"
    assert message["From"].addresses[0].display_name == OFFICE
    assert inbox.envelopes[0].mail_from == "duban@cq.example.org"


def test_without_a_date_yagmail_stamps_the_time_of_sending(server, inbox):
    relay(server).send(replace(MAIL, date=None))
    [message] = inbox.messages()
    assert message["Date"].datetime is not None


def test_smtp_down_is_a_delivery_error_naming_the_server():
    port = free_port()  # nothing listens there
    transport = SmtpTransport(host="127.0.0.1", port=port, user=None, password=None)
    with pytest.raises(DeliveryError, match=rf"SMTP 127\.0\.0\.1:{port}: ConnectionRefused"):
        transport.send(MAIL)


def test_a_server_refusing_every_recipient_is_a_delivery_error():
    inbox = Inbox(refuse={*MAIL.to, *MAIL.cc})
    with smtp_server(inbox) as server, pytest.raises(DeliveryError) as failed:
        relay(server).send(MAIL)
    assert (
        "every recipient refused: nanan.backup@cq.example.org (550 5.1.1 mailbox unavailable), "
        "nanan@cq.example.org (550 5.1.1 mailbox unavailable)" in str(failed.value)
    )
    assert isinstance(failed.value, InvalidMail)  # 5xx for all: retrying will not help
    assert inbox.envelopes == []


def test_a_partly_refused_mail_reaches_the_others_and_the_refusal_is_logged(caplog):
    inbox = Inbox(refuse={"nanan.backup@cq.example.org"})
    with smtp_server(inbox) as server, caplog.at_level(logging.WARNING, "tasks.sweep.delivery"):
        relay(server).send(MAIL)  # not an error: a retry would send it twice to the others
    assert inbox.envelopes[0].rcpt_tos == ["nanan@cq.example.org", "office@cq.example.org"]
    assert "refused nanan.backup@cq.example.org" in caplog.text


def test_smtp_logs_in_with_the_login_as_given_and_never_repeats_the_password():
    inbox = Inbox()
    with smtp_server(inbox, authenticator=inbox.authenticate, auth_require_tls=False) as server:
        SmtpTransport(host="127.0.0.1", port=server.port, user="duban", password="s3cret-pw").send(
            MAIL
        )
        wrong = SmtpTransport(host="127.0.0.1", port=server.port, user="duban", password="wrong-pw")
        with pytest.raises(DeliveryError, match="SMTPAuthenticationError: 535") as failed:
            wrong.send(MAIL)
    assert inbox.logins[0] == b"duban"  # yagmail alone would have logged in as duban@gmail.com
    assert len(inbox.envelopes) == 1
    assert "wrong-pw" not in str(failed.value) and "wrong-pw" not in repr(wrong)


def test_a_login_without_a_password_is_refused_before_any_connection():
    with pytest.raises(BadInput, match="DUBAN_SMTP_PASSWORD"):
        SmtpTransport(host="127.0.0.1", port=25, user="duban", password=None)


# -- TLS, with a certificate authority made for the test


@dataclass(frozen=True)
class Certificates:
    authority: Path  # the CA certificate, for SSL_CERT_FILE
    server: ssl.SSLContext


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    folder = tmp_path_factory.mktemp("tls")
    now = dt.datetime.now(dt.UTC)  # a certificate is valid from now: the test needs the clock

    def certificate(subject: str, key: Any, issuer: Any, issuer_key: Any, ca: bool) -> Any:
        name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, subject)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer.subject if issuer else name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                critical=False,
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("duban test CA", ca_key, None, ca_key, ca=True)
    leaf = certificate("127.0.0.1", key, ca, ca_key, ca=False)
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "server.pem").write_bytes(leaf.public_bytes(pem))
    (folder / "server.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    return Certificates(folder / "ca.pem", context)


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_connections_verify_the_servers_certificate(certificates, monkeypatch, mode):
    inbox = Inbox()
    options = (
        {"tls_context": certificates.server, "require_starttls": True}
        if mode == "starttls"
        else {"ssl_context": certificates.server}
    )
    with smtp_server(inbox, **options) as server:
        with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
            relay(server, **{mode: True}).send(MAIL)  # the test CA is not trusted yet
        monkeypatch.setenv("SSL_CERT_FILE", str(certificates.authority))
        relay(server, **{mode: True}).send(MAIL)
    assert inbox.tls == [True]
    assert_is_the_mail(inbox.messages()[0], MAIL)


# -- the .eml outbox


def test_the_outbox_writes_one_eml_file_that_parses_to_the_same_mail(tmp_path):
    outbox = EmlOutbox(tmp_path / "outbox")
    outbox.send(MAIL)
    [path] = (tmp_path / "outbox").iterdir()
    assert path.name == "duban.42.3f2a9c@cq.example.org.eml"
    assert path == outbox.path_for(MAIL.message_id)
    assert_is_the_mail(parse(path.read_bytes()), MAIL)
    assert path.read_bytes() == build_message(MAIL).replace("\n", "\r\n").encode("ascii")


def test_sending_the_same_message_id_again_overwrites_its_file(tmp_path):
    outbox = EmlOutbox(tmp_path)
    outbox.send(MAIL)
    outbox.send(replace(MAIL, text="第二次发送。\n"))
    [path] = tmp_path.iterdir()  # no second file, no temporary file left behind
    assert parse(path.read_bytes()).get_body(("plain",)).get_content() == "第二次发送。\n"
    outbox.send(replace(MAIL, message_id="<duban.43.77aa@cq.example.org>"))
    assert len(list(tmp_path.iterdir())) == 2


def test_outbox_file_names_stay_inside_the_folder(tmp_path):
    folder = tmp_path / "outbox"
    EmlOutbox(folder).send(replace(MAIL, message_id="<a/b/c@cq.example.org>"))  # "/" is valid
    [path] = folder.iterdir()
    assert path.parent == folder and path.name.startswith("a_b_c@cq.example.org-")
    assert parse(path.read_bytes())["Message-ID"] == "<a/b/c@cq.example.org>"


@pytest.mark.parametrize(
    "message_id",
    ["<../../escaped@x.org>", "<a\\b@x.org>", "<.a@x.org>", "<a/b@x.org>", "</etc/passwd@x.org>"],
)
def test_any_message_id_makes_a_plain_file_name(message_id):
    name = file_name(message_id)
    assert "/" not in name and "\\" not in name and not name.startswith(".")


def test_distinct_message_ids_get_distinct_file_names():
    assert file_name("<a/b@x.org>") != file_name("<a_b@x.org>")
    assert file_name("<duban.1.ab@x.org>") == "duban.1.ab@x.org"


def test_an_outbox_that_cannot_be_written_is_a_delivery_error(tmp_path):
    blocked = tmp_path / "outbox"
    blocked.write_text("a file where the folder should be")
    with pytest.raises(DeliveryError, match="cannot write"):
        EmlOutbox(blocked).send(MAIL)


# -- header injection, through both transports


Deliver = Callable[[OutgoingMail], list[tuple[list[str], EmailMessage]]]


@pytest.fixture(params=["eml", "smtp"])
def deliver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deliver]:
    """Send one mail; what arrived: (envelope recipients, parsed message) for each message."""
    if request.param == "eml":

        def through_outbox(mail: OutgoingMail) -> list[tuple[list[str], EmailMessage]]:
            EmlOutbox(tmp_path).send(mail)
            found = [parse(p.read_bytes()) for p in sorted(tmp_path.glob("*.eml"))]
            return [
                ([a.addr_spec for h in ("To", "Cc", "Bcc") if h in m for a in m[h].addresses], m)
                for m in found
            ]

        yield through_outbox
        return
    inbox = Inbox()
    with smtp_server(inbox) as server:

        def through_smtp(mail: OutgoingMail) -> list[tuple[list[str], EmailMessage]]:
            relay(server).send(mail)
            return [(e.rcpt_tos, parse(e.original_content or b"")) for e in inbox.envelopes]

        yield through_smtp


@pytest.mark.parametrize(
    "change",
    [
        {"subject": SUBJECT + EVIL},
        {"sender_name": OFFICE + EVIL},
        {"subject": "督办\nBcc: evil@example.org\u2028X-Evil: 1"},
    ],
)
def test_line_breaks_in_subject_or_names_cannot_add_headers(deliver, change):
    [(recipients, message)] = deliver(replace(MAIL, **change))
    assert recipients == [*MAIL.to, *MAIL.cc]
    assert "Bcc" not in message and "X-Evil" not in message
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    assert "Bcc: evil@example.org" in message["Subject"] + message["From"]  # kept, as text


@pytest.mark.parametrize(
    "change",
    [
        {"to": ("nanan@cq.example.org" + EVIL,)},
        {"to": ("nanan@cq.example.org, evil@example.org",)},
        {"cc": ("<evil@example.org>",)},
        {"sender": "office@cq.example.org" + EVIL},
        {"message_id": "<duban.1.a@cq.example.org>" + EVIL},
        {"message_id": "duban.1.a@cq.example.org"},
        {"message_id": "<../../escaped@cq.example.org>"},
        {"to": ()},
    ],
)
def test_malformed_addresses_and_message_ids_are_refused_before_sending(deliver, change):
    with pytest.raises(InvalidMail):
        deliver(replace(MAIL, **change))
    assert issubclass(InvalidMail, DeliveryError)


def test_a_rendered_letter_with_hostile_data_goes_out_as_one_safe_mail(deliver):
    item = NoticeItem(
        plan_code="cq",
        plan_title="试点方案" + EVIL,
        document_number=None,
        task_code="t07",
        task_title="<script>alert(1)</script>" + EVIL,
        unit_name="南岸区" + EVIL,
        role="lead",
        level="urge",
        rung="1wd-overdue",
        why="逾期1个工作日",
        due=dt.date(2019, 9, 24),
        original_due=None,
        deadline_text=None,
        deadline_reading=None,
        workdays_left=0,
        overdue_workdays=1,
        in_copy=False,
        recipient_role="responsible",
        receipt_code=None,
    )
    letter = Letter(
        recipient_name="南岸区" + EVIL,
        to=MAIL.to,
        sender_name=OFFICE + EVIL,
        as_of=dt.date(2019, 9, 25),
        items=(item,),
    )
    rendered = render_letter(letter)
    mail = replace(
        MAIL,
        sender_name=letter.sender_name,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
    )
    [(recipients, message)] = deliver(mail)
    assert recipients == [*MAIL.to, *MAIL.cc] and "Bcc" not in message
    assert message["Subject"] == rendered.subject
    assert message.get_body(("html",)).get_content() == rendered.html
    assert "&lt;script&gt;" in rendered.html and "<script>" not in rendered.html


@pytest.mark.parametrize("size", [0, 1, 56, 57, 58, 113, 114, 115, 66_879])
def test_bodies_are_encoded_as_the_standard_library_encodes_them(size):
    """Letters are base64 in 76-column lines, each ending in a newline, the last one too."""
    body = ("督办" * size).encode("utf-8")[:size]
    assert base64_lines(body) == base64.encodebytes(body).decode("ascii")
