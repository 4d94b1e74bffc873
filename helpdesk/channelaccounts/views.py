"""``/channels``: admins connect, edit, test and poll stores and mailboxes; leads see their health.

The form is generated from the connector's schema, like ``channels add``.
Secrets are typed into password fields, stored encrypted, and never sent
back to the browser: an edit shows only whether each one is stored (or
read from an environment variable) and keeps it when the field is left empty.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from channels import registry
from channels.base import Connector
from channels.schema import FieldType
from helpdesk.accounts.models import Role
from helpdesk.channelaccounts.diagnosis import explain
from helpdesk.channelaccounts.health import summarise
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.channelaccounts.services import (
    AccountError,
    AccountInput,
    create_account,
    diagnose_account,
    secret_status,
    update_account,
)
from helpdesk.extensions import db
from helpdesk.params import BadParameter, parse_int

bp = Blueprint("channels", __name__, url_prefix="/channels")


def _require_lead() -> None:
    if not current_user.sees_everything:
        abort(404)


def _require_admin() -> None:
    if current_user.role != Role.ADMIN:
        abort(404)


def _settings() -> Any:
    return current_app.config["HELPDESK_SETTINGS"]


def _kinds() -> list[tuple[str, type[Connector]]]:
    return [(kind, registry.get(kind)) for kind in registry.kinds()]


def _hook_url(kind: str) -> str:
    base = _settings().public_url or request.host_url.rstrip("/")
    return f"{base}/hooks/{kind}"


@bp.get("/")
@login_required
def index() -> str:
    _require_lead()
    accounts = list(db.session.scalars(sa.select(ChannelAccount).order_by(ChannelAccount.display_name)))
    rows = summarise(db.session, accounts, _settings().poll_interval_s)
    return render_template("channels/index.html", rows=rows, kinds=_kinds(), admin=current_user.role == Role.ADMIN)


def _form_input(cls: type[Connector], kind: str, name: str) -> tuple[AccountInput, dict[str, str]]:
    form = request.form
    settings: dict[str, object] = {}
    for f in cls.schema.settings_fields:
        key = f"setting__{f.name}"
        if f.type is FieldType.BOOL:
            settings[f.name] = key in form
        elif form.get(key, "").strip() != "":
            settings[f.name] = form[key]
    secrets = {f.name: form.get(f"secret__{f.name}", "") for f in cls.schema.secret_fields}
    refs = {
        f.name: form[f"secretenv__{f.name}"].strip()
        for f in cls.schema.secret_fields
        if form.get(f"secretenv__{f.name}", "").strip()
    }
    interval = form.get("poll_interval_s", "").strip()
    given = AccountInput(
        kind=kind,
        name=name,
        display_name=form.get("display_name", "").strip() or None,
        platform=form.get("platform") or None,
        site=form.get("site", "").strip() or None,
        language=form.get("language", "").strip() or None,
        timezone=form.get("timezone", "").strip() or None,
        settings=settings,
        secrets={k: v for k, v in secrets.items() if v},
        secret_refs=refs,
        poll_interval_s=_poll_interval(interval),
    )
    return given, refs


#: A week: an account polled less often than that is not being polled.
MAX_POLL_INTERVAL_S = 7 * 24 * 3600


def _poll_interval(raw: str) -> int | None:
    """The form's seconds between polls (empty: the connector's default); a bad number is the form's error."""
    try:
        return parse_int("poll_interval_s", raw, lo=1, hi=MAX_POLL_INTERVAL_S)
    except BadParameter:
        raise AccountError(
            _("Seconds between polls"), _("a whole number from 1 to %(max)d", max=MAX_POLL_INTERVAL_S)
        ) from None


def _field_error(cls: type[Connector], exc: AccountError) -> str:
    f = cls.schema.get(exc.field)
    label = f.label if f is not None else exc.field
    return _("%(field)s: %(message)s", field=label, message=exc.reason)


@bp.route("/new/<kind>", methods=["GET", "POST"])
@login_required
def new(kind: str) -> str | Response:
    _require_admin()
    try:
        cls = registry.get(kind)
    except KeyError:
        abort(404)
    if request.method == "POST":
        try:
            given, _refs = _form_input(cls, kind, request.form.get("name", "").strip())
            account = create_account(db.session, given)
        except AccountError as exc:
            db.session.rollback()
            flash(_field_error(cls, exc), "error")
        else:
            db.session.commit()
            flash(_("Account %(name)s added. Test the connection now.", name=account.name), "success")
            return redirect(url_for("channels.show", account_id=account.id))
    return render_template(
        "channels/form.html", cls=cls, kind=kind, account=None, values=request.form, status={}, hook_url=None
    )


def _values(account: ChannelAccount) -> dict[str, Any]:
    values: dict[str, Any] = {f"setting__{k}": v for k, v in (account.settings or {}).items()}
    values.update(
        name=account.name,
        display_name=account.display_name,
        platform=account.platform or "none",
        site=account.site or "",
        language=account.default_language or "",
        timezone=account.timezone,
        poll_interval_s=account.poll_interval_s or "",
    )
    values.update({f"secretenv__{k}": v for k, v in (account.secret_refs or {}).items()})
    return values


@bp.route("/<int:account_id>", methods=["GET", "POST"])
@login_required
def show(account_id: int) -> str | Response:
    _require_lead()
    account = db.session.get(ChannelAccount, account_id) or abort(404)
    cls = registry.get(account.kind)
    if request.method == "POST":
        _require_admin()
        forget = tuple(f.name for f in cls.schema.secret_fields if request.form.get(f"forget__{f.name}"))
        try:
            given, refs = _form_input(cls, account.kind, account.name)
            update_account(
                db.session,
                account,
                settings=given.settings,
                secrets=given.secrets,
                secret_refs={r: v for r, v in refs.items() if (account.secret_refs or {}).get(r) != v},
                forget_secrets=forget,
                display_name=given.display_name or account.name,
                platform=given.platform,
                site=given.site,
                default_language=given.language,
                timezone=given.timezone or "UTC",
                poll_interval_s=given.poll_interval_s,
            )
        except AccountError as exc:
            db.session.rollback()
            flash(_field_error(cls, exc), "error")
            return render_template(
                "channels/form.html",
                cls=cls,
                kind=account.kind,
                account=account,
                values=request.form,
                status=secret_status(account),
                hook_url=_hook_url(account.kind),
            )
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("channels.show", account_id=account.id))
    health = summarise(db.session, [account], _settings().poll_interval_s)[0]
    return render_template(
        "channels/form.html",
        cls=cls,
        kind=account.kind,
        account=account,
        values=_values(account),
        status=secret_status(account),
        health=health,
        hook_url=_hook_url(account.kind),
        admin=current_user.role == Role.ADMIN,
    )


@bp.post("/<int:account_id>/test")
@login_required
def test(account_id: int) -> str:
    _require_admin()
    account = db.session.get(ChannelAccount, account_id) or abort(404)
    diagnosis = diagnose_account(account)
    db.session.rollback()
    return render_template(
        "channels/diagnosis.html", account=account, diagnosis=diagnosis, verdict=explain(diagnosis.code)
    )


@bp.post("/<int:account_id>/poll")
@login_required
def poll_now(account_id: int) -> Response:
    _require_admin()
    account = db.session.get(ChannelAccount, account_id) or abort(404)
    from helpdesk.polling.tasks import poll_soon_task

    poll_soon_task(account.id)
    flash(_("A poll of %(name)s is queued; new records appear in the inbox as they arrive.", name=account.name), "info")
    return redirect(url_for("channels.index"))


@bp.post("/<int:account_id>/enabled")
@login_required
def set_enabled(account_id: int) -> Response:
    _require_admin()
    account = db.session.get(ChannelAccount, account_id) or abort(404)
    account.enabled = request.form.get("enabled") == "1"
    if account.enabled:
        account.next_poll_at = None
    db.session.commit()
    flash(
        _("%(name)s enabled.", name=account.name) if account.enabled else _("%(name)s disabled.", name=account.name),
        "info",
    )
    return redirect(url_for("channels.index"))
