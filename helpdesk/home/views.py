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


@bp.get("/health")
def health() -> Response:
    """For load balancers and monitors, without sign-in: so it names no store, it only counts them.

    The web process answers 200 while its database does, even when channels
    are silent (taking the web server out of rotation would not bring a
    worker back); ``status`` then says ``degraded`` for a monitor to alert on.
    """
    try:
        db.session.execute(sa.text("SELECT 1"))
        silent = _silent_accounts()
    except sa.exc.SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503  # type: ignore[return-value]
    finally:
        db.session.rollback()
    return jsonify(status="degraded" if silent else "ok", database="ok", channels={"silent": silent})
