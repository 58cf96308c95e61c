"""Real mail servers on loopback for the mail tests: aiosmtpd for SMTP, Debian's dovecot
for IMAP (started per test when installed; `make test` installs it)."""

from __future__ import annotations

import contextlib
import email
import email.policy
import imaplib
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask

from app.ceremonies.models import Ceremony, CeremonyStatus
from app.extensions import db
from app.types import local_today


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Mailbox:
    """What the SMTP server received, and how it should misbehave."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # 550 for these recipients
    defer: set[str] = field(default_factory=set)  # 451 for these recipients
    close_after: int | None = None  # answer 421 to every DATA after this many
    closing: bool = False  # answer 421 to MAIL FROM: the server is going away
    port: int = 0  # where it listens

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.closing:
            return "421 4.3.2 Service shutting down"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        if address in self.defer:
            return "451 4.3.0 Mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.close_after is not None and len(self.received) >= self.close_after:
            return "421 4.3.2 Service shutting down"
        content = envelope.original_content or b""
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content))
        return "250 Message accepted"

    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.received]


@pytest.fixture
def smtp(app: Flask) -> Iterator[Mailbox]:
    """A plain SMTP server on loopback, and the app configured to send through it."""
    port = free_port()
    mailbox = Mailbox(port=port)
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SECURITY="none")
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def mail_edition(edition: Callable[..., Ceremony]) -> Ceremony:
    """Next year's 9 May, published, with a reply deadline and a dress line."""
    made = edition("9-mei", local_today().year + 1, status=CeremonyStatus.PUBLISHED)
    made.rsvp_deadline = date(made.year, 4, 25)
    made.dress_code_nl = "Donker kostuum, onderscheidingen"
    made.dress_code_en = "Dark suit, decorations"
    made.dress_code_ru = "Тёмный костюм, награды"
    db.session.commit()
    return made


DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
mail_location = maildir:~/Maildir
first_valid_uid = 1
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0600
  }}
}}
"""


@dataclass
class ImapServer:
    port: int
    user: str
    password: str

    def connect(self) -> imaplib.IMAP4:
        connection = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        connection.login(self.user, self.password)
        return connection

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        connection = self.connect()
        try:
            status, _ = connection.append(folder, None, None, raw)
            assert status == "OK"
        finally:
            connection.logout()

    def flags(self, folder: str = "INBOX") -> list[str]:
        """The flags of every message in the folder, in order."""
        connection = self.connect()
        try:
            connection.select(folder)
            _status, data = connection.fetch("1:*", "(FLAGS)")
            if data == [None]:
                return []
            return [item.decode() for item in data if isinstance(item, bytes)]
        finally:
            connection.logout()


@pytest.fixture
def imap_server() -> Iterator[ImapServer]:
    binary = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )
    if binary is None:
        pytest.fail("dovecot is not installed: `make test` installs dovecot-imapd")
    # Not under pytest's tmp_path: its parents are private to root, and dovecot reads and
    # writes the mail as its own user.
    root = Path(tempfile.mkdtemp(prefix="ereveld-dovecot-"))
    root.chmod(0o755)
    for folder in ("run", "state", "mail"):
        (root / folder).mkdir()
    shutil.chown(root / "mail", "dovecot", "dovecot")
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(DOVECOT_CONF.format(root=root, port=port, password="imap-secret"))
    subprocess.run([binary, "-c", str(config)], check=True, timeout=30)
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    try:
        yield ImapServer(port, "protocol", "imap-secret")
    finally:
        subprocess.run([binary, "-c", str(config), "stop"], check=False, timeout=30)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class TlsServer:
    mailbox: Mailbox
    port: int
    ca_file: str
    user: str = "ereveld"
    password: str = "smtp-secret"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (openssl), which the client trusts as its own CA."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


def _authenticator(user: str, password: str) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    return check


class _QuietController(Controller):
    """With implicit TLS aiosmtpd cannot tell that AUTH runs inside TLS and warns on every
    connection; the warning is about its own bookkeeping, not this server."""

    def factory(self) -> SMTP:
        import warnings

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            server: SMTP = super().factory()  # type: ignore[no-untyped-call]
            return server


@pytest.fixture(params=["starttls", "ssl"])
def tls_smtp_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TlsServer]:
    """SMTP with STARTTLS (required before AUTH) or implicit TLS, and a password."""
    import ssl

    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox = Mailbox()
    port = free_port()
    server = TlsServer(mailbox, port, str(cert))
    options: dict[str, Any] = {
        "authenticator": _authenticator(server.user, server.password),
        "auth_required": True,
    }
    if request.param == "starttls":
        options.update(tls_context=context, require_starttls=True, auth_require_tls=True)
    else:
        options.update(ssl_context=context, auth_require_tls=False)
    controller = _QuietController(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    server.security = request.param  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def busy_smtp(app: Flask) -> Iterator[list[bytes]]:
    """A server that greets every connection with 421 (too busy) and hangs up; yields
    what clients said to it (nothing, if they listened)."""
    heard: list[bytes] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection:
                connection.sendall(b"421 4.7.0 Too busy, try later\r\n")
                connection.settimeout(0.5)
                with contextlib.suppress(OSError):
                    heard.append(connection.recv(1024))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    app.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=listener.getsockname()[1], MAIL_SECURITY="none"
    )
    try:
        yield heard
    finally:
        stop.set()
        thread.join(5)
        listener.close()
