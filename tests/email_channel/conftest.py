"""Fixtures for the email channel: one real Dovecot per session, a mailbox per test, SMTP on loopback.

Dovecot runs from a folder made with ``tempfile.mkdtemp`` (its own processes
must be able to enter it, which pytest's private tmp folders forbid).  Every
test gets a fresh IMAP user, so mailboxes never leak between tests; the
server itself starts once because starting it is the slow part.
"""

from __future__ import annotations

import base64
import email
import itertools
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from imapclient import IMAPClient

from tests.conftest import need_service
from tests.services import dovecot
from tests.services.dovecot import free_port
from tests.services.oauth import OAuthProvider

PASSWORD = "mailbox-secret"
USERS = 400
_users = itertools.count(1)


@pytest.fixture(scope="session")
def oauth_provider() -> Iterator[OAuthProvider]:
    """The session's fake OAuth provider; Dovecot checks XOAUTH2 tokens with it."""
    provider = OAuthProvider()
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def dovecot_server(oauth_provider: OAuthProvider) -> Iterator[dovecot.DovecotServer | str]:
    """The session's Dovecot, or the reason there is none."""
    if not dovecot.available():
        yield "the dovecot binary is not installed (apt-get install dovecot-imapd)"
        return
    root = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
    server = dovecot.DovecotServer(root, oauth2_introspection_url=f"{oauth_provider.url}/introspect")
    # Every user exists before start: Dovecot notices a changed user file only by its mtime, in whole seconds.
    for n in range(1, USERS + 1):
        server.add_user(f"seller{n}", PASSWORD)
    try:
        server.start()
    except RuntimeError as exc:
        yield str(exc)
        shutil.rmtree(root, ignore_errors=True)
        return
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@dataclass
class Mailbox:
    """One fresh IMAP user on the session's Dovecot, with helpers to fill it."""

    host: str
    port: int
    user: str
    password: str = PASSWORD

    @contextmanager
    def imap(self) -> Iterator[IMAPClient]:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        try:
            client.login(self.user, self.password)
            yield client
        finally:
            with suppress(Exception):
                client.logout()

    def append(self, raw: bytes, folder: str = "INBOX", flags: tuple[bytes, ...] = ()) -> None:
        with self.imap() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, raw, flags=flags)

    def create(self, folder: str) -> None:
        with self.imap() as client:
            client.create_folder(folder)

    def recreate(self, folder: str) -> None:
        """Delete and create ``folder``: same name, new UIDVALIDITY, empty."""
        with self.imap() as client:
            client.delete_folder(folder)
            client.create_folder(folder)

    def flags(self, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        with self.imap() as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            return {uid: data[b"FLAGS"] for uid, data in client.fetch(uids, ["FLAGS"]).items()} if uids else {}

    def count(self, folder: str) -> int:
        with self.imap() as client:
            if not client.folder_exists(folder):
                return 0
            return int(client.folder_status(folder, [b"MESSAGES"])[b"MESSAGES"])


@pytest.fixture
def mailbox(dovecot_server: dovecot.DovecotServer | str) -> Mailbox:
    if isinstance(dovecot_server, str):
        need_service("Dovecot", dovecot_server)
    assert not isinstance(dovecot_server, str)
    user = f"seller{next(_users)}"
    assert user in dovecot_server.users, "more mailbox tests than prepared users; raise USERS"
    return Mailbox(dovecot_server.host, dovecot_server.port, user)


def mail(
    n: int,
    *,
    sender: str = "Jonas Weber <jonas@example.test>",
    to: str = "support@lampworks.example",
    subject: str | None = None,
    body: str | None = None,
    message_id: str | None = None,
    extra: dict[str, str] | None = None,
) -> bytes:
    """A small, valid buyer mail numbered ``n``."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject if subject is not None else f"Question {n} about my order"
    msg["Date"] = format_datetime(datetime(2026, 1, 5, 9, n % 60, tzinfo=UTC))
    msg["Message-ID"] = message_id or f"<buyer-{n}@example.test>"
    for name, value in (extra or {}).items():
        msg[name] = value
    msg.set_content(body if body is not None else f"Hello, this is question number {n}.\nThanks, Jonas\n")
    return bytes(msg)


BROKEN = b"this is not a mail at all\r\njust two lines of noise\r\n"


@pytest.fixture
def email_account(session: Any, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Make an email ChannelAccount on the test's mailbox; overrides go into settings."""
    from helpdesk.channelaccounts.models import ChannelAccount

    monkeypatch.setenv("TEST_MAILBOX_PASSWORD", PASSWORD)

    def make(name: str = "support", port: int | None = None, **settings: Any) -> ChannelAccount:
        values = {
            "imap_host": mailbox.host,
            "imap_port": port or mailbox.port,
            "imap_security": "none",
            "user": mailbox.user,
            "folder": "INBOX",
            "from_address": "support@lampworks.example",
            "timeout_s": 5,
        }
        values.update(settings)
        account = ChannelAccount(
            name=name,
            kind="email",
            platform=None,
            display_name=name,
            settings=values,
            secret_refs={"password": "TEST_MAILBOX_PASSWORD"},
        )
        session.add(account)
        session.commit()
        return account

    return make


# --- SMTP on loopback --------------------------------------------------------------------------------

SMTP_USER, SMTP_PASSWORD = "support@lampworks.example", "smtp-secret"


class Recorder:
    """aiosmtpd handler: keeps what arrives; some recipients are refused on purpose."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.oauth_tokens: dict[str, str] | None = None  # access token -> user, for XOAUTH2

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("busy@"):
            return "451 4.3.0 mailbox busy, try later"
        if address.startswith("gone@"):
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        """RFC 7628-style XOAUTH2: the token must be one the fake provider issued to that user."""
        if len(args) < 2:
            return AuthResult(success=False, handled=False)
        fields = dict(part.split("=", 1) for part in base64.b64decode(args[1]).decode().split("\x01") if "=" in part)
        token = fields.get("auth", "").removeprefix("Bearer ")
        ok = self.oauth_tokens is not None and self.oauth_tokens.get(token) == fields.get("user")
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.received.append(email.message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    if not isinstance(auth_data, LoginPassword):
        return AuthResult(success=False, handled=False)
    login, password = auth_data.login.decode(), auth_data.password.decode()
    ok = (login, password) == (SMTP_USER, SMTP_PASSWORD) or (login.startswith("seller") and password == PASSWORD)
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Recorder]]:
    recorder = Recorder()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=_authenticate,
        auth_require_tls=False,
    )
    controller.start()
    yield controller, recorder
    controller.stop()


# --- a TCP proxy that can cut the connection --------------------------------------------------------


@dataclass
class CuttingProxy:
    """Forwards loopback TCP to ``target``; cuts a connection after ``cut_after`` bytes from the server."""

    target: tuple[str, int]
    cut_after: int | None = None
    cuts: int = 0
    _listener: socket.socket = field(init=False)
    _threads: list[threading.Thread] = field(default_factory=list)
    _sockets: list[socket.socket] = field(default_factory=list)
    _closed: bool = False

    def __post_init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        self._listener.settimeout(0.2)
        self._spawn(self._accept)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            self._spawn(self._pipe, client, upstream, None)
            self._spawn(self._pipe, upstream, client, self.cut_after)

    def _pipe(self, src: socket.socket, dst: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if limit is not None and sent + len(data) > limit:
                    dst.sendall(data[: limit - sent])
                    self.cuts += 1
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for sock in (src, dst):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut_now(self) -> None:
        """Drop every open connection at once, as a router losing its state does."""
        for sock in self._sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.cuts += 1

    def close(self) -> None:
        self._closed = True
        for sock in self._sockets:
            with suppress(OSError):
                sock.close()
        for thread in self._threads:
            thread.join(timeout=2)
        self._listener.close()


@pytest.fixture
def cutting_proxy(mailbox: Mailbox) -> Iterator[Callable[..., CuttingProxy]]:
    proxies: list[CuttingProxy] = []

    def make(cut_after: int | None) -> CuttingProxy:
        proxy = CuttingProxy((mailbox.host, mailbox.port), cut_after)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.close()
