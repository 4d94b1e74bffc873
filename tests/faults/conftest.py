"""The fault suite reuses the email channel's real Dovecot (one per session) and its mailbox fixtures."""

from tests.email_channel.conftest import dovecot_server, email_account, mailbox, oauth_provider

__all__ = ["dovecot_server", "email_account", "mailbox", "oauth_provider"]
