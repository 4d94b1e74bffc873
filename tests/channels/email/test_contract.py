"""The shared connector contract, run on the e-mail connector against the fake mail server.

Twice: with a password, and with XOAUTH2 tokens refreshed at the fake's
token endpoint (the only way a mailbox's token can expire and be renewed).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from channels.email.fake import EmailFake
from helpdesk.tickets.models import Message, Ticket
from tests.channels.contract import ConnectorContract


class TestEmailContract(ConnectorContract):
    kind = "email"
    oauth = False

    @pytest.fixture
    def fake(self) -> Iterator[EmailFake]:
        with EmailFake(oauth=self.oauth) as server:
            yield server
            assert server.errors == []

    def assert_reply_wire(self, wire: dict[str, Any], text: str, ticket: Ticket) -> None:
        session = sa.orm.object_session(ticket)
        assert session is not None
        buyer = session.scalars(
            sa.select(Message).where(Message.ticket_id == ticket.id, Message.direction == "in")
        ).one()
        assert text in wire["text"]
        assert wire["in_reply_to"] == buyer.external_id and wire["references"][-1] == buyer.external_id
        assert f"[#{ticket.id}]" in wire["subject"]
        assert wire["rcpt_tos"] == [wire["to_address"]] and wire["to_address"]


class TestEmailOAuthContract(TestEmailContract):
    oauth = True
