"""``POST /hooks/<kind>``: where platforms deliver notifications.

No session and no CSRF token: a platform is not a signed-in user.  What
protects the endpoint is the signature the connector verifies over the raw
bytes (and the freshness of its timestamp); anything unverified is refused
before it touches the database.  Errors never carry a stack trace.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, request
from werkzeug.wrappers import Response

from channels import registry
from channels.base import Capability, PushRejected, PushRequest
from helpdesk.channelaccounts.verifying import verifiers
from helpdesk.extensions import csrf, db
from helpdesk.hooks.services import accept

log = logging.getLogger(__name__)

bp = Blueprint("hooks", __name__, url_prefix="/hooks")
csrf.exempt(bp)


def _url() -> str:
    """The URL the platform called, as it knows it (behind a proxy: HELPDESK_PUBLIC_URL)."""
    public = current_app.config["HELPDESK_SETTINGS"].public_url
    if public:
        query = request.query_string.decode()
        return public + request.path + (f"?{query}" if query else "")
    return request.url


@bp.post("/<kind>")
def receive(kind: str) -> Response:
    try:
        cls = registry.get(kind)
    except KeyError:
        abort(404)
    if Capability.PUSH not in cls.capabilities:
        abort(404)
    configs = [v.config for v in verifiers(current_app, db.session, [kind])]
    if not configs:
        abort(404)
    push = PushRequest(
        headers={k.lower(): v for k, v in request.headers.items()},
        body=request.get_data(cache=True),
        url=_url(),
        query=request.args.to_dict(),
    )
    try:
        result = cls.handle_push(push, configs)
    except PushRejected as exc:
        log.warning("push for %s refused: %s", kind, exc)
        return Response(str(exc), status=exc.status, content_type="text/plain")
    outcome = accept(db.session, kind, result)
    db.session.commit()
    if outcome.poll:
        from helpdesk.polling.tasks import poll_soon_task

        for account_id in outcome.poll:
            poll_soon_task(account_id)
    return Response(result.response, status=200, content_type=result.content_type)
