"""The outbound webhook events' bodies, one pydantic model per event, for the document's ``webhooks`` section.

Every delivery is ``{"event", "delivery_id", "data"}``; ``data`` is the
event's payload exactly as the desk publishes it (see
``helpdesk.events.CATALOGUE``).  A test produces each event through the real
actions and validates what was published against these models, so the
document cannot drift from what receivers get.  Fields may be added to a
payload over time; receivers should ignore the ones they do not know.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from helpdesk.api.spec import webhook_event

#: Payload model of each event, by name (the ``data`` member of the body).
PAYLOADS: dict[str, type[BaseModel]] = {}


class TicketRef(BaseModel):
    """What every ticket event carries: which ticket, and where it lives (for routing on the receiver's side)."""

    ticket_id: int
    channel_account_id: int = Field(description="the store or mailbox the ticket came in on")
    team_id: int | None = Field(description="the team that serves that store; null if none does")


class TicketCreatedData(TicketRef):
    customer_id: int | None
    status: str = Field(description="`new`, `open`, `pending`, `solved` or `closed`")
    platform: str | None
    subject: str


class TicketUpdatedData(TicketRef):
    changes: dict[str, Any] = Field(
        description="field → new value, e.g. `status`, `priority`, `assignee_id`, `tags`, `merged_into_id`"
    )
    actor_id: int | None = Field(None, description="the user who changed it; absent for the desk's own changes")


class TicketReopenedData(TicketRef):
    pass


class MessageReceivedData(BaseModel):
    ticket_id: int | None
    message_id: int
    channel_account_id: int
    team_id: int | None
    direction: Literal["in", "out"] = Field(description="`out`: a reply sent from the marketplace's own site")
    auto: str | None = Field(description="`auto_reply`, `bounce` or `notification` for machine-written mail")


class MessageCreatedData(TicketRef):
    message_id: int
    direction: Literal["out"]
    is_internal: bool = Field(description="an internal note, never sent to the buyer")
    author_id: int


class MessageDeliveryData(TicketRef):
    message_id: int
    state: str = Field(description="`queued`, `sending`, `sent` or `failed`")
    error: str | None = Field(description="why the platform refused it, when it failed")


class MessageTranslatedData(TicketRef):
    message_id: int
    translation_id: int
    target: str = Field(description="the language translated into, e.g. `zh`")
    provider: str = Field(description="`libretranslate`, `deepl` or `openai`")
    status: str = Field(description="`done` or `failed` (retries in between are not announced)")


class CustomerCreatedData(BaseModel):
    customer_ids: list[int] = Field(description="every customer one batch created")


class CustomerMergedData(BaseModel):
    customer_id: int = Field(description="the customer kept")
    merged_id: int = Field(description="the customer merged into it, which no longer exists")


class SuggestionRejectedData(BaseModel):
    suggestion_id: int
    customer_id: int
    candidate_id: int
    actor_id: int | None = Field(description="null when the desk decided")


class SuggestionAcceptedData(SuggestionRejectedData):
    kept_id: int
    merged_id: int
    score: float
    via: str | None = Field(None, description="what accepted it, when not a person")


class OrderUpdatedData(BaseModel):
    order_id: int
    channel_account_id: int
    order_number: str


class ChannelHealthData(BaseModel):
    channel_account_id: int
    health: str = Field(description="`ok`, `degraded`, `failing` or `unknown`")
    detail: str | None = Field(description="the failure in words")


class InputQuarantinedData(BaseModel):
    quarantine_id: int
    source: str
    reason: str


class SlaClockData(TicketRef):
    clock: str = Field(description="`first_response`, `next_response` or `resolution`")
    due_at: str = Field(description="ISO 8601 with offset")


class NotificationCreatedData(BaseModel):
    user_id: int
    notification_id: int
    kind: str = Field(description="`mention`, `assigned`, `sla_warning` or `sla_breached`")
    ticket_id: int


class NotificationReadData(BaseModel):
    user_id: int
    unread: int = Field(description="the person's unread count after the change")


def _event(name: str, data: type[BaseModel], description: str) -> None:
    """Register the body of ``name``: the envelope every delivery has, around ``data``."""
    title = "".join(part.capitalize() for part in name.replace("_", ".").split(".")) + "Event"
    envelope = create_model(
        title,
        event=(Literal[name], Field(description="also sent as `X-Helpdesk-Event`")),  # type: ignore[valid-type]
        delivery_id=(int, Field(description="also sent as `X-Helpdesk-Delivery`; the same on retries: dedupe on it")),
        data=(data, ...),
        __doc__=description,
    )
    webhook_event(name, description)(envelope)
    PAYLOADS[name] = data


_event("ticket.created", TicketCreatedData, "A ticket was created from a buyer's message (or an integration).")
_event("ticket.updated", TicketUpdatedData, "A ticket changed: status, priority, assignee, tags, merge, order.")
_event("ticket.reopened", TicketReopenedData, "A buyer wrote again on a solved or closed ticket.")
_event("message.received", MessageReceivedData, "A message arrived from a channel.")
_event("message.created", MessageCreatedData, "An agent wrote a reply or an internal note.")
_event("message.delivery", MessageDeliveryData, "A reply's delivery to the marketplace moved on (sent or failed).")
_event("message.translated", MessageTranslatedData, "A machine translation of a message is ready, or failed for good.")
_event("customer.created", CustomerCreatedData, "New customers were recorded.")
_event("customer.merged", CustomerMergedData, "Two customers were merged into one.")
_event("customer.suggestion_accepted", SuggestionAcceptedData, "A suggested customer merge was accepted.")
_event("customer.suggestion_rejected", SuggestionRejectedData, "A suggested customer merge was rejected.")
_event("order.updated", OrderUpdatedData, "An order was stored or changed.")
_event("channel.health", ChannelHealthData, "A store's or mailbox's connection health changed.")
_event("input.quarantined", InputQuarantinedData, "Input that could not be processed was set aside for review.")
_event("sla.warning", SlaClockData, "An SLA clock reached its warning share.")
_event("sla.breached", SlaClockData, "An SLA clock ran out.")
_event("notification.created", NotificationCreatedData, "A person got a notification (mention, assignment, SLA).")
_event("notification.read", NotificationReadData, "A person read notifications.")
