"""The health check; the ticket list lives in the inbox feature (``/``)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify
from werkzeug.wrappers import Response

from helpdesk.extensions import db

bp = Blueprint("home", __name__)


def _silent_accounts() -> int:
    """Enabled accounts whose polls have not succeeded for three intervals (a dead worker shows here)."""
    from helpdesk.channelaccounts.models import ChannelAccount
    from helpdesk.channelaccounts.silence import silence_of
    from helpdesk.polling.services import interval_of

    default_s = current_app.config["HELPDESK_SETTINGS"].poll_interval_s
    accounts = db.session.scalars(sa.select(ChannelAccount).where(ChannelAccount.enabled.is_(True)))
    return sum(1 for a in accounts if silence_of(a, interval_of(a, default_s)) is not None)


#: Events waiting this long for the relay make the desk "degraded": webhooks and notifications have stopped.
RELAY_LAG_ALERT_S = 300


def _relay_behind_s() -> int:
    """Seconds the oldest event not yet relayed to every once-only listener (webhooks …) has waited; 0 if none."""
    from helpdesk.db import utcnow
    from helpdesk.outbox.store import unrelayed_since

    since = unrelayed_since(db.session.connection())
    if since is None:
        return 0
    if since.tzinfo is None:  # SQLite hands back naive UTC
        since = since.replace(tzinfo=utcnow().tzinfo)
    return max(0, int((utcnow() - since).total_seconds()))


@bp.get("/health")
def health() -> Response:
    """For load balancers and monitors, without sign-in: so it names no store, it only counts them.

    The web process answers 200 while its database does, even when channels
    are silent (taking the web server out of rotation would not bring a
    worker back); ``status`` then says ``degraded`` for a monitor to alert on.
    So it does when events have waited for the relay over five minutes: no
    process relays (no worker, or every one stuck), so webhooks and
    notifications stopped while the inbox still looks fine.
    """
    try:
        db.session.execute(sa.text("SELECT 1"))
        silent = _silent_accounts()
        behind_s = _relay_behind_s()
    except sa.exc.SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503  # type: ignore[return-value]
    finally:
        db.session.rollback()
    degraded = silent or behind_s > RELAY_LAG_ALERT_S
    return jsonify(
        status="degraded" if degraded else "ok",
        database="ok",
        channels={"silent": silent},
        outbox={"behind_s": behind_s},
    )
