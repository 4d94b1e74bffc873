"""Background work of user administration: mailing an invitation.

The request only queues the user's id; the task makes the set-password link,
commits it, and only then mails it, so a mail never carries a link that does
not exist yet, and the secret never sits in the task queue.
"""

from __future__ import annotations

import logging

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from helpdesk.accounts.models import User
from helpdesk.extensions import db
from helpdesk.i18n import catalog_for
from helpdesk.signin.admin_services import hand_over_link
from helpdesk.signin.mail import send_mail
from helpdesk.tasks import task

log = logging.getLogger(__name__)


@task()
def mail_invitation(user_id: int, actor_id: int | None) -> None:
    settings = current_app.config["HELPDESK_SETTINGS"]
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        return
    actor = db.session.get(User, actor_id) if actor_id else None
    path = hand_over_link(db.session, actor, user)
    db.session.commit()
    with force_locale(catalog_for(user.locale)):
        subject = _("You are invited to the helpdesk")
        body = _(
            "Hello %(name)s,\n\n%(inviter)s created a helpdesk account for you (%(email)s). "
            "Open this link to choose your password; it works once, within 3 days:\n\n%(url)s\n\n"
            "Then sign in with your e-mail address and that password.",
            name=user.name,
            inviter=actor.name if actor else _("An administrator"),
            email=user.email,
            url=f"{settings.public_url}{path}",
        )
    send_mail(settings, user.email, subject, body)
    log.info("invitation mailed to user %s", user.id)
