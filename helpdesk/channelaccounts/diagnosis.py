"""What a connection diagnosis means to a seller, and what to do next, per code.

Connectors report a code and the platform's own (technical, English)
words; the helpdesk says the rest in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from channels.base import DiagnosisCode


@dataclass(frozen=True)
class Verdict:
    title: str
    next_step: str


_VERDICTS = {
    DiagnosisCode.OK: (_l("Connected"), _l("Nothing to do.")),
    DiagnosisCode.CREDENTIALS_REFUSED: (
        _l("The platform refused the credentials"),
        _l("Connect the store again (or paste new credentials) on the account's page, then test again."),
    ),
    DiagnosisCode.PERMISSION_MISSING: (
        _l("A permission is missing"),
        _l(
            "The credentials work, but the app was not granted everything it needs. Grant the missing "
            "permission in the platform's seller centre or developer portal and connect again."
        ),
    ),
    DiagnosisCode.RATE_LIMITED: (
        _l("The platform is limiting requests"),
        _l("Wait a few minutes; polling slows down by itself. If it persists, poll this account less often."),
    ),
    DiagnosisCode.UNREACHABLE: (
        _l("The platform cannot be reached"),
        _l("Check the API address and this server's internet connection; the helpdesk keeps retrying."),
    ),
    DiagnosisCode.MISCONFIGURED: (
        _l("The account's settings cannot work"),
        _l("Correct the setting named above on the account's page."),
    ),
    DiagnosisCode.PLATFORM_ERROR: (
        _l("The platform answered with an error"),
        _l("Read the platform's message above; if it persists, contact the platform's developer support."),
    ),
}


def explain(code: DiagnosisCode | str) -> Verdict:
    title, step = _VERDICTS[DiagnosisCode(code)]
    return Verdict(str(title), str(step))
