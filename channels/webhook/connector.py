"""The ``webhook`` channel kind: one account per integration that posts tickets.

It only receives: the integration pushes each ticket to
``POST /api/v1/webhooks/tickets`` (``Capability.TICKETS_IN``); there is
nothing to fetch and no way to send a reply back, so it declares neither and
the composer offers no reply on its tickets (agents answer through e-mail or
the integration's own system).  The account's ``key_id`` says which
integration signed a delivery; its ``signing_secret`` checks the signature.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from channels.base import (
    AccountConfig,
    Capability,
    Check,
    Connector,
    Diagnosis,
    DiagnosisCode,
    FetchResult,
    InboundMessage,
    InvalidDelivery,
    PushRejected,
    RawParser,
)
from channels.registry import register
from channels.schema import ConfigSchema, Field, FieldType
from channels.webhook.body import RAW_FORMAT, parse, parse_raw, to_message
from channels.webhook.signing import SignatureError, verify

SCHEMA = ConfigSchema(
    (
        Field(
            "key_id",
            "Key id",
            FieldType.TEXT,
            "The name the integration sends in the X-Helpdesk-Key-Id header, e.g. erp-main.",
            required=True,
        ),
        Field(
            "signing_secret",
            "Signing secret",
            FieldType.SECRET,
            "A long random value shared with the integration; it signs each delivery with HMAC-SHA256.",
            required=True,
        ),
    )
)


@register
class WebhookConnector(Connector):
    kind: ClassVar[str] = "webhook"
    title: ClassVar[str] = "Signed webhook (ERP, shop back-end)"
    platforms: ClassVar[tuple[str | None, ...]] = ("webhook",)
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.TICKETS_IN})
    poll_interval_s: ClassVar[int | None] = 3600
    schema: ClassVar[ConfigSchema] = SCHEMA
    raw_formats: ClassVar[Mapping[str, RawParser]] = {RAW_FORMAT: parse_raw}

    def check_connection(self) -> Diagnosis:
        """Nothing to reach: the integration calls us.  Healthy when both the key id and the secret are set."""
        secret = self.account.secrets.get("signing_secret") or ""
        checks = [
            Check("key_id", DiagnosisCode.OK if self.account.settings.get("key_id") else DiagnosisCode.MISCONFIGURED),
            Check(
                "signing_secret",
                DiagnosisCode.OK if len(secret) >= 16 else DiagnosisCode.MISCONFIGURED,
                "" if len(secret) >= 16 else "use a secret of at least 16 characters",
            ),
        ]
        return Diagnosis.from_checks(checks, hint="Deliveries arrive at POST /api/v1/webhooks/tickets.")

    @classmethod
    def receive_ticket(
        cls, headers: Mapping[str, str], body: bytes, accounts: Sequence[AccountConfig]
    ) -> tuple[AccountConfig, InboundMessage]:
        """The account named by ``x-helpdesk-key-id`` must have signed ``body``; then the body is checked."""
        key_id = headers.get("x-helpdesk-key-id", "").strip()
        account = next((a for a in accounts if key_id and a.settings.get("key_id") == key_id), None)
        secret = account.secrets.get("signing_secret") if account is not None else None
        if account is None or not secret:
            raise PushRejected(
                "X-Helpdesk-Key-Id names no enabled webhook account; use the key id set on the channel",
                code="unknown_key",
                field="X-Helpdesk-Key-Id",
            )
        try:
            verify([secret], headers.get("x-helpdesk-signature", ""), body)
        except SignatureError as exc:
            raise PushRejected(str(exc), code="bad_signature", field="X-Helpdesk-Signature") from None
        try:
            return account, to_message(parse(body), account.name, body)
        except InvalidDelivery as exc:
            exc.account = account.name
            raise

    def fetch(self, cursor: str | None, limit: int = 500) -> FetchResult:
        """Nothing to read: every ticket is pushed.  An empty page keeps a poll from calling the account broken."""
        return FetchResult(messages=[], cursor=cursor)
