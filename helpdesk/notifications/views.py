"""The notifications page, the bell's count, mark read; the composer's @mention suggestions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.extensions import db
from helpdesk.notifications import services
from helpdesk.notifications.models import NotificationKind
from helpdesk.params import id_arg

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@login_required
def index() -> str:
    unread_only = request.args.get("unread") == "1"
    items = services.recent(db.session, current_user, before_id=id_arg(request.args, "before"), unread_only=unread_only)
    return render_template(
        "notifications/index.html",
        items=items,
        unread_only=unread_only,
        more=len(items) == services.PAGE,
        kinds=NotificationKind,
    )


@bp.get("/unread")
@login_required
def unread() -> Response:
    """The bell's number, for a page that heard of a new notification."""
    return jsonify(unread=services.unread_count(db.session, current_user.id))


@bp.post("/<int:notification_id>/open")
@login_required
def open_ticket(notification_id: int) -> Response:
    """Mark the notification read and go to what it is about: its ticket, or the webhook's or store's page.

    The page it leads to checks who may see it, as it does for everyone.
    """
    note = services.mark_read(db.session, current_user, notification_id)
    if note is None:
        abort(404)
    db.session.commit()
    if note.kind == NotificationKind.WEBHOOK_DISABLED:
        return redirect(url_for("webhookadmin.show", sub_id=note.data["webhook_id"]))
    if note.kind == NotificationKind.CHANNEL_SILENT:
        return redirect(url_for("channels.show", account_id=note.data["account_id"]))
    anchor = f"message-{note.message_id}" if note.message_id else None
    return redirect(url_for("tickets.show", ticket_id=note.ticket_id, _anchor=anchor))


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int) -> Response:
    if services.mark_read(db.session, current_user, notification_id) is None:
        abort(404)
    db.session.commit()
    return _back()


@bp.post("/read-all")
@login_required
def read_all() -> Response:
    services.mark_all_read(db.session, current_user)
    db.session.commit()
    return _back()


def _back() -> Response:
    if request.accept_mimetypes.best == "application/json":
        return jsonify(unread=services.unread_count(db.session, current_user.id))
    return redirect(url_for("notifications.index"))


@bp.app_context_processor
def _bell() -> dict[str, Any]:
    """The unread count for the nav's bell: one row read per page, never a count."""

    def bell_count() -> int:
        if not current_user.is_authenticated:
            return 0
        return services.unread_count(db.session, current_user.id)

    return {"bell_count": bell_count}
