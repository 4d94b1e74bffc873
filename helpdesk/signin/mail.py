"""The helpdesk's own outgoing mail (password links), over ``HELPDESK_SMTP_URL``.

This is not a channel: a store's mailbox answers buyers; this server sends
mail to the team. ``smtps://`` speaks TLS from the start, ``smtp+starttls://``
upgrades, plain ``smtp://`` is for a relay on the same host or network.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from helpdesk.config import Settings

TIMEOUT_S = 30


class MailNotConfigured(RuntimeError):
    """HELPDESK_SMTP_URL is not set."""


def mail_configured(settings: Settings) -> bool:
    return bool(settings.smtp_url and settings.mail_from)


def send_mail(settings: Settings, to: str, subject: str, body: str) -> None:
    """Send one plain-text mail; raises ``smtplib.SMTPException``/``OSError`` when the server refuses or is away."""
    if not (settings.smtp_url and settings.mail_from):
        raise MailNotConfigured("set HELPDESK_SMTP_URL and HELPDESK_MAIL_FROM to send mail")
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2])
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders must not answer it
    msg.set_content(body)
    url = urlsplit(settings.smtp_url)
    host = url.hostname or ""
    context = ssl.create_default_context()
    if url.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, url.port or 465, timeout=TIMEOUT_S, context=context)
    else:
        client = smtplib.SMTP(host, url.port or (587 if url.scheme == "smtp+starttls" else 25), timeout=TIMEOUT_S)
    with client:
        if url.scheme == "smtp+starttls":
            client.starttls(context=context)
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(msg)
