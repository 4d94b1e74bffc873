"""Helpers for the eBay connector's tests: named payload files and draining a connector."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from channels.base import FetchResult
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
