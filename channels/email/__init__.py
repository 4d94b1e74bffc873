"""The email channel: raw mail in, :class:`~channels.base.InboundMessage` out."""

from channels.email.mime import MailParseError, parse_email
from channels.email.quotes import split_reply

__all__ = ["MailParseError", "parse_email", "split_reply"]
