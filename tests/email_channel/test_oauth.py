"""XOAUTH2 with refresh tokens: real IMAP logins against Dovecot checking tokens at a fake provider."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import TransientChannelError
from channels.credentials import MemoryCredentialStore
from channels.email.oauth import OAuthClient, access_token
from helpdesk.channelaccounts.models import ChannelAccount, Health
from helpdesk.polling.services import poll_account
from helpdesk.tickets.models import Message
from tests.email_channel.conftest import mail


@pytest.fixture
def oauth_account(session: Any, mailbox: Any, oauth_provider: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An email account that logs in with access tokens refreshed at the fake provider."""

    def make(refresh_token: str | None = None, **settings: Any) -> ChannelAccount:
        monkeypatch.setenv("TEST_REFRESH_TOKEN", refresh_token or oauth_provider.grant(mailbox.user))
        monkeypatch.setenv("TEST_CLIENT_SECRET", oauth_provider.client_secret)
        account = ChannelAccount(
            name="oauth-mailbox",
            kind="email",
            display_name="OAuth mailbox",
            settings={
                "imap_host": mailbox.host,
                "imap_port": mailbox.port,
                "imap_security": "none",
                "user": mailbox.user,
                "timeout_s": 5,
                "oauth2_token_url": f"{oauth_provider.url}/token",
                "oauth2_client_id": oauth_provider.client_id,
                **settings,
            },
            secret_refs={"oauth2_refresh_token": "TEST_REFRESH_TOKEN", "oauth2_client_secret": "TEST_CLIENT_SECRET"},
        )
        session.add(account)
        session.commit()
        return account

    return make


def subjects(session: Any) -> list[str]:
    return sorted(session.scalars(sa.select(Message.subject)))


def test_polls_log_in_with_a_refreshed_token_and_reuse_it(session, mailbox, oauth_provider, oauth_account):
    account = oauth_account()
    mailbox.append(mail(1, subject="First"))
    before = len(oauth_provider.token_requests)

    first = poll_account(session, account.id)
    mailbox.append(mail(2, subject="Second"))
    second = poll_account(session, account.id)

    assert (first.error, first.ingested, second.error, second.ingested) == (None, 1, None, 1)
    assert subjects(session) == ["First", "Second"]
    requests = oauth_provider.token_requests[before:]
    assert len(requests) == 1, "the access token is cached between polls"
    assert requests[0]["grant_type"] == "refresh_token" and requests[0]["client_id"] == oauth_provider.client_id


def test_a_token_the_server_stopped_accepting_is_renewed_once(session, mailbox, oauth_provider, oauth_account):
    account = oauth_account()
    assert poll_account(session, account.id).error is None
    oauth_provider.revoke_access_tokens()  # e.g. the admin reset sessions; the cached token is still "valid"
    mailbox.append(mail(1, subject="After revocation"))
    before = len(oauth_provider.token_requests)

    report = poll_account(session, account.id)

    assert (report.error, report.ingested) == (None, 1)
    assert len(oauth_provider.token_requests) == before + 1


def test_tokens_are_refreshed_before_they_expire(mailbox, oauth_provider):
    client = OAuthClient(f"{oauth_provider.url}/token", oauth_provider.client_id)
    store = MemoryCredentialStore(
        {"oauth2_refresh_token": oauth_provider.grant(mailbox.user), "oauth2_client_secret": "client-secret"}
    )
    oauth_provider.lifetime_s = 61  # refreshed a minute early: usable for one second here
    try:
        first = access_token(client, store)
        assert access_token(client, store) == first
        assert store.get()["oauth2_access_token"] == first  # kept with the secrets for other processes
        time.sleep(1.1)
        assert access_token(client, store) != first
    finally:
        oauth_provider.lifetime_s = 3600


def test_a_rotated_refresh_token_is_written_back_and_used_for_the_next_refresh(mailbox, oauth_provider):
    client = OAuthClient(f"{oauth_provider.url}/token", oauth_provider.client_id)
    original = oauth_provider.grant(mailbox.user)
    store = MemoryCredentialStore({"oauth2_refresh_token": original, "oauth2_client_secret": "client-secret"})
    oauth_provider.rotate = True
    try:
        first = access_token(client, store)
        assert original not in oauth_provider.refresh_tokens  # the provider retired it
        rotated = store.get()["oauth2_refresh_token"]
        assert rotated != original and rotated in oauth_provider.refresh_tokens
        access_token(client, store, refused=first)
        assert oauth_provider.token_requests[-1]["refresh_token"] == rotated
    finally:
        oauth_provider.rotate = False


def test_a_refused_refresh_token_fails_the_account_and_says_what_to_do(session, mailbox, oauth_account):
    account = oauth_account(refresh_token="refresh-that-was-revoked")
    mailbox.append(mail(1))

    report = poll_account(session, account.id)

    session.refresh(account)
    assert account.health == Health.FAILING
    assert "invalid_grant" in (report.error or "") and "authorise the mailbox again" in (report.error or "")
    assert subjects(session) == []


def test_an_unreachable_token_endpoint_is_temporary(mailbox):
    client = OAuthClient("http://127.0.0.1:9/token", "client", timeout_s=2)
    with pytest.raises(TransientChannelError, match="unreachable"):
        access_token(client, MemoryCredentialStore({"oauth2_refresh_token": "r"}))


def test_replies_go_out_over_smtp_with_a_refreshed_token(smtp_server, oauth_provider):
    from tests.email_channel.test_smtp_send import connector, reply

    controller, recorder = smtp_server
    recorder.oauth_tokens = oauth_provider.active
    refresh = oauth_provider.grant("support@lampworks.example")
    sender = connector(
        controller,
        smtp_password=None,
        oauth2_token_url=f"{oauth_provider.url}/token",
        oauth2_client_id=oauth_provider.client_id,
    )
    sender.credentials.update(
        {
            "oauth2_refresh_token": refresh,
            "oauth2_client_secret": oauth_provider.client_secret,
            "password": None,
            "smtp_password": None,
        }
    )

    result = sender.send_reply(reply())

    assert result.external_id and len(recorder.received) == 1
    assert oauth_provider.token_requests[-1]["refresh_token"] == refresh
