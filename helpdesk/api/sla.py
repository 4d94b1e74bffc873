"""``/api/v1/sla/policies``: the SLA targets, read by leads and changed by admins, as on the admin page.

The request models give the document its shapes and refuse wrong types and
unknown fields; ``helpdesk.sla.schemas.clean`` stays the one validator of
what a policy means (hours in range, a real time zone, opening hours that
parse), shared with the admin form, so the UI and the API accept exactly
the same policies.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from flask import request
from pydantic import BaseModel, Field

from helpdesk.accounts.models import Role
from helpdesk.api.auth import api_auth
from helpdesk.api.errors import ApiError
from helpdesk.api.models import Scope
from helpdesk.api.spec import ApiModel, api_spec, responses
from helpdesk.api.views import bp
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.extensions import db
from helpdesk.sla import schemas
from helpdesk.sla.models import SlaPolicy
from helpdesk.sla.services import create_policy, update_policy

TAGS = ["SLA"]


class SlaPolicyIn(ApiModel):
    """A policy's fields; on PATCH only those sent change, on POST the rest take their defaults."""

    name: str | None = Field(None, max_length=200, description="required on POST")
    enabled: bool | None = Field(None, description="default true")
    platform: str | None = Field(None, max_length=32, description="this platform's tickets only; null for all")
    channel_account_id: int | None = Field(None, ge=1, description="applies to this store only")
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    thread_kind: str | None = Field(None, max_length=32, description="e.g. `message`, `return`; null for all")
    first_response_hours: float | None = Field(None, description="more than 0, at most a year")
    next_response_hours: float | None = None
    resolution_hours: float | None = None
    warn_share: float | None = Field(None, description="share of the target after which the clock warns; default 0.75")
    pause_when_pending: bool | None = None
    calendar: Literal["24/7", "business_hours", "business_days"] | None = None
    timezone: str | None = Field(None, max_length=64, description="IANA name, e.g. `Asia/Shanghai`")
    hours: dict[str, str] | str | None = Field(
        None,
        description='opening hours by days: `{"mon-fri": "09:00-18:00"}` or `"mon-fri 09:00-18:00; sat 10:00-14:00"`',
    )
    holidays: str | None = Field(None, description="`none`, `store` or a country code such as `CN`")
    closures: list[str] | str | None = Field(None, description="closed dates, `YYYY-MM-DD`")
    escalation: dict[str, Any] | None = Field(
        None, description="`reassign_to_user_id` (int) and/or `notify_lead` (bool), applied on breach"
    )


class SlaPolicyOut(BaseModel):
    id: int
    name: str
    enabled: bool
    is_default: bool = Field(description="seeded from the platform rules the desk ships with")
    platform: str | None
    channel_account_id: int | None
    priority: str | None
    thread_kind: str | None
    first_response_hours: float | None
    next_response_hours: float | None
    resolution_hours: float | None
    warn_share: float
    pause_when_pending: bool
    calendar: str
    timezone: str | None
    hours: dict[str, str] | None
    holidays: str
    closures: list[str]
    confidence: str | None = Field(description="how sure the shipped default is of its platform rule")
    source_note: str
    escalation: dict[str, Any]


class SlaPolicyList(BaseModel):
    policies: list[SlaPolicyOut]


def _values(body: SlaPolicyIn, *, partial: bool) -> dict[str, Any]:
    try:
        values = schemas.clean(body.model_dump(exclude_unset=True), partial=partial)
    except schemas.PolicyInvalid as exc:
        raise ApiError(422, "invalid", str(exc), exc.field) from None
    store = values.get("channel_account_id")
    if store is not None and db.session.get(ChannelAccount, store) is None:  # the form offers only existing ones
        raise ApiError(422, "invalid", f"channel_account_id: no channel account {store}", "channel_account_id")
    return values


@bp.get("/sla/policies")
@api_auth(roles=(Role.LEAD, Role.ADMIN))
@api_spec.validate(resp=responses(HTTP_200=SlaPolicyList), tags=TAGS)
def list_policies() -> SlaPolicyList:
    """Every policy; leads read them (the targets they answer to), only admins change them."""
    policies = db.session.scalars(sa.select(SlaPolicy).order_by(SlaPolicy.platform, SlaPolicy.id))
    body = SlaPolicyList.model_validate({"policies": [schemas.dump(p) for p in policies]})
    db.session.commit()  # last_used_at of the token
    return body


@bp.post("/sla/policies")
@api_auth(roles=(Role.ADMIN,), scope=Scope.ADMIN)
@api_spec.validate(json=SlaPolicyIn, resp=responses(403, 422, HTTP_201=SlaPolicyOut), tags=TAGS)
def create() -> tuple[SlaPolicyOut, int]:
    """Create a policy (admins, admin scope); it applies to tickets whose clocks start from now on."""
    policy = create_policy(db.session, _values(request.context.json, partial=False))  # type: ignore[attr-defined]
    db.session.commit()
    return SlaPolicyOut.model_validate(schemas.dump(policy)), 201


@bp.patch("/sla/policies/<int:policy_id>")
@api_auth(roles=(Role.ADMIN,), scope=Scope.ADMIN)
@api_spec.validate(json=SlaPolicyIn, resp=responses(403, 422, HTTP_200=SlaPolicyOut), tags=TAGS)
def patch(policy_id: int) -> SlaPolicyOut:
    """Change the fields sent (admins, admin scope)."""
    policy = db.session.get(SlaPolicy, policy_id)
    if policy is None:
        raise ApiError(404, "not_found", f"no policy {policy_id}")
    update_policy(db.session, policy, _values(request.context.json, partial=True))  # type: ignore[attr-defined]
    db.session.commit()
    return SlaPolicyOut.model_validate(schemas.dump(policy))
