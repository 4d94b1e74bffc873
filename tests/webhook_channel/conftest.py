"""The integration every test here posts as: a webhook channel with a key id and a sealed signing secret."""

from __future__ import annotations

from typing import Any

import pytest

from helpdesk.channelaccounts.services import AccountInput, create_account
from tests.webhook_channel.signed import SECRET


@pytest.fixture
def erp(session: Any) -> Any:
    account = create_account(
        session,
        AccountInput(kind="webhook", name="erp", settings={"key_id": "erp-main"}, secrets={"signing_secret": SECRET}),
    )
    session.commit()
    return account
