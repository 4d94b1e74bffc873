"""``/admin/webhooks``: admins subscribe integrations to events, pause or delete them, and read recent deliveries."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.admin.access import admins_only
from helpdesk.admin.sections import Section, add_section
from helpdesk.events import CATALOGUE
from helpdesk.extensions import db
from helpdesk.webhooks import subscriptions as subs
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription

bp = Blueprint("webhookadmin", __name__, url_prefix="/admin/webhooks")

add_section(
    Section(
        "webhookadmin.index",
        _l("Outbound webhooks"),
        _l("Signed HTTP calls to your systems when tickets and messages change, with each delivery's outcome."),
        order=70,
    )
)


bp.before_request(admins_only)


def _index(values: dict[str, object], status: int = 200) -> tuple[str, int]:
    rows = list(db.session.scalars(sa.select(WebhookSubscription).order_by(WebhookSubscription.name)))
    return (
        render_template(
            "admin/webhooks.html",
            rows=rows,
            counts=subs.status_counts(db.session),
            catalogue=sorted(CATALOGUE.items()),
            values=values,
        ),
        status,
    )


@bp.get("/")
@login_required
def index() -> tuple[str, int]:
    return _index({"events": []})


@bp.post("/")
@login_required
def create() -> tuple[str, int] | Response:
    form = request.form
    try:
        sub = subs.subscribe(
            db.session,
            current_user,
            name=form.get("name", ""),
            url=form.get("url", ""),
            events=form.getlist("events"),
            secret_env=form.get("secret_env", ""),
        )
    except subs.WebhookInvalid as exc:
        db.session.rollback()
        flash(str(exc.args[0]), "error")
        return _index({**form.to_dict(), "events": form.getlist("events")}, 422)
    db.session.commit()
    flash(
        _(
            "Webhook %(name)s subscribed. Set %(env)s to the signing secret for every worker process.",
            name=sub.name,
            env=sub.secret_env,
        ),
        "success",
    )
    return redirect(url_for("webhookadmin.show", sub_id=sub.id))


def _sub(sub_id: int) -> WebhookSubscription:
    return db.session.get(WebhookSubscription, sub_id) or abort(404)


@bp.get("/<int:sub_id>")
@login_required
def show(sub_id: int) -> str:
    sub = _sub(sub_id)
    deliveries = subs.recent_deliveries(db.session, sub)
    return render_template(
        "admin/webhook.html", sub=sub, deliveries=deliveries, attempts=subs.attempts_of(db.session, deliveries)
    )


@bp.post("/<int:sub_id>/deliveries/<int:delivery_id>/retry")
@login_required
def retry(sub_id: int, delivery_id: int) -> Response:
    from helpdesk.webhooks.tasks import deliver_task

    sub = _sub(sub_id)
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription_id != sub.id:
        abort(404)
    try:
        subs.retry(db.session, current_user, delivery)
    except subs.NotRetryable as exc:
        db.session.rollback()
        flash(str(exc.args[0]), "error")
        return redirect(url_for("webhookadmin.show", sub_id=sub.id))
    db.session.commit()
    deliver_task(delivery.id)
    flash(_("Delivery %(id)s queued again; its new attempt appears below.", id=delivery.id), "success")
    return redirect(url_for("webhookadmin.show", sub_id=sub.id))


@bp.post("/<int:sub_id>/active")
@login_required
def set_active(sub_id: int) -> Response:
    sub = _sub(sub_id)
    active = request.form.get("active") == "1"
    subs.set_active(db.session, current_user, sub, active)
    db.session.commit()
    flash(
        _("Webhook %(name)s enabled.", name=sub.name) if active else _("Webhook %(name)s disabled.", name=sub.name),
        "success",
    )
    return redirect(url_for("webhookadmin.show", sub_id=sub.id))


@bp.route("/<int:sub_id>/delete", methods=["GET", "POST"])
@login_required
def delete(sub_id: int) -> str | Response:
    sub = _sub(sub_id)
    if request.method == "GET":
        return render_template("admin/webhook_delete.html", sub=sub)
    name = sub.name
    subs.delete(db.session, current_user, sub)
    db.session.commit()
    flash(_("Webhook %(name)s deleted.", name=name), "success")
    return redirect(url_for("webhookadmin.index"))
