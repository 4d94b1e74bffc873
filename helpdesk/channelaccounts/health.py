"""What the channels page says about each account: its state and the warnings a seller acts on.

Silence is an error: an account whose polls have not succeeded for three
intervals is failing even when no poll reported a failure (a stuck worker,
a lock that was never released) — see ``silence``.  So is an account that is
connected but half-silent — orders keep arriving while messages never do,
usually a messaging permission that was never granted — and a grant that
is about to end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from channels import registry
from channels.base import Capability
from helpdesk.channelaccounts.models import ChannelAccount, Health
from helpdesk.channelaccounts.silence import silence_of
from helpdesk.channelaccounts.stats import activity_since
from helpdesk.db import utcnow
from helpdesk.polling.services import interval_of

GRANT_WARNING = timedelta(days=14)
QUIET_WEEK_ORDERS = 5


@dataclass
class AccountHealth:
    account: ChannelAccount
    state: str  # ok, warning, failing, disabled, new
    messages_24h: int = 0
    orders_24h: int = 0
    warnings: list[str] = field(default_factory=list)
    title: str = ""
    can_push: bool = False


def summarise(session: Session, accounts: list[ChannelAccount], default_interval_s: int) -> list[AccountHealth]:
    now = utcnow()
    day = activity_since(session, timedelta(hours=24))
    week = activity_since(session, timedelta(days=7))
    out = []
    for account in accounts:
        try:
            cls = registry.get(account.kind)
        except KeyError:
            out.append(AccountHealth(account, "failing", warnings=[_("No connector is installed for this kind.")]))
            continue
        messages, orders = day.get(account.id, (0, 0))
        item = AccountHealth(
            account,
            "ok",
            messages,
            orders,
            title=cls.title or account.kind,
            can_push=Capability.PUSH in cls.capabilities,
        )
        if not account.enabled:
            item.state = "disabled"
            if account.health_detail:
                item.warnings.append(account.health_detail)
            out.append(item)
            continue
        if account.health == Health.FAILING:
            item.state = "failing"
            item.warnings.append(account.health_detail or _("The last poll failed."))
        elif account.health == Health.DEGRADED and account.health_detail:
            item.state = "warning"
            item.warnings.append(account.health_detail)
        elif account.health == Health.UNKNOWN:
            item.state = "new"
        silent = silence_of(account, interval_of(account, default_interval_s), now)
        if silent is not None:
            item.state = "failing"
            if account.health == Health.FAILING:  # the failure's own words already lead; say how long
                item.warnings.remove(account.health_detail or _("The last poll failed."))
            item.warnings.append(silent.sentence())
        problems = account.problems or {}
        if "backlog" in problems:
            item.warnings.append(_("More records are waiting; the next poll goes on."))
        if account.auth_expires_at is not None and account.auth_expires_at - now < GRANT_WARNING:
            item.state = "failing" if item.state == "failing" else "warning"
            item.warnings.append(
                _(
                    "The platform's authorisation ends on %(when)s: connect the store again before then.",
                    when=format_datetime(account.auth_expires_at),
                )
            )
        caps = cls.capabilities
        week_messages, week_orders = week.get(account.id, (0, 0))
        if (
            Capability.FETCH_MESSAGES in caps
            and Capability.FETCH_ORDERS in caps
            and week_orders >= QUIET_WEEK_ORDERS
            and week_messages == 0
            and "messages" not in problems
        ):
            item.state = "failing" if item.state == "failing" else "warning"
            item.warnings.append(
                _(
                    "Orders arrive but no buyer message has in 7 days. If buyers do write, the messaging "
                    "permission may be missing: test the connection."
                )
            )
        out.append(item)
    return out
