"""A server dropping the connection mid-answer: the IMAP server (the tests' real Dovecot) mid-FETCH, and a
marketplace (eBay's loopback fake) after the first bytes of a response.

A proxy in front of each passes the requests and cuts one answer part-way.
The poll records a clear, temporary error on the account; the cursor covers
only what was stored (pages before the cut), so the next poll fetches the
rest, and in the end each mail, message and order is stored once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from channels.ebay.fake import FakeEbay
from helpdesk.channelaccounts.models import ChannelAccount, Health
from helpdesk.polling.services import poll_account
from tests.email_channel.conftest import mail
from tests.faults.harness import duplicates
from tests.faults.proxy import FaultyProxy

PAGE = 3


@pytest.fixture
def proxies() -> Iterator[list[FaultyProxy]]:
    made: list[FaultyProxy] = []
    yield made
    for proxy in made:
        proxy.close()


def _count(session: Any, table: str) -> int:
    return int(session.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def test_an_imap_fetch_cut_mid_answer_keeps_the_cursor_on_stored_mail_and_the_next_poll_gets_the_rest(
    session: Any, mailbox: Any, email_account: Any, proxies: list[FaultyProxy]
) -> None:
    mails = 9
    for n in range(1, mails + 1):
        mailbox.append(mail(n, body=f"Question {n}\n" + "Padding to make the fetch long. " * 40))
    proxy = FaultyProxy((mailbox.host, mailbox.port))
    proxies.append(proxy)
    account = email_account(port=proxy.port)
    proxy.cut_answer(1500, once_client_sent=b"BODY.PEEK[]", let_through=1)  # the second page's FETCH

    cut = poll_account(session, account.id, page_size=PAGE)

    session.refresh(account)
    assert proxy.cuts == 1
    assert cut.error is not None and cut.error.startswith("temporary failure: IMAP connection lost"), cut
    assert cut.pages == 1 and cut.ingested == PAGE
    assert account.health == Health.DEGRADED and "IMAP connection lost" in (account.health_detail or "")
    assert json.loads(account.cursor or "{}")["inbox"]["uid"] == PAGE  # the stored page, not the cut one
    assert _count(session, "message") == PAGE

    again = poll_account(session, account.id, page_size=PAGE)

    session.refresh(account)
    assert again.error is None and again.ingested == mails - PAGE
    assert account.health == Health.OK
    stored = session.execute(sa.text("SELECT external_id FROM message")).scalars().all()
    assert sorted(stored) == sorted(f"buyer-{n}@example.test" for n in range(1, mails + 1))


@pytest.mark.parametrize(
    ("let_through", "after_bytes"),
    [(0, 40), (2, 40), (5, 40), (1, 200), (4, 200)],
    ids=["token-in-headers", "3rd-in-headers", "6th-in-headers", "2nd-in-body", "5th-in-body"],
)
def test_a_marketplace_answer_cut_part_way_loses_and_doubles_nothing(
    app: Any, session: Any, proxies: list[FaultyProxy], let_through: int, after_bytes: int
) -> None:
    from helpdesk.channelaccounts.services import AccountInput, create_account

    messages, orders = 9, 4
    fake = FakeEbay().start()
    try:
        fake.seed(messages=messages, orders=orders)
        proxy = FaultyProxy(("127.0.0.1", fake.port))
        proxies.append(proxy)
        settings, secrets = fake.account_settings()
        settings["base_url"] = f"http://127.0.0.1:{proxy.port}"
        account = create_account(
            session, AccountInput(kind="ebay", name="lampworks", platform="ebay", settings=settings, secrets=secrets)
        )
        session.commit()
        # the (let_through + 1)-th request's answer stops among its headers (40 bytes) or in its body (200)
        proxy.cut_answer(after_bytes, once_client_sent=b" HTTP/1.1\r\n", let_through=let_through)

        cut = poll_account(session, account.id, page_size=PAGE)

        session.refresh(account)
        assert proxy.cuts == 1
        assert cut.error is not None and cut.error.startswith("temporary failure: eBay"), cut
        assert account.health == Health.DEGRADED and account.consecutive_failures == 1
        assert account.last_success_at is None or cut.pages > 0  # no success claimed for nothing stored

        for _ in range(3):  # the next polls go on from the stored cursor (the cap is pages per poll, not records)
            report = poll_account(session, account.id, page_size=PAGE)
            assert report.error is None, report
    finally:
        fake.stop()

    session.expire_all()
    account = session.get(ChannelAccount, account.id)
    assert account.health == Health.OK
    assert _count(session, "message") == messages and _count(session, "order_record") == orders
    engine = session.get_bind()
    assert duplicates(engine, "message", "external_id") == []
    assert duplicates(engine, "order_record", "order_number") == []
