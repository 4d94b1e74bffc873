"""A sandbox connector for the demo stores: replies are accepted, nothing leaves the machine.

The demo loads stores of many platforms without credentials.  Their
accounts use this kind so an agent trying the inbox sees a reply go through
queued → sent, while no marketplace or mail server is contacted.
"""

from __future__ import annotations

from datetime import UTC, datetime

from channels.base import Capability, Connector, Diagnosis, DiagnosisCode, FetchResult, OutboundReply, SendResult
from channels.registry import register
from channels.schema import ConfigSchema, Field


@register
class DemoConnector(Connector):
    """Reads nothing and accepts every reply."""

    kind = "demo"
    title = "Demo sandbox"
    schema = ConfigSchema((Field("demo", "Demo", help="Nothing to configure."),))
    capabilities = frozenset({Capability.FETCH_MESSAGES, Capability.SEND_REPLY, Capability.HTML_OUT})

    def fetch(self, cursor: str | None, limit: int = 500) -> FetchResult:
        return FetchResult(messages=[], cursor=cursor, more=False)

    def check_connection(self) -> Diagnosis:
        return Diagnosis(DiagnosisCode.OK, "the sandbox accepts everything")

    def send_reply(self, reply: OutboundReply) -> SendResult:
        return SendResult(external_id=f"demo-{reply.message_id}", sent_at=datetime.now(UTC))
