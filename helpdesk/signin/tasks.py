"""Background work of sign-in security: the "forgot password" mail.

The request only queues the typed address, whatever it is, so the answer
(and its timing) is the same for an address with an account and one without;
the task looks the user up, makes the link, commits, and only then mails it.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from helpdesk.accounts.models import User
from helpdesk.extensions import db
from helpdesk.i18n import catalog_for
from helpdesk.signin.links import RESET_LINK_LIFETIME, make_password_link, recently_mailed
from helpdesk.signin.mail import send_mail
from helpdesk.signin.throttle import normalise_email
from helpdesk.tasks import task

log = logging.getLogger(__name__)
MAIL_GAP = timedelta(minutes=2)  # one reset mail per user per gap, however often the form is sent


@task()
def mail_password_link(email: str) -> None:
    settings = current_app.config["HELPDESK_SETTINGS"]
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None or not user.active or recently_mailed(db.session, user, MAIL_GAP):
        return
    path = make_password_link(db.session, user)
    db.session.commit()  # the link exists before anyone can receive it
    minutes = int(RESET_LINK_LIFETIME.total_seconds() // 60)
    with force_locale(catalog_for(user.locale)):
        subject = _("Set a new password for the helpdesk")
        body = _(
            "Hello %(name)s,\n\nsomeone (we hope you) asked to set a new password for %(email)s. "
            "Open this link to choose one; it works once, for %(minutes)d minutes:\n\n%(url)s\n\n"
            "If you did not ask for it, ignore this mail: your password stays as it is.",
            name=user.name,
            email=user.email,
            minutes=minutes,
            url=f"{settings.public_url}{path}",
        )
    try:
        send_mail(settings, user.email, subject, body)
    except (smtplib.SMTPException, OSError) as exc:
        # Logged for the operator, not raised: the person at the form gets the same answer either way,
        # and can ask again (or ask an admin) after the gap; the unmailed link just expires.
        log.warning("password link for user %s not mailed: %s", user.id, exc)
        return
    log.info("password link mailed to user %s", user.id)
