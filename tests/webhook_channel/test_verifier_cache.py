"""Opened signing secrets are kept per process, but a change to the account counts from the next delivery.

Each test first posts once, so the account's configuration is in the cache
when the change is made (SQLite and PostgreSQL).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from helpdesk import crypto
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.channelaccounts.services import update_account
from tests.webhook_channel.signed import delivery, post

NEW_SECRET = "rotated-signing-secret-9876543210"


def _warm(client: Any) -> None:
    assert post(client, delivery(external_id="warm-up")).status_code == 201


def test_a_rotated_secret_counts_from_the_next_delivery(client, session, erp):
    _warm(client)
    update_account(session, erp, secrets={"signing_secret": NEW_SECRET})
    session.commit()
    assert post(client, delivery(external_id="old")).status_code == 401
    assert post(client, delivery(external_id="new"), secret=NEW_SECRET).status_code == 201


def test_a_disabled_account_is_refused_at_once(client, session, erp):
    _warm(client)
    update_account(session, erp, enabled=False)
    session.commit()
    response = post(client, delivery(external_id="after"))
    assert response.status_code == 401 and response.json["error"]["code"] == "unknown_key"


def test_a_changed_key_id_counts_from_the_next_delivery(client, session, erp):
    _warm(client)
    update_account(session, erp, settings={"key_id": "erp-renamed"})
    session.commit()
    assert post(client, delivery(external_id="old-key")).status_code == 401
    assert post(client, delivery(external_id="new-key"), key_id="erp-renamed").status_code == 201


def test_a_secret_rotated_by_another_process_counts_too(app, client, session, erp):
    """Another process (the CLI, a second web server) writes the row; nothing tells this one."""
    _warm(client)
    from helpdesk.extensions import db

    with app.app_context():
        sealed = crypto.seal({"signing_secret": NEW_SECRET})
    with db.engine.begin() as conn:
        table = ChannelAccount.__table__
        conn.execute(sa.update(table).where(table.c.id == erp.id).values(secrets_sealed=sealed))
    assert post(client, delivery(external_id="old")).status_code == 401
    assert post(client, delivery(external_id="new"), secret=NEW_SECRET).status_code == 201


def test_an_unchanged_account_is_not_opened_again(client, session, erp, monkeypatch):
    _warm(client)
    opened: list[str | None] = []
    real = crypto.unseal

    def counting(token: str | None, box: Any = None) -> dict[str, str]:
        opened.append(token)
        return real(token, box)

    monkeypatch.setattr(crypto, "unseal", counting)
    for n in range(3):
        assert post(client, delivery(external_id=f"cached-{n}")).status_code == 201
    assert opened == []
