"""``/api/v1/channels``: the stores and mailboxes the caller serves, with the health the channels page shows.

For a monitoring system: is every store still polling, and if not, what to
do.  Agents see their teams' accounts, leads and admins all of them (404
for the rest, as elsewhere).  Only what describes the account and its
health is sent: never settings, addresses or credentials, sealed or not.
Set-up stays in the admin pages and the ``channels`` commands.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from pydantic import BaseModel, Field

from channels.base import DiagnosisCode
from helpdesk.api.access import may_see_account, visible_ids
from helpdesk.api.auth import api_auth
from helpdesk.api.errors import ApiError
from helpdesk.api.spec import api_spec, responses
from helpdesk.api.views import bp
from helpdesk.channelaccounts.diagnosis import explain
from helpdesk.channelaccounts.health import AccountHealth, summarise
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.channelaccounts.silence import SKIPPED
from helpdesk.extensions import db
from helpdesk.polling.services import interval_of

TAGS = ["channels"]


class ChannelProblem(BaseModel):
    """One stream that is blocked while the others flow (say messages, for a missing permission)."""

    stream: str = Field(description="`messages`, `orders`, … or `backlog`")
    code: str = Field(description="a diagnosis code such as `permission_missing`")
    detail: str = Field(description="the platform's own words")
    title: str | None = Field(description="what the code means; null for codes that are not diagnoses")
    next_step: str | None = Field(description="what to do about it")


class ChannelHealth(BaseModel):
    state: str = Field(description="`ok`, `warning`, `failing`, `disabled` or `new` (never polled)")
    warnings: list[str] = Field(description="what the channels page says, in English, most important first")
    last_error: str | None = Field(description="the last failure in words, as the platform or the poller put it")
    last_success_at: datetime | None = Field(description="the last successful poll")
    last_error_at: datetime | None
    last_polled_at: datetime | None
    next_poll_at: datetime | None
    poll_interval_s: int = Field(description="seconds between polls")
    consecutive_failures: int
    auth_expires_at: datetime | None = Field(description="when the platform's authorisation ends, if it does")
    messages_24h: int = Field(description="buyer messages received in the last 24 hours")
    orders_24h: int
    problems: list[ChannelProblem]


class ChannelOut(BaseModel):
    id: int
    name: str = Field(description="the short unique name used by the CLI")
    display_name: str
    kind: str = Field(description="the connector, e.g. `amazon`, `email`, `webhook`")
    connector: str = Field(description="the connector's title")
    platform: str | None = Field(description="the marketplace; tickets and SLA policies name it")
    site: str | None = Field(description="the marketplace site or region, e.g. `DE`, `JP`")
    default_language: str | None
    timezone: str
    enabled: bool
    can_push: bool = Field(description="the platform notifies the desk instead of only being polled")
    health: ChannelHealth


class ChannelList(BaseModel):
    channels: list[ChannelOut]


def _problems(health: AccountHealth) -> list[ChannelProblem]:
    out = []
    for stream, problem in sorted((health.account.problems or {}).items()):
        if stream == SKIPPED:  # a poll that did not run: the silence warning says so
            continue
        code = str(problem.get("code") or "")
        verdict = explain(code) if code in DiagnosisCode.__members__.values() else None
        out.append(
            ChannelProblem(
                stream=stream,
                code=code,
                detail=str(problem.get("detail") or ""),
                title=verdict.title if verdict else None,
                next_step=verdict.next_step if verdict else None,
            )
        )
    return out


def _channels(accounts: list[ChannelAccount]) -> list[ChannelOut]:
    """The channels page's summary of each account, in English whatever the token user's language."""
    default_s = current_app.config["HELPDESK_SETTINGS"].poll_interval_s
    with force_locale("en"):
        rows = summarise(db.session, accounts, default_s)
        return [
            ChannelOut(
                id=h.account.id,
                name=h.account.name,
                display_name=h.account.display_name,
                kind=h.account.kind,
                connector=h.title or h.account.kind,
                platform=h.account.platform,
                site=h.account.site,
                default_language=h.account.default_language,
                timezone=h.account.timezone,
                enabled=h.account.enabled,
                can_push=h.can_push,
                health=ChannelHealth(
                    state=h.state,
                    warnings=[str(w) for w in h.warnings],
                    last_error=h.account.health_detail,
                    last_success_at=h.account.last_success_at,
                    last_error_at=h.account.last_error_at,
                    last_polled_at=h.account.last_polled_at,
                    next_poll_at=h.account.next_poll_at,
                    poll_interval_s=interval_of(h.account, default_s),
                    consecutive_failures=h.account.consecutive_failures,
                    auth_expires_at=h.account.auth_expires_at,
                    messages_24h=h.messages_24h,
                    orders_24h=h.orders_24h,
                    problems=_problems(h),
                ),
            )
            for h in rows
        ]


@bp.get("/channels")
@api_auth()
@api_spec.validate(resp=responses(HTTP_200=ChannelList), tags=TAGS)
def list_channels() -> ChannelList:
    """The channel accounts you serve (leads and admins: all), by display name, each with its health."""
    stmt = sa.select(ChannelAccount).order_by(ChannelAccount.display_name, ChannelAccount.id)
    visible = visible_ids()
    if visible is not None:
        stmt = stmt.where(ChannelAccount.id.in_(sorted(visible) or [-1]))
    body = ChannelList(channels=_channels(list(db.session.scalars(stmt))))
    db.session.commit()  # last_used_at of the token
    return body


@bp.get("/channels/<int:account_id>")
@api_auth()
@api_spec.validate(resp=responses(HTTP_200=ChannelOut), tags=TAGS)
def get_channel(account_id: int) -> ChannelOut:
    """One channel account and its health; 404 for one you do not serve."""
    account = db.session.get(ChannelAccount, account_id)
    if account is None or not may_see_account(account.id):
        raise ApiError(404, "not_found", f"no channel account {account_id}")
    [body] = _channels([account])
    db.session.commit()
    return body
