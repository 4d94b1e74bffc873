"""``bench/webhook.py`` signs its deliveries ahead of the load: the endpoint must accept each, once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.webhook import signed_deliveries, write_requests
from helpdesk.tickets.models import Ticket
from tests.webhook_channel.signed import SECRET, URL


def test_every_line_the_load_generator_sends_makes_a_ticket(
    client: Any, session: Any, erp: Any, tmp_path: Path
) -> None:
    path = tmp_path / "requests.txt"
    assert write_requests(path, signed_deliveries(SECRET, 5, run="t")) == 5
    for line in path.read_bytes().splitlines():  # as bench/webhook.lua splits them
        signature, key, body = line.split(b"\t", 2)
        headers = {
            "X-Helpdesk-Key-Id": "erp-main",
            "X-Helpdesk-Signature": signature.decode(),
            "Idempotency-Key": key.decode(),
        }
        response = client.post(URL, data=body, headers=headers, content_type="application/json")
        assert response.status_code == 201, response.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 5
