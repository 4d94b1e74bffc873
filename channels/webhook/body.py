"""The JSON an integration posts, checked by pydantic and mapped to an InboundMessage.

The models are the published contract (the API's OpenAPI document is built
from them), so they say what each field is for.  Unknown keys are refused
rather than dropped: a typo in a field name should fail loudly, not lose the
buyer's order number.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from channels.base import InboundMessage, InvalidDelivery, Party

RAW_FORMAT = "webhook-ticket"


class Buyer(BaseModel):
    """Who wrote: at least an e-mail address or the integration's own customer id."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str | None = Field(None, max_length=255, description="The buyer's id in your system.")
    # the customer record's own limits (an address can be no longer than 254 in SMTP anyway)
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str | None = Field(None, max_length=255)
    phone: str | None = Field(None, max_length=40)
    country: str | None = Field(None, min_length=2, max_length=2, description="ISO 3166-1 alpha-2.")

    @model_validator(mode="after")
    def _identified(self) -> Buyer:
        if not self.id and not self.email:
            raise ValueError("give the buyer an email or an id")
        return self


class TicketDelivery(BaseModel):
    """One buyer message; the same ``external_id`` twice is one message."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: str = Field(min_length=1, max_length=255, description="Your id of this message; unique per account.")
    thread_id: str | None = Field(None, max_length=255, description="Messages with the same thread id share a ticket.")
    buyer: Buyer
    subject: str = Field("", max_length=998)
    body: str = Field(min_length=1, max_length=200_000)
    order_number: str | None = Field(None, max_length=128)
    language: str | None = Field(None, max_length=16, description="BCP 47 tag, e.g. de or zh-Hans.")
    sent_at: AwareDatetime | None = Field(None, description="When the buyer wrote (with an offset); default: now.")


class BodyError(InvalidDelivery):
    """The body is not a valid delivery; ``field`` is the JSON path of the first problem (None: the whole body)."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(field, reason, RAW_FORMAT)


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse(raw: bytes) -> TicketDelivery:
    """Check ``raw``; BodyError names the first wrong field."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BodyError(None, "the body is not JSON; send Content-Type: application/json with a JSON object") from None
    try:
        return TicketDelivery.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise BodyError(_path(first["loc"]) or None, first["msg"]) from None


def to_message(delivery: TicketDelivery, account: str, raw: bytes) -> InboundMessage:
    """The delivery as every channel's messages look; ``raw`` is kept for quarantine replay."""
    buyer = delivery.buyer
    return InboundMessage(
        channel="webhook",
        account=account,
        platform="webhook",
        external_id=delivery.external_id,
        external_thread_id=delivery.thread_id,
        sent_at=delivery.sent_at or datetime.now(UTC),
        sender=Party(
            platform_id=buyer.id, email=buyer.email, name=buyer.name, phone=buyer.phone, country=buyer.country
        ),
        subject=delivery.subject,
        body_text=delivery.body,
        language=delivery.language,
        order_refs=(delivery.order_number,) if delivery.order_number else (),
        original=raw,
        original_format=RAW_FORMAT,
    )


def parse_raw(raw: bytes, account: str | None) -> InboundMessage:
    """Quarantine replay: the kept body, parsed again (raises while it is still wrong)."""
    if account is None:
        raise BodyError(None, "the quarantined delivery does not say which account it came to")
    return to_message(parse(raw), account, raw)
