"""A ticket from a signed webhook cannot be answered through its channel: the composer offers notes only and says so.

A reply forced past the form is kept and marked failed naming the kind, as for any channel that cannot send
(tests/tickets/test_reply.py).
"""

from __future__ import annotations

import sqlalchemy as sa

from helpdesk.tickets.models import Message
from tests.web import PASSWORD, csrf_token, fresh_globals_per_request, login  # noqa: F401 - fixture
from tests.webhook_channel.signed import delivery, post


def test_the_composer_offers_only_notes(client, session, erp, make_user):
    ticket_id = post(client, delivery()).json["ticket_id"]
    admin = make_user("admin@example.test", password=PASSWORD, role="admin")
    login(client, admin)
    page = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert 'id="no-replies"' in page and 'id="internal" checked disabled' in page
    token = csrf_token(client, f"/tickets/{ticket_id}")
    note = client.post(
        f"/tickets/{ticket_id}/reply", data={"body": "ERP says: shipped.", "internal": "1", "csrf_token": token}
    )
    assert note.status_code == 302
    sent = session.scalars(sa.select(Message).where(Message.ticket_id == ticket_id, Message.direction == "out")).all()
    assert [m.is_internal for m in sent] == [True]
