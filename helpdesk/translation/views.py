"""``/admin/translation``: admins choose the translation service, test it, watch the month's usage, edit glossaries."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.admin.access import admins_only
from helpdesk.admin.sections import Section, add_section
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.extensions import db
from helpdesk.translation import configuration, glossary, registry, usage
from helpdesk.translation.models import TranslationProvider

bp = Blueprint("translationadmin", __name__, url_prefix="/admin/translation")
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "translation.md"

add_section(
    Section(
        "translationadmin.index",
        _l("Translation"),
        _l("The machine translation service, its key and monthly cap, usage, and each store's protected names."),
        order=65,
    )
)


bp.before_request(admins_only)


def _stores() -> list[ChannelAccount]:
    return list(db.session.scalars(sa.select(ChannelAccount).order_by(ChannelAccount.name)))


def _page(values: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    active = configuration.active(db.session)
    rows = {r.kind: r for r in db.session.scalars(sa.select(TranslationProvider))}
    kind = request.args.get("kind") or (values or {}).get("kind") or (active.kind if active else "libretranslate")
    if kind not in registry.PROVIDERS:
        kind = "libretranslate"
    row = rows.get(kind)
    stores = _stores()
    store = next((s for s in stores if str(s.id) == request.args.get("store")), stores[0] if stores else None)
    shown = values or {
        "kind": kind,
        "base_url": row.base_url if row else "",
        "model": row.model if row else "",
        "cap": str(row.monthly_char_cap) if row and row.monthly_char_cap else "",
    }
    return (
        render_template(
            "admin/translation.html",
            active=active,
            providers=registry.PROVIDERS,
            kind=kind,
            row=row,
            has_key=bool(row and configuration.has_key(row)),
            values=shown,
            usage=usage.this_month(db.session),
            month=usage.month_of(),
            stores=stores,
            store=store,
            terms=glossary.terms(db.session, store.id) if store else [],
            docs=configuration.DOCS,
        ),
        status,
    )


@bp.get("/")
@login_required
def index() -> tuple[str, int]:
    return _page()


def _cap(raw: str) -> int | None:
    raw = raw.strip().replace(",", "").replace("_", "")
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):  # "²" is a digit to isdigit(), not to int()
        raise configuration.ConfigInvalid(
            _("The monthly cap must be a positive number of characters, or empty for no cap.")
        )
    return int(raw)


@bp.post("/")
@login_required
def save() -> tuple[str, int] | Response:
    form = request.form
    try:
        row = configuration.configure(
            db.session,
            current_user,
            kind=form.get("kind", ""),
            base_url=form.get("base_url", ""),
            api_key=form.get("api_key") or None,
            clear_key=form.get("clear_key") == "1",
            model=form.get("model", ""),
            monthly_char_cap=_cap(form.get("cap", "")),
            activate=form.get("activate") == "1",  # an unticked box is absent from the form
        )
    except configuration.ConfigInvalid as exc:
        db.session.rollback()
        flash(str(exc), "error")
        values = {k: form.get(k, "") for k in ("kind", "base_url", "model", "cap")}  # never the key
        return _page(values, 422)
    db.session.commit()
    flash(
        _("%(service)s saved. Test the connection to make sure translations work.", service=_label(row.kind)),
        "success",
    )
    return redirect(url_for("translationadmin.index", kind=row.kind))


def _label(kind: str) -> str:
    return registry.PROVIDERS[kind].label


@bp.post("/test")
@login_required
def test() -> Response:
    kind = request.form.get("kind", "")
    row = configuration.by_kind(db.session, kind) if kind else configuration.active(db.session)
    if row is None:
        flash(_("Save the settings first, then test them."), "error")
        return redirect(url_for("translationadmin.index", kind=kind or None))
    diagnosis = configuration.check_connection(db.session, row)
    db.session.commit()
    flash(f"{diagnosis.summary} {diagnosis.detail}".strip(), "success" if diagnosis.ok else "error")
    return redirect(url_for("translationadmin.index", kind=row.kind))


@bp.post("/off")
@login_required
def off() -> Response:
    row = configuration.deactivate(db.session, current_user)
    db.session.commit()
    if row is not None:
        flash(_("Translation is off. The settings of %(service)s are kept.", service=_label(row.kind)), "success")
    return redirect(url_for("translationadmin.index"))


def _store(store_id: int) -> ChannelAccount:
    return db.session.get(ChannelAccount, store_id) or abort(404)


@bp.post("/glossary/<int:store_id>")
@login_required
def add_terms(store_id: int) -> Response:
    store = _store(store_id)
    try:
        added = glossary.add_terms(db.session, current_user, store, request.form.get("terms", ""))
    except glossary.GlossaryInvalid as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("translationadmin.index", store=store.id, _anchor="glossary"))
    db.session.commit()
    if added:
        flash(
            _("Added to the glossary of %(store)s: %(terms)s", store=store.display_name, terms=", ".join(added)),
            "success",
        )
    else:
        flash(_("Every name was already in the glossary of %(store)s.", store=store.display_name), "success")
    return redirect(url_for("translationadmin.index", store=store.id, _anchor="glossary"))


@bp.post("/glossary/<int:store_id>/<int:term_id>/delete")
@login_required
def remove_term(store_id: int, term_id: int) -> Response:
    store = _store(store_id)
    removed = glossary.remove_term(db.session, current_user, store, term_id)
    if removed is None:
        abort(404)
    db.session.commit()
    flash(_("Removed %(term)s from the glossary of %(store)s.", term=removed, store=store.display_name), "success")
    return redirect(url_for("translationadmin.index", store=store.id, _anchor="glossary"))


@bp.get("/guide")
@login_required
def guide() -> str:
    """docs/translation.md as plain text, for desks that run from a checkout (the "no provider" notice links here)."""
    if not GUIDE.is_file():
        abort(404)
    return render_template(
        "admin/translation_guide.html", text=GUIDE.read_text(encoding="utf-8"), docs=configuration.DOCS
    )
