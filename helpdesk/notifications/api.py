"""``/api/v1/notifications``: a token's own notifications, for integrations (a desktop notifier, a chat bot)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g, request
from pydantic import BaseModel, Field

from helpdesk import MAX_ID
from helpdesk.api.auth import api_auth
from helpdesk.api.spec import ApiModel, api_spec, responses
from helpdesk.api.views import bp
from helpdesk.extensions import db
from helpdesk.notifications import services


class NotificationQuery(ApiModel):
    before: int | None = Field(None, ge=0, le=MAX_ID, description="the `next_before` of the page before")
    unread: bool = Field(False, description="`1`: unread ones only")


class NotificationOut(BaseModel):
    id: int
    kind: str = Field(
        description="`mention`, `assigned`, `sla_warning`, `sla_breached`, or (admins) `webhook_disabled`"
    )
    ticket_id: int | None = Field(
        description="null for a notice about no ticket (`webhook_disabled`: `data` names the webhook, URL and error)"
    )
    ticket_subject: str = Field(description="empty when the ticket is no longer visible to you")
    ticket_visible: bool = Field(description="false when the ticket moved to a store you do not serve")
    message_id: int | None
    actor: str | None = Field(description="who caused it; null for the system")
    data: dict[str, Any]
    created_at: datetime
    read: bool


class NotificationList(BaseModel):
    unread: int = Field(description="how many of yours are unread, all pages")
    notifications: list[NotificationOut]
    next_before: int | None = Field(description="pass as `before` for the next page; null on the last")


@bp.get("/notifications")
@api_auth()
@api_spec.validate(query=NotificationQuery, resp=responses(400, HTTP_200=NotificationList), tags=["notifications"])
def list_notifications() -> NotificationList:
    """Your notifications, newest first, 50 a page (`before` for the next); `unread=1` for unread ones only."""
    query: NotificationQuery = request.context.query  # type: ignore[attr-defined]
    user = g.api_user
    items = services.recent(db.session, user, before_id=query.before, unread_only=query.unread)
    body = NotificationList(
        unread=services.unread_count(db.session, user.id),
        notifications=[
            NotificationOut(
                id=i.notification.id,
                kind=i.notification.kind,
                ticket_id=i.notification.ticket_id,
                ticket_subject=i.subject,
                ticket_visible=i.visible,
                message_id=i.notification.message_id,
                actor=i.actor_name,
                data=i.notification.data,
                created_at=i.notification.created_at,
                read=i.notification.read_at is not None,
            )
            for i in items
        ],
        next_before=items[-1].notification.id if len(items) == services.PAGE else None,
    )
    db.session.commit()  # last_used_at of the token
    return body
