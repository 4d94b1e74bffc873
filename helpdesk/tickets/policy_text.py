"""Platform-policy violations in the agent's language, with what to change."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from macros.policy import Violation

_TEXT = {
    "too_long": _l("The reply is too long for this marketplace (%(detail)s)."),
    "email_address": _l("Remove the e-mail address %(detail)s: this marketplace does not allow contact details."),
    "phone_number": _l("Remove the phone number %(detail)s: this marketplace does not allow contact details."),
    "link": _l("Remove the link %(detail)s: this marketplace only allows links needed to complete the order."),
    "html": _l("Formatting is sent as plain text on this marketplace."),
    "too_many_attachments": _l("Too many attachments for this marketplace (%(detail)s)."),
    "attachments_too_large": _l("The attachments are too large for this marketplace (%(detail)s)."),
    "attachment_type": _l("This marketplace does not accept this kind of file: %(detail)s."),
    "off_platform": _l(
        "Remove %(detail)s: this marketplace does not allow moving the conversation or the sale elsewhere."
    ),
    "marketing": _l("Remove %(detail)s: this marketplace does not allow marketing or asking for good reviews."),
}


def describe(violation: Violation) -> str:
    template = _TEXT.get(violation.code)
    if template is None:
        return _("This reply breaks a rule of the marketplace: %(detail)s", detail=violation.detail)
    return str(template) % {"detail": violation.detail}
