"""Fixtures of the fault suite: the email channel's real Dovecot (one per session), a webhook receiver, an ERP."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.email_channel.conftest import dovecot_server, email_account, mailbox, oauth_provider
from tests.faults.receiver import Receiver, receiver
from tests.webhook_channel.conftest import erp

__all__ = ["dovecot_server", "email_account", "erp", "mailbox", "oauth_provider", "subscribed"]

SECRET_ENV = "FAULTS_WEBHOOK_SECRET"  # no HELPDESK_ prefix: a forked child keeps it in its environment


@pytest.fixture
def subscribed(session: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """A receiver on loopback and an active subscription sending it every event."""
    from helpdesk.webhooks import services
    from helpdesk.webhooks.models import WebhookSubscription

    monkeypatch.setenv(SECRET_ENV, "whsec-faults")
    with receiver() as box:
        session.add(WebhookSubscription(name="erp", url=box.url, secret_env=SECRET_ENV, events=["*"]))
        session.commit()
        services.forget_cache()
        yield box
    services.forget_cache()
