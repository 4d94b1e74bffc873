"""``POST /api/v1/webhooks/tickets``: an ERP or shop back-end posts a buyer message.

No session and no CSRF token: the caller is a system, not a signed-in user.
The connectors that take tickets (``Capability.TICKETS_IN``) verify the
signature over the raw body and say which account signed it; nothing
unverified touches the database.  A valid body goes through the same ingest
pipeline as every channel; a bad one is quarantined for replay and answered
422 with the field at fault.  An ``Idempotency-Key`` makes a retry harmless.
"""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa
from flask import Blueprint, Response
from flask import request as flask_request

from channels import registry
from channels.base import AccountConfig, Capability, ChannelError, InboundMessage, InvalidDelivery, PushRejected
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.channelaccounts.services import account_config
from helpdesk.extensions import csrf, db
from helpdesk.hooks import idempotency
from helpdesk.ingest import quarantine
from helpdesk.ingest.pipeline import ingest, take_write_lock
from helpdesk.ingest.quarantine import RawInput

log = logging.getLogger(__name__)

bp = Blueprint("webhook_in", __name__, url_prefix="/api/v1/webhooks")
csrf.exempt(bp)

MAX_BODY = 1024 * 1024


def _json(status: int, payload: dict[str, object]) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, content_type="application/json")


def _error(status: int, code: str, message: str, field: str | None = None) -> Response:
    return _json(status, {"error": {"code": code, "message": message, "field": field}})


def _verified(headers: dict[str, str], raw: bytes) -> tuple[ChannelAccount, InboundMessage | InvalidDelivery]:
    """The account whose secret signed ``raw``, with its message (or why its body is wrong); PushRejected if none."""
    kinds = [k for k in registry.kinds() if Capability.TICKETS_IN in registry.get(k).capabilities]
    accounts = db.session.scalars(
        sa.select(ChannelAccount).where(ChannelAccount.kind.in_(kinds), ChannelAccount.enabled.is_(True))
    ).all()
    by_kind: dict[str, list[AccountConfig]] = {}
    rows: dict[tuple[str, str], ChannelAccount] = {}
    for account in accounts:
        try:
            by_kind.setdefault(account.kind, []).append(account_config(account, as_loaded=True))
            rows[(account.kind, account.name)] = account
        except ChannelError as exc:  # its secret is missing: it cannot verify anything
            log.warning("ticket webhook account %s skipped: %s", account.name, exc)
    refusal = PushRejected(
        "X-Helpdesk-Key-Id names no enabled webhook account", code="unknown_key", field="X-Helpdesk-Key-Id"
    )
    for kind, configs in by_kind.items():
        try:
            config, message = registry.get(kind).receive_ticket(headers, raw, configs)
        except InvalidDelivery as bad:
            return rows[(kind, bad.account or "")], bad
        except PushRejected as exc:
            refusal = exc if exc.code != "unknown_key" else refusal
            continue
        return rows[(kind, config.name)], message
    raise refusal


def _process(
    account: ChannelAccount, outcome: InboundMessage | InvalidDelivery, raw: bytes
) -> tuple[int, dict[str, object]]:
    source = f"webhook:{account.name}"
    if isinstance(outcome, InvalidDelivery):
        item = RawInput(raw, outcome.raw_format, account.name)
        row = quarantine.add(db.session, item, source=source, reason=outcome.reason, field=outcome.field)
        message = f"{outcome}; fix it and send it again (kept as quarantine entry #{row.id})"
        return 422, {"error": {"code": "invalid_body", "message": message, "field": outcome.field}}
    result = ingest(db.session, [outcome], source=source).outcomes[0]
    if result.status == "quarantined":
        return 422, {"error": {"code": "invalid_body", "message": result.reason or "refused", "field": result.field}}
    if result.status not in ("ingested", "duplicate"):
        return 500, {"error": {"code": "internal_error", "message": "the message was not stored; send it again"}}
    status = 201 if result.status == "ingested" else 200
    return status, {"ticket_id": result.ticket_id, "message_id": result.message_id}


@bp.post("/tickets")
def receive_ticket() -> Response:
    raw = flask_request.get_data(cache=True)
    if len(raw) > MAX_BODY:
        return _error(413, "too_large", "the body is over 1 MB; send attachments by link")
    headers = {k.lower(): v for k, v in flask_request.headers.items()}
    try:
        account, outcome = _verified(headers, raw)
    except PushRejected as exc:
        log.warning("ticket webhook refused: %s", exc)
        return _error(exc.status, exc.code, str(exc), exc.field)
    key = headers.get("idempotency-key", "").strip()
    if len(key) > 255:
        return _error(400, "bad_idempotency_key", "keep the Idempotency-Key under 256 characters", "Idempotency-Key")
    # The transaction begins here, holding the ingest write lock, so the claim below is part of it: on SQLite
    # a savepoint opened outside a transaction is one, and releasing it would commit the claim on its own (a
    # request that then failed would leave its key "in progress" and refuse every retry).  One write
    # transaction per delivery, not two.
    take_write_lock(db.session)
    claim = idempotency.claim(db.session, account.id, key) if key else None
    if isinstance(claim, idempotency.Stored):
        db.session.rollback()
        return Response(claim.body, status=claim.status, content_type="application/json")
    if key and claim is None:
        db.session.rollback()
        return _error(409, "in_progress", "a delivery with this Idempotency-Key is still running; retry shortly")
    status, payload = _process(account, outcome, raw)
    text = json.dumps(payload, ensure_ascii=False)
    if status >= 500:
        db.session.rollback()
    elif claim is not None:
        idempotency.record(claim, status, text)
    db.session.commit()
    return Response(text, status=status, content_type="application/json")
