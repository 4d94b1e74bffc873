"""The SMTP side of a mailbox: build a threaded reply and hand it to the server.

A reply carries everything a mail client (or a marketplace relay) needs to
put it in the right conversation: ``In-Reply-To`` and ``References`` from the
message it answers, the original subject with ``Re:``, and the ticket token
``[#123]`` for clients that drop headers.  Its Message-ID is derived from
our own message id, so sending the same reply twice yields the same
Message-ID and the copy that comes back (Sent folder, bounce, relay echo)
deduplicates against the stored reply instead of becoming buyer mail.

SMTP failures are sorted by whether retrying can help: no connection,
timeouts and 4xx answers are transient; refused credentials are an
:class:`AuthError`; 5xx answers are final and carry the server's text.
"""

from __future__ import annotations

import hashlib
import html
import re
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from channels import netguard
from channels.base import AuthError, ChannelError, OutboundReply, TransientChannelError
from channels.credentials import CredentialStore
from channels.email.oauth import access_token
from channels.email.settings import EmailSettings

_RE_PREFIX = re.compile(r"^\s*(?:re|aw|sv|antw|r|rif|res|odp|vs)\s*:", re.IGNORECASE)


def reply_message_id(reply: OutboundReply, domain: str) -> str:
    """The Message-ID (without brackets) of ``reply``: the same on every attempt."""
    digest = hashlib.sha256(f"{reply.account}\x00{reply.ticket_id}\x00{reply.message_id}".encode()).hexdigest()
    return f"helpdesk.{reply.message_id}.{digest[:16]}@{domain}"


def is_our_message_id(message_id: str) -> bool:
    """True for Message-IDs this module made (the loop guard's cheap check)."""
    return re.fullmatch(r"helpdesk\.\d+\.[0-9a-f]{16}@\S+", message_id) is not None


def reply_subject(subject: str, ticket_id: int) -> str:
    """``Re: <original>`` with the ticket token, without stacking either."""
    subject = " ".join(subject.split())
    token = f"[#{ticket_id}]"
    if not _RE_PREFIX.match(subject):
        subject = f"Re: {subject}" if subject else "Re:"
    if token not in subject:
        subject = f"{subject} {token}"
    return subject


def _bracket(ids: list[str]) -> str:
    return " ".join(f"<{i.strip('<>')}>" for i in ids)


def _text_to_html(text: str) -> str:
    """Plain text as HTML whose paragraphs each take their direction from their own first letters.

    ``dir="auto"`` lets an Arabic or Hebrew reply read right-to-left in the buyer's mail
    client while a quoted English order line next to it stays left-to-right.
    """
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p]
    body = "".join('<p dir="auto">' + html.escape(p).replace("\n", "<br>\n") + "</p>\n" for p in paragraphs)
    return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{body}</body></html>\n'


def build_reply(reply: OutboundReply, settings: EmailSettings, *, date: datetime) -> EmailMessage:
    """The MIME message for ``reply``: text and HTML alternatives, attachments, threading headers."""
    if not reply.to.email:
        raise ChannelError("the reply has no recipient e-mail address")
    sender = settings.from_address or settings.user
    if "@" not in sender:
        raise ChannelError("the account has no from_address to send from")
    msg = EmailMessage()
    msg["From"] = formataddr((settings.from_name or "", sender))
    msg["To"] = formataddr((reply.to.name or "", reply.to.email))
    msg["Reply-To"] = settings.reply_to or sender
    msg["Subject"] = reply_subject(reply.subject, reply.ticket_id)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = f"<{reply_message_id(reply, settings.sender_domain)}>"
    references = [r.strip("<>") for r in reply.references]
    if reply.in_reply_to:
        parent = reply.in_reply_to.strip("<>")
        msg["In-Reply-To"] = f"<{parent}>"
        if parent not in references:
            references.append(parent)
    if references:
        msg["References"] = _bracket(references)
    msg["Auto-Submitted"] = "no"
    msg["X-Helpdesk-Ticket"] = str(reply.ticket_id)
    msg.set_content(reply.body_text or "")
    msg.add_alternative(reply.body_html or _text_to_html(reply.body_text or ""), subtype="html")
    for attachment in reply.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        msg.add_attachment(
            attachment.content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return msg


@contextmanager
def smtp_errors() -> Iterator[None]:
    """Sort SMTP failures into transient, auth and final channel errors."""
    try:
        yield
    except smtplib.SMTPAuthenticationError as exc:
        raise AuthError(f"SMTP login refused: {exc.smtp_code} {_decode(exc.smtp_error)}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        text = "; ".join(f"{rcpt}: {code} {_decode(err)}" for rcpt, (code, err) in exc.recipients.items())
        if codes and all(400 <= code < 500 for code in codes):
            raise TransientChannelError(f"SMTP recipient deferred: {text}") from exc
        raise ChannelError(f"SMTP recipient refused: {text}") from exc
    except smtplib.SMTPResponseException as exc:
        text = f"{exc.smtp_code} {_decode(exc.smtp_error)}"
        if 400 <= exc.smtp_code < 500:
            raise TransientChannelError(f"SMTP server deferred the mail: {text}") from exc
        raise ChannelError(f"SMTP server refused the mail: {text}") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise ChannelError(f"SMTP server lacks a needed feature: {exc}") from exc
    except TimeoutError as exc:
        raise TransientChannelError("SMTP server timed out") from exc
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPException, OSError) as exc:
        raise TransientChannelError(f"SMTP connection failed: {exc}") from exc


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def send_message(msg: EmailMessage, settings: EmailSettings, credentials: CredentialStore) -> None:
    """Deliver ``msg`` through the account's SMTP server (one connection per message)."""
    with _logged_in(settings, credentials) as server:
        server.send_message(msg)


def check_smtp(settings: EmailSettings, credentials: CredentialStore) -> None:
    """Connect and log in as a reply would, and send nothing (a connection test)."""
    with _logged_in(settings, credentials) as server:
        server.noop()


@contextmanager
def _logged_in(settings: EmailSettings, credentials: CredentialStore) -> Iterator[smtplib.SMTP]:
    if not settings.smtp_host:
        raise ChannelError("the account has no smtp_host; replies cannot be sent")
    context = ssl.create_default_context()
    with smtp_errors():
        netguard.check_connection("SMTP server", settings.smtp_host, settings.smtp_port)
        server: smtplib.SMTP
        if settings.smtp_security == "ssl":
            server = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, timeout=settings.timeout_s, context=context
            )
        else:
            server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout_s)
        with server:
            server.ehlo()
            if settings.smtp_security == "starttls":
                server.starttls(context=context)
                server.ehlo()
            secrets = credentials.get()
            password = secrets.get("smtp_password") or secrets.get("password")
            token = access_token(settings.oauth_client, credentials)
            user = settings.smtp_user or settings.user
            if token:
                auth = f"user={user}\x01auth=Bearer {token}\x01\x01"
                server.auth("XOAUTH2", lambda challenge=None: auth, initial_response_ok=True)
            elif password:
                server.login(user, password)
            yield server
