"""`make run`'s demo is real: every store polls its real connector against a loopback fake, replies leave."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk.channelaccounts.models import ChannelAccount, Health
from helpdesk.demo.live import DemoPlatforms
from helpdesk.demo.loader import load_demo
from helpdesk.orders.models import Order
from helpdesk.polling.services import poll_account
from helpdesk.tickets.models import Message, Ticket


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def platforms(app: Any, session: Any) -> Iterator[DemoPlatforms]:
    load_demo(session)
    session.commit()
    live = DemoPlatforms()
    connected = live.start(app)
    assert len(connected) == session.scalar(sa.select(sa.func.count(ChannelAccount.id)))
    yield live
    live.stop()


def poll_all(session: Any) -> None:
    for account_id in session.scalars(sa.select(ChannelAccount.id).where(ChannelAccount.enabled.is_(True))).all():
        report = poll_account(session, account_id)
        assert report.error is None, (report.account, report.error)
    session.expire_all()


def count(session: Any, model: Any, *where: Any) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0)


def test_every_demo_store_polls_its_platform_and_replies_leave(session, platforms, make_user) -> None:
    from helpdesk.tickets import services
    from helpdesk.tickets.tasks import send_reply

    messages_before = count(session, Message)
    poll_all(session)
    accounts = session.scalars(sa.select(ChannelAccount)).all()
    assert {a.health for a in accounts} == {Health.OK}, [(a.name, a.health_detail) for a in accounts]
    platforms._ebay()
    platforms._amazon_order(mail=True)
    platforms._shopify_order(mail=True)
    poll_all(session)
    assert count(session, Message) > messages_before
    assert count(session, Order, Order.synced_at.is_not(None)) > 10

    relay = session.scalars(
        sa.select(Ticket)
        .join(ChannelAccount, ChannelAccount.id == Ticket.channel_account_id)
        .where(ChannelAccount.kind == "email", Ticket.platform == "amazon", Ticket.order_id.is_not(None))
        .order_by(Ticket.id.desc())
    ).first()
    assert relay is not None, "a relay mail about a synced Amazon order is linked to it"

    agent = make_user("lead@example.test", role="lead")
    ebay_ticket = session.scalars(
        sa.select(Ticket)
        .join(ChannelAccount, ChannelAccount.id == Ticket.channel_account_id)
        .where(ChannelAccount.name == "ebay-uk", Ticket.external_thread_id.is_not(None))
        .order_by(Ticket.id.desc())
    ).first()
    for ticket, fake_name in ((ebay_ticket, "ebay-uk"), (relay, None)):
        message = services.add_reply(session, ticket, agent, "Thank you, your parcel left our warehouse today.")
        session.commit()
        send_reply(message.id)
        session.expire_all()
        sent = session.get(Message, message.id)
        assert sent.delivery_state == "sent", sent.delivery_error
        fake = platforms.fakes[fake_name or session.get(ChannelAccount, ticket.channel_account_id).name]
        assert any("parcel left our warehouse" in str(r) for r in fake.replies)
