"""``/api/v1/reports``: the figures of the reports page for leads and admins, for a BI tool or a spreadsheet.

The query is the page's (same names, same defaults: the last 30 days by
platform in the token user's time zone); the numbers come from the same
report functions, so an export can never disagree with the page.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from flask import g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field
from werkzeug.wrappers import Response

from helpdesk import MAX_ID
from helpdesk.accounts.models import Role
from helpdesk.api.auth import api_auth
from helpdesk.api.errors import ApiError
from helpdesk.api.spec import ApiModel, api_spec, responses
from helpdesk.api.views import bp
from helpdesk.extensions import db
from helpdesk.reports.productivity import productivity
from helpdesk.reports.services import BACKLOG_BUCKETS, ReportQuery, sla_report
from helpdesk.reports.views import parse_query

TAGS = ["reports"]


class ReportParams(ApiModel):
    start: date | None = Field(None, alias="from", description="first day, `YYYY-MM-DD`; default 29 days before `to`")
    end: date | None = Field(None, alias="to", description="last day (inclusive); default today")
    group: Literal["platform", "store", "team", "agent"] = Field("platform", description="SLA report only")
    platform: str | None = None
    store: int | None = Field(None, ge=1, le=MAX_ID, description="a channel account id")
    team: int | None = Field(None, ge=1, le=MAX_ID)
    agent: int | None = Field(None, ge=1, le=MAX_ID, description="SLA: the assignee; agents report: the replier")
    timezone: str | None = Field(None, description="IANA name for the days' bounds; default the token user's")


class ReportFigures(BaseModel):
    key: str | int | None = Field(description="the group's value (platform, or the store/team/agent id); a day's date")
    label: str
    decided: int = Field(description="response clocks met or breached in the range")
    met: int
    breached: int
    compliance_pct: float | None = Field(description="met / decided in percent; null when nothing was decided")
    first_response_p50_s: float | None
    first_response_p90_s: float | None
    resolution_p50_s: float | None
    resolution_p90_s: float | None


class BacklogRow(BaseModel):
    """Open tickets by age; one integer member per bucket named in ``backlog_buckets``."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, int] = Field(init=False)  # type: ignore[assignment]

    key: str | int | None
    label: str


class SlaReport(BaseModel):
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    timezone: str
    group: str
    platform: str | None
    store: int | None
    team: int | None
    agent: int | None
    groups: list[ReportFigures]
    total: ReportFigures
    days: list[ReportFigures]
    backlog_buckets: list[str] = Field(description=f"ages, youngest first: {', '.join(n for n, _ in BACKLOG_BUCKETS)}")
    backlog: list[BacklogRow]


class AgentFiguresOut(BaseModel):
    agent_id: int | None = Field(description="null: tickets solved while nobody held them")
    label: str
    replies: int
    solved: int
    one_touch: int = Field(description="solved with one reply")
    one_touch_pct: float | None
    handle_p50_s: float | None = Field(description="median seconds from the ticket's creation to solved")


class AgentReport(BaseModel):
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    timezone: str
    agents: list[AgentFiguresOut]
    total: AgentFiguresOut


def _report_query() -> ReportQuery:
    """The page's parser on the checked query, so API and page read parameters alike."""
    try:
        query = parse_query(request.args, request.args.get("timezone") or g.api_user.timezone or "UTC")
        query.bounds()  # a day at the edge of the calendar (year 1, year 9999) has no instant after it
    except (ValueError, KeyError) as exc:
        raise ApiError(400, "bad_request", str(exc)) from None
    except OverflowError:
        raise ApiError(400, "bad_request", "the dates are out of range", "from") from None
    return query


@bp.get("/reports/sla")
@api_auth(roles=(Role.LEAD, Role.ADMIN))
@api_spec.validate(query=ReportParams, resp=responses(400, HTTP_200=SlaReport), tags=TAGS)
def report_sla() -> Response:
    """The figures of the SLA report: compliance and response times by group and by day, and the open backlog."""
    query = _report_query()
    body = sla_report(db.session, query).as_dict()
    db.session.commit()  # last_used_at of the token
    return jsonify(body)


@bp.get("/reports/agents")
@api_auth(roles=(Role.LEAD, Role.ADMIN))
@api_spec.validate(query=ReportParams, resp=responses(400, HTTP_200=AgentReport), tags=TAGS)
def report_agents() -> Response:
    """Per-agent productivity: replies, solved, one-touch and median handle time (seconds) in the range."""
    query = _report_query()
    result = productivity(db.session, query)
    db.session.commit()  # last_used_at of the token
    return jsonify(
        {"from": query.start.isoformat(), "to": query.end.isoformat(), "timezone": query.timezone, **result.as_dict()}
    )
