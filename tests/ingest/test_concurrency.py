"""Two workers ingesting the same messages at the same moment store each message once, and neither fails."""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from helpdesk.customers.models import CustomerIdentity
from helpdesk.demo.synthetic import add_store_accounts, stream
from helpdesk.ingest.pipeline import ingest
from helpdesk.tickets.models import Message


def test_concurrent_batches_of_the_same_stream_store_it_once(app: Any, session: Any) -> None:
    from helpdesk.extensions import db

    add_store_accounts(session)
    session.commit()
    messages = list(stream(600, seed=5, reply_share=0.3, customers=150))
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def worker(order: int) -> None:
        ordered = messages if order == 0 else list(reversed(messages))
        with app.app_context(), Session(db.engine) as own:
            barrier.wait()
            try:
                for start in range(0, len(ordered), 100):
                    ingest(own, ordered[start : start + 100], source=f"worker-{order}")
                    own.commit()
            except BaseException as exc:  # the assertion below reports it
                errors.append(exc)
                own.rollback()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    barrier.wait()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == len(messages)
    identities = session.execute(sa.select(CustomerIdentity.scheme, CustomerIdentity.value)).all()
    assert len(identities) == len(set(identities))
