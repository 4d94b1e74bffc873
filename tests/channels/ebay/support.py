"""Helpers for the eBay connector's tests: named payload files and draining a connector."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from channels.base import FetchResult, InboundMessage, OutboundReply
from channels.ebay.connector import EbayConnector

DATA = Path(__file__).resolve().parents[2] / "data" / "ebay"


def data(name: str) -> bytes:
    return (DATA / name).read_bytes()


def data_json(name: str) -> Any:
    return json.loads(data(name))


def drain(
    connector: EbayConnector, cursor: str | None = None, limit: int = 500, cap: int = 50
) -> tuple[list[FetchResult], str | None]:
    """Fetch pages until the connector has no more; every page, and the last cursor."""
    pages = []
    for _ in range(cap):
        page = connector.fetch(cursor, limit)
        pages.append(page)
        cursor = page.cursor
        if not page.more:
            return pages, cursor
    raise AssertionError(f"still more after {cap} pages")


def reply_to(message: InboundMessage, text: str, message_id: int = 1) -> OutboundReply:
    """The reply an agent writes on ``message``'s ticket, as the helpdesk hands it to the connector."""
    return OutboundReply(
        message_id=message_id,
        ticket_id=1,
        account=message.account,
        to=message.sender,
        body_text=text,
        external_thread_id=message.external_thread_id,
        in_reply_to=message.external_id,
        thread_meta=message.meta,
    )
