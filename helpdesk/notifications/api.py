"""``/api/v1/notifications``: a token's own notifications, for integrations (a desktop notifier, a chat bot)."""

from __future__ import annotations

from flask import g, jsonify, request
from werkzeug.wrappers import Response

from helpdesk.api.auth import api_auth
from helpdesk.api.views import bp
from helpdesk.extensions import db
from helpdesk.notifications import services


@bp.get("/notifications")
@api_auth()
def list_notifications() -> Response:
    """Newest first, 50 a page (``before=<id>`` for the next); ``unread=1`` for unread ones only."""
    user = g.api_user
    items = services.recent(
        db.session, user, before_id=request.args.get("before", type=int), unread_only=request.args.get("unread") == "1"
    )
    return jsonify(
        unread=services.unread_count(db.session, user.id),
        notifications=[
            {
                "id": i.notification.id,
                "kind": i.notification.kind,
                "ticket_id": i.notification.ticket_id,
                "ticket_subject": i.subject,
                "ticket_visible": i.visible,
                "message_id": i.notification.message_id,
                "actor": i.actor_name,
                "data": i.notification.data,
                "created_at": i.notification.created_at.isoformat(),
                "read": i.notification.read_at is not None,
            }
            for i in items
        ],
        next_before=items[-1].notification.id if len(items) == services.PAGE else None,
    )
