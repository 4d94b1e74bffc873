"""A platform notification's receipt commits with what it carried, or not at all."""

from __future__ import annotations

from typing import Any

from channels.base import PushResult
from helpdesk.hooks.services import accept


def test_a_rolled_back_delivery_is_not_remembered(session: Any) -> None:
    """On SQLite the receipt's savepoint used to commit it on its own: a delivery whose storing failed
    afterwards was then refused as a duplicate when the platform sent it again, and its data was lost."""
    result = PushResult(dedupe_key="delivery-1")
    assert not accept(session, "ebay", result).duplicate
    session.rollback()  # storing what it carried failed
    assert not accept(session, "ebay", result).duplicate  # the retry is processed
    session.commit()
    assert accept(session, "ebay", result).duplicate  # once it committed, a replay changes nothing
    session.rollback()
