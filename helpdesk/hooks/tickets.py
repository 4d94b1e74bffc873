"""``POST /api/v1/webhooks/tickets``: an ERP or shop back-end posts a buyer message.

No session and no CSRF token: the caller is a system, not a signed-in user.
The connectors that take tickets (``Capability.TICKETS_IN``) verify the
signature over the raw body and say which account signed it; nothing
unverified touches the database.  A valid body goes through the same ingest
pipeline as every channel; a bad one is quarantined for replay and answered
422 with the field at fault.  An ``Idempotency-Key`` makes a retry harmless.

Concurrent deliveries are stored together (:mod:`helpdesk.hooks.batcher`):
each request verifies and parses its own body, then joins the next batch,
which runs the pipeline once and commits once for all of them, and answers
each with its own status.  A batch that fails stores nothing and answers
every delivery in it 500 "send it again"; their retries are new work.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from flask import Blueprint, Flask, Response, current_app
from flask import request as flask_request
from flask.blueprints import BlueprintSetupState
from sqlalchemy.orm import Session

from channels import registry
from channels.base import Capability, InboundMessage, InvalidDelivery, PushRejected
from helpdesk.channelaccounts.verifying import Verifier, verifier_cache
from helpdesk.extensions import csrf, db
from helpdesk.hooks import idempotency
from helpdesk.hooks.batcher import GroupCommit
from helpdesk.ingest import quarantine
from helpdesk.ingest.batch import Outcome
from helpdesk.ingest.pipeline import ingest, take_write_lock
from helpdesk.ingest.quarantine import RawInput

log = logging.getLogger(__name__)

bp = Blueprint("webhook_in", __name__, url_prefix="/api/v1/webhooks")
csrf.exempt(bp)

MAX_BODY = 1024 * 1024
BATCH_LIMIT = 200  # deliveries stored in one transaction at most: keeps a batch's lock hold short
EXTENSION = "hooks.tickets.batcher"

Answer = tuple[int, str]  # HTTP status, JSON body


def _json(status: int, payload: dict[str, object]) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, content_type="application/json")


def _error(status: int, code: str, message: str, field: str | None = None) -> Response:
    return _json(status, {"error": {"code": code, "message": message, "field": field}})


def _ticket_kinds() -> list[str]:
    return [k for k in registry.kinds() if Capability.TICKETS_IN in registry.get(k).capabilities]


def _checked(
    candidates: Sequence[Verifier], headers: Mapping[str, str], raw: bytes
) -> tuple[Verifier, InboundMessage | InvalidDelivery]:
    """The account among ``candidates`` whose secret signed ``raw``, with its message (or why its body is wrong)."""
    by_kind: dict[str, list[Verifier]] = {}
    for verifier in candidates:
        by_kind.setdefault(verifier.kind, []).append(verifier)
    refusal = PushRejected(
        "X-Helpdesk-Key-Id names no enabled webhook account", code="unknown_key", field="X-Helpdesk-Key-Id"
    )
    for kind, accounts in by_kind.items():
        by_name = {v.name: v for v in accounts}
        try:
            config, message = registry.get(kind).receive_ticket(headers, raw, [v.config for v in accounts])
        except InvalidDelivery as bad:
            return by_name[bad.account or ""], bad
        except PushRejected as exc:
            refusal = exc if exc.code != "unknown_key" else refusal
            continue
        return by_name[config.name], message
    raise refusal


def _verified(headers: Mapping[str, str], raw: bytes) -> tuple[Verifier, InboundMessage | InvalidDelivery]:
    """Checked against the accounts as this process last read them, or as stored now; PushRejected if neither.

    Most deliveries pass with what the process knows and touch no database
    here; their batch confirms the accounts' stamps in its transaction
    (:func:`_rechecked`).  A refusal may come from an account changed since
    (a new one, a rotated secret), so it is only final against a fresh read.
    """
    cache = verifier_cache(current_app)
    known = cache.known(_ticket_kinds())
    if known is not None:
        try:
            return _checked(known, headers, raw)
        except PushRejected:
            pass
    return _checked(cache.enabled(db.session, _ticket_kinds()), headers, raw)


@dataclass(frozen=True)
class Delivery:
    """A verified delivery waiting for its batch: plain values, no ORM rows (the batch has its own session)."""

    account_id: int
    account_name: str
    body: InboundMessage | InvalidDelivery
    key: str  # the Idempotency-Key, "" when none was sent
    raw: bytes
    headers: Mapping[str, str]
    stamp: tuple[object, ...]  # the account's stored values its signature was checked with

    @property
    def source(self) -> str:
        return f"webhook:{self.account_name}"


def _text(payload: dict[str, object]) -> str:
    return json.dumps(payload, ensure_ascii=False)


IN_PROGRESS: Answer = (
    409,
    _text(
        {
            "error": {
                "code": "in_progress",
                "message": "a delivery with this Idempotency-Key is still running; retry shortly",
                "field": None,
            }
        }
    ),
)


def _answer(result: Outcome) -> Answer:
    if result.status == "quarantined":
        return 422, _text(
            {"error": {"code": "invalid_body", "message": result.reason or "refused", "field": result.field}}
        )
    if result.status not in ("ingested", "duplicate"):
        error = {"code": "internal_error", "message": "the message was not stored; send it again", "field": None}
        return 500, _text({"error": error})
    return (201 if result.status == "ingested" else 200), _text(
        {"ticket_id": result.ticket_id, "message_id": result.message_id}
    )


def _quarantined(session: Session, delivery: Delivery, bad: InvalidDelivery) -> Answer:
    item = RawInput(delivery.raw, bad.raw_format, delivery.account_name)
    row = quarantine.add(session, item, source=delivery.source, reason=bad.reason, field=bad.field)
    message = f"{bad}; fix it and send it again (kept as quarantine entry #{row.id})"
    return 422, _text({"error": {"code": "invalid_body", "message": message, "field": bad.field}})


def _rechecked(session: Session, deliveries: Sequence[Delivery]) -> tuple[list[Delivery], dict[int, Answer]]:
    """The deliveries as verified against the accounts as stored now, in ``session``'s transaction; and refusals.

    One statement for the batch.  A delivery whose account changed since its
    request checked it (disabled, its key id or secret changed) is checked
    again: it may now belong to nobody (refused, as its request would be
    now), or still pass.
    """
    current = verifier_cache(current_app).enabled(session, _ticket_kinds())
    stamps = {v.account_id: v.stamp for v in current}
    checked: list[Delivery] = []
    refused: dict[int, Answer] = {}
    for index, delivery in enumerate(deliveries):
        if stamps.get(delivery.account_id) == delivery.stamp:
            checked.append(delivery)
            continue
        try:
            account, body = _checked(current, delivery.headers, delivery.raw)
        except PushRejected as exc:
            log.warning("ticket webhook refused: %s", exc)
            refused[index] = (exc.status, _text({"error": {"code": exc.code, "message": str(exc), "field": exc.field}}))
            checked.append(delivery)
            continue
        checked.append(replace(delivery, account_id=account.account_id, account_name=account.name, body=body))
    return checked, refused


def store(session: Session, deliveries: Sequence[Delivery]) -> list[Answer]:
    """Store a batch of deliveries in ``session``'s transaction (flushed, not committed); one answer each.

    First the signatures' accounts are confirmed as they are stored now
    (:func:`_rechecked`): a delivery refused there is answered as its
    request would be now and leaves nothing behind, not even its key.
    Then keys: a key answered before gets its stored answer; a key that
    comes twice in the batch is worked once and both get the first's answer,
    as if the second had arrived just after the first committed.  Then the
    bad bodies are quarantined and the good ones go through ``ingest`` once
    per account; each answer below 500 is kept under its key in the same
    transaction, so the key and the work commit together or not at all.
    """
    take_write_lock(session)  # before the look-ups: no other batch can claim a key in between
    answers: list[Answer | None] = [None] * len(deliveries)
    deliveries, refused = _rechecked(session, deliveries)
    for index, answer in refused.items():
        answers[index] = answer
    stored = idempotency.lookup(session, {(d.account_id, d.key) for d in deliveries if d.key})
    first: dict[tuple[int, str], int] = {}
    repeats: list[tuple[int, int]] = []
    to_ingest: dict[str, list[int]] = {}
    for index, delivery in enumerate(deliveries):
        if index in refused:
            continue
        pair = (delivery.account_id, delivery.key)
        if delivery.key and pair in stored:
            earlier = stored[pair]
            answers[index] = (earlier.status, earlier.body) if earlier.status else IN_PROGRESS
            continue
        if delivery.key and pair in first:
            repeats.append((index, first[pair]))
            continue
        if delivery.key:
            first[pair] = index
        if isinstance(delivery.body, InvalidDelivery):
            answers[index] = _quarantined(session, delivery, delivery.body)
        else:
            to_ingest.setdefault(delivery.source, []).append(index)
    for source, indexes in to_ingest.items():
        messages = [deliveries[i].body for i in indexes]
        result = ingest(session, messages, source=source)  # type: ignore[arg-type]  # InboundMessage, checked above
        for index, outcome in zip(indexes, result.outcomes, strict=True):
            answers[index] = _answer(outcome)
    kept: list[tuple[int, str, int, str]] = []
    for pair, index in first.items():
        status, text = answers[index]  # type: ignore[misc]  # every first occurrence was answered above
        if status < 500:  # a failed message's retry must be worked, not answered from the store
            kept.append((*pair, status, text))
    idempotency.record_many(session, kept)
    for index, earlier in repeats:
        answers[index] = answers[earlier]
    return answers  # type: ignore[return-value]  # every index was answered


def _store_and_commit(deliveries: Sequence[Delivery]) -> list[Answer]:
    """One batch, one transaction, in the leading request's session: all of it commits, or none of it."""
    try:
        answers = store(db.session, deliveries)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return answers


@bp.record_once
def _install_batcher(state: BlueprintSetupState) -> None:
    state.app.extensions[EXTENSION] = GroupCommit(_store_and_commit, limit=BATCH_LIMIT)


def batcher(app: Flask) -> GroupCommit[Delivery, Answer]:
    """The app's group commit for ticket deliveries (one per process and app)."""
    return app.extensions[EXTENSION]


@bp.errorhandler(500)
def _failed(_exc: Exception) -> Response:
    """A delivery whose batch failed was not stored (nothing in the batch was): its sender must retry."""
    return _error(500, "internal_error", "the message was not stored; send it again")


@bp.post("/tickets")
def receive_ticket() -> Response:
    raw = flask_request.get_data(cache=True)
    if len(raw) > MAX_BODY:
        return _error(413, "too_large", "the body is over 1 MB; send attachments by link")
    headers = {k.lower(): v for k, v in flask_request.headers.items()}
    try:
        account, body = _verified(headers, raw)
    except PushRejected as exc:
        log.warning("ticket webhook refused: %s", exc)
        return _error(exc.status, exc.code, str(exc), exc.field)
    key = headers.get("idempotency-key", "").strip()
    if len(key) > 255:
        return _error(400, "bad_idempotency_key", "keep the Idempotency-Key under 256 characters", "Idempotency-Key")
    delivery = Delivery(account.account_id, account.name, body, key, raw, headers, account.stamp)
    # End the read transaction and hand the connection back before waiting: a waiting request holding one
    # would keep it from the batch that has to run first.
    db.session.rollback()
    status, text = batcher(current_app).submit(delivery)
    return Response(text, status=status, content_type="application/json")
