"""The IMAP side of a mailbox: read new mail by UID, mark it once it is safe.

A thin wrapper over IMAPClient that speaks in our terms: a folder is read
from a (UIDVALIDITY, last UID) position, mail is fetched with ``BODY.PEEK[]``
so reading never sets ``\\Seen``, and every failure of the wire becomes one
of the channel errors the poller understands (a dropped connection or a
timeout is :class:`TransientChannelError`, refused credentials are
:class:`AuthError`).  Mail is never deleted; moving to a processed folder
uses the server's MOVE where it has one.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from channels import netguard
from channels.base import AuthError, ChannelError, TransientChannelError
from channels.credentials import CredentialStore, MemoryCredentialStore
from channels.email.oauth import access_token
from channels.email.settings import EmailSettings

log = logging.getLogger(__name__)

FETCH_CHUNK = 25


@dataclass(frozen=True, slots=True)
class RawMail:
    """One message as the server holds it."""

    uid: int
    raw: bytes
    received_at: datetime | None


@dataclass(frozen=True, slots=True)
class FolderPage:
    """New mail of one folder after a position, oldest first.

    ``last_uid`` is the highest UID this page covers; ``more`` says UIDs beyond
    it are already waiting.
    """

    uidvalidity: int
    mails: list[RawMail]
    last_uid: int
    more: bool


@contextmanager
def imap_errors(what: str) -> Iterator[None]:
    """Translate IMAP and socket failures into channel errors, naming ``what`` failed."""
    try:
        yield
    except LoginError as exc:
        raise AuthError(f"IMAP login refused: {_text(exc)}") from exc
    except TimeoutError as exc:
        raise TransientChannelError(f"IMAP {what} timed out") from exc
    except (imaplib.IMAP4.abort, ConnectionError, ssl.SSLError, OSError) as exc:
        raise TransientChannelError(f"IMAP connection lost during {what}: {_text(exc)}") from exc
    except IMAPClientError as exc:
        raise TransientChannelError(f"IMAP {what} failed: {_text(exc)}") from exc


def _text(exc: BaseException) -> str:
    text = str(exc)
    if text.startswith(("b'", 'b"')):
        text = text[2:-1]
    return text or exc.__class__.__name__


class ImapMailbox:
    """One logged-in IMAP connection for one account, opened on first use."""

    def __init__(self, settings: EmailSettings, credentials: CredentialStore | None = None) -> None:
        self.settings = settings
        self.credentials: CredentialStore = credentials if credentials is not None else MemoryCredentialStore()
        self._client: IMAPClient | None = None

    def client(self) -> IMAPClient:
        """The connected, logged-in client (connecting now if needed)."""
        if self._client is not None:
            return self._client
        s = self.settings
        with imap_errors("connect"):
            netguard.check_connection("IMAP server", s.imap_host, s.imap_port)
            client = IMAPClient(
                s.imap_host,
                port=s.imap_port,
                ssl=s.imap_security == "ssl",
                timeout=s.timeout_s,
                ssl_context=ssl.create_default_context() if s.imap_security != "none" else None,
            )
        try:
            with imap_errors("login"):
                client.normalise_times = False  # aware datetimes for INTERNALDATE
                if s.imap_security == "starttls":
                    client.starttls(ssl.create_default_context())
                token = access_token(s.oauth_client, self.credentials)
                if token:
                    try:
                        client.oauth2_login(s.user, token)
                    except LoginError:
                        if s.oauth_client is None or "oauth2_refresh_token" not in self.credentials.get():
                            raise
                        # the stored token may have been revoked early: one fresh token, one more try
                        fresh = access_token(s.oauth_client, self.credentials, refused=token)
                        client.oauth2_login(s.user, fresh)
                else:
                    password = self.credentials.get().get("password")
                    if password is None:
                        raise AuthError(f"no password or oauth2_token for IMAP user {s.user!r}")
                    client.login(s.user, password)
        except BaseException:
            _drop(client)
            raise
        self._client = client
        return client

    def close(self) -> None:
        """Log out politely; a connection that is already broken is just dropped."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:
            _drop(client)

    def reset(self) -> None:
        """Forget a connection that failed so the next call reconnects."""
        client, self._client = self._client, None
        if client is not None:
            _drop(client)

    def check_folder(self, folder: str) -> int:
        """Log in and open ``folder`` read-only (a connection test: no mail is read); its UIDVALIDITY."""
        try:
            return _uidvalidity(self._select(self.client(), folder, readonly=True), folder)
        except ChannelError:
            self.reset()
            raise

    def new_mail(self, folder: str, uidvalidity: int | None, after_uid: int, limit: int) -> FolderPage:
        """Mail in ``folder`` with UID above ``after_uid``, at most ``limit`` of them.

        When the folder's UIDVALIDITY differs from ``uidvalidity`` the old UIDs
        mean nothing any more, so the folder is read again from the start;
        the caller's dedupe makes that re-read harmless.
        """
        try:
            return self._new_mail(folder, uidvalidity, after_uid, limit)
        except ChannelError:
            self.reset()
            raise

    def _new_mail(self, folder: str, uidvalidity: int | None, after_uid: int, limit: int) -> FolderPage:
        client = self.client()
        selected = self._select(client, folder, readonly=True)
        current = _uidvalidity(selected, folder)
        if uidvalidity is not None and current != uidvalidity:
            log.warning("UIDVALIDITY of %s changed (%s → %s); reading the folder again", folder, uidvalidity, current)
            after_uid = 0
        with imap_errors(f"search of {folder!r}"):
            found = client.search(["UID", f"{after_uid + 1}:*"])
        # "UID n:*" always matches the last message, even when its UID is not above n.
        uids = sorted(uid for uid in found if uid > after_uid)
        take = uids[: max(limit, 1)]
        mails: list[RawMail] = []
        for start in range(0, len(take), FETCH_CHUNK):
            chunk = take[start : start + FETCH_CHUNK]
            with imap_errors(f"fetch from {folder!r}"):
                data = client.fetch(chunk, ["BODY.PEEK[]", "INTERNALDATE"])
            for uid in chunk:
                item = data.get(uid)
                if item is None:  # expunged between search and fetch
                    continue
                mails.append(RawMail(uid, bytes(item.get(b"BODY[]") or b""), _aware(item.get(b"INTERNALDATE"))))
        last = take[-1] if take else after_uid
        return FolderPage(uidvalidity=current, mails=mails, last_uid=last, more=len(uids) > len(take))

    def _select(self, client: IMAPClient, folder: str, *, readonly: bool) -> dict[bytes, object]:
        try:
            with imap_errors(f"select of {folder!r}"):
                return dict(client.select_folder(folder, readonly=readonly))
        except TransientChannelError as exc:
            with imap_errors("folder list"):
                exists = client.folder_exists(folder)
            if not exists:  # a setting to fix, not a hiccup to wait out
                raise ChannelError(f"folder {folder!r} does not exist in mailbox {self.settings.user!r}") from exc
            raise

    def mark_processed(self, folder: str, uids: Sequence[int], *, seen: bool, move_to: str | None) -> None:
        """Flag ``uids`` as read and/or move them to ``move_to``; never deletes mail."""
        if not uids or not (seen or move_to):
            return
        try:
            client = self.client()
            self._select(client, folder, readonly=False)
            if seen:
                with imap_errors("marking mail as read"):
                    client.add_flags(list(uids), [b"\\Seen"], silent=True)
            if move_to:
                with imap_errors(f"move to {move_to!r}"):
                    if not client.folder_exists(move_to):
                        client.create_folder(move_to)
                    if client.has_capability("MOVE"):
                        client.move(list(uids), move_to)
                    elif client.has_capability("UIDPLUS"):  # copy, then expunge exactly these UIDs
                        client.copy(list(uids), move_to)
                        client.add_flags(list(uids), [b"\\Deleted"], silent=True)
                        client.uid_expunge(list(uids))
                    else:  # no way to remove only our copies: keep both rather than risk others' mail
                        client.copy(list(uids), move_to)
        except ChannelError:
            self.reset()
            raise


def _uidvalidity(selected: dict[bytes, object], folder: str) -> int:
    value = selected.get(b"UIDVALIDITY")
    if isinstance(value, int | bytes | str):
        return int(value)
    raise ChannelError(f"the server gave no UIDVALIDITY for {folder!r}; UIDs cannot be trusted")


def _aware(value: object) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _drop(client: IMAPClient) -> None:
    with suppress(Exception):  # the socket is already gone; nothing left to release
        client.shutdown()
