"""``/reports``: SLA figures and per-agent productivity for leads and admins; every table also as CSV.

Agents get 404, not 403: the page does not exist for them.  CSV files start
with a UTF-8 byte order mark: without it Excel reads them in the machine's
legacy code page, and Chinese, Japanese or Arabic names turn to mojibake.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from helpdesk.accounts.models import Team, User
from helpdesk.channelaccounts.models import ChannelAccount
from helpdesk.db import utcnow
from helpdesk.extensions import db
from helpdesk.params import DATE_MIN, date_arg, id_arg
from helpdesk.reports.charts import bar_chart, line_chart
from helpdesk.reports.productivity import Productivity, productivity
from helpdesk.reports.services import BACKLOG_BUCKETS, GROUPS, Report, ReportQuery, breached_tickets, sla_report
from helpdesk.sla.defaults import default_policy

bp = Blueprint("reports", __name__, url_prefix="/reports")
COMPLIANCE_GOAL = 95.0
"""The share of answers on time most marketplaces ask for (Walmart: above 95 %)."""
DEFAULT_DAYS = 30


def _require_lead() -> None:
    if not current_user.sees_everything:
        abort(404)


def parse_query(args: Any, timezone: str) -> ReportQuery:
    """The report a request asks for; defaults to the last 30 days by platform. Raises ValueError."""
    end = date_arg(args, "to") or utcnow().date()
    start = date_arg(args, "from") or max(end - timedelta(days=DEFAULT_DAYS - 1), DATE_MIN)
    return ReportQuery(
        start=start,
        end=end,
        timezone=timezone,
        group=args.get("group") or "platform",
        platform=args.get("platform") or None,
        store=id_arg(args, "store"),
        team=id_arg(args, "team"),
        agent=id_arg(args, "agent"),
    )


def _query() -> ReportQuery:
    try:
        return parse_query(request.args, current_user.timezone or "UTC")
    except (ValueError, KeyError) as exc:
        abort(400, description=str(exc))


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def platform_choices(selected: str | None) -> list[str]:
    """The platforms the desk has stores on (the filter's options), plus a selected one that is gone."""
    known = set(
        db.session.scalars(sa.select(ChannelAccount.platform).where(ChannelAccount.platform.is_not(None)).distinct())
    )
    if selected:
        known.add(selected)
    return sorted(known)


def filter_choices(query: ReportQuery) -> dict[str, list[tuple[Any, str]]]:
    """Options of the filter selects: the desk's platforms, stores, teams and the people who can hold tickets."""
    stores = db.session.execute(
        sa.select(ChannelAccount.id, ChannelAccount.display_name).order_by(ChannelAccount.display_name)
    )
    teams = db.session.execute(sa.select(Team.id, Team.name).order_by(Team.name))
    people = db.session.execute(sa.select(User.id, User.name).where(User.active.is_(True)).order_by(User.name))
    return {
        "platform": [(p, p) for p in platform_choices(query.platform)],
        "store": [(i, name or str(i)) for i, name in stores],
        "team": [(i, name) for i, name in teams],
        "agent": [(i, name) for i, name in people],
    }


def productivity_chart(result: Productivity) -> Any:
    rows = [a for a in result.agents if a.agent_id is not None]
    return bar_chart(
        [a.label for a in rows],
        [
            (_("Replies sent"), [a.replies for a in rows]),
            (_("Tickets solved"), [a.solved for a in rows]),
            (_("One-touch"), [a.one_touch for a in rows]),
        ],
        title=_("Replies and solved tickets per agent"),
        x_label=_("count in the period"),
    )


def charts(report: Report) -> dict[str, Any]:
    labels = [d.label for d in report.days]
    platform = report.query.platform
    target_h = default_policy(platform).first_response.total_seconds() / 3600
    return {
        "compliance": line_chart(
            labels,
            [d.compliance_pct for d in report.days],
            title=_("Answered on time per day (%)"),
            y_label=_("On time (%)"),
            x_label=_("date"),
            target=COMPLIANCE_GOAL,
            target_label=_("goal %(pct)s", pct=f"{COMPLIANCE_GOAL:.0f} %"),
            y_max=100.0,
        ),
        "first_response": line_chart(
            labels,
            [_hours(d.first_response_p50_s) for d in report.days],
            title=_("Median first response per day (hours)"),
            y_label=_("hours"),
            x_label=_("date"),
            target=target_h,
            target_label=_("target %(h)s h", h=f"{target_h:g}"),
        ),
    }


@bp.get("/")
@login_required
def index() -> str:
    _require_lead()
    query = _query()
    report = sla_report(db.session, query)
    agents = productivity(db.session, query)
    return render_template(
        "reports/index.html",
        report=report,
        agents=agents,
        agents_chart=productivity_chart(agents),
        choices=filter_choices(query),
        query=query,
        groups=GROUPS,
        buckets=[name for name, _b in BACKLOG_BUCKETS],
        charts=charts(report),
        hours=_hours,
    )


@bp.get("/breached")
@login_required
def breached() -> str:
    _require_lead()
    query = _query()
    key = request.args.get("key")
    rows = breached_tickets(db.session, query, key)
    return render_template("reports/breached.html", rows=rows, query=query, key=key)


def agent_rows(result: Productivity) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the productivity table, as the CSV export shows them."""
    header = ["agent", "replies", "solved", "one_touch", "one_touch_pct", "handle_p50_h"]
    rows = [
        [a.label, a.replies, a.solved, a.one_touch, a.one_touch_pct, _hours(a.handle_p50_s)]
        for a in (*result.agents, result.total)
    ]
    return header, rows


def csv_response(header: list[str], rows: Any, filename: str) -> Response:
    """A CSV download Excel opens correctly whatever the script: UTF-8 with a byte order mark."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return Response(
        buffer.getvalue().encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def table_rows(report: Report, name: str) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of one report table, as the CSV export and the API share them."""
    figures_header = [
        "group",
        "decided",
        "met",
        "breached",
        "compliance_pct",
        "first_response_p50_h",
        "first_response_p90_h",
        "resolution_p50_h",
        "resolution_p90_h",
    ]

    def fig_row(f: Any) -> list[Any]:
        return [
            f.label,
            f.decided,
            f.met,
            f.breached,
            f.compliance_pct,
            _hours(f.first_response_p50_s),
            _hours(f.first_response_p90_s),
            _hours(f.resolution_p50_s),
            _hours(f.resolution_p90_s),
        ]

    if name == "groups":
        return figures_header, [fig_row(f) for f in (*report.groups, report.total)]
    if name == "days":
        return ["date", *figures_header[1:]], [fig_row(f) for f in report.days]
    if name == "backlog":
        return ["group", *[n for n, _b in BACKLOG_BUCKETS]], [[b.label, *b.counts] for b in report.backlog]
    raise KeyError(name)


@bp.get("/export/<name>.csv")
@login_required
def export(name: str) -> Response:
    _require_lead()
    query = _query()
    if name == "breached":
        header = ["ticket_id", "subject", "clock", "started_at", "due_at", "breached_at", "answered_at"]
        rows: Any = (
            [
                r.ticket_id,
                r.subject,
                r.clock,
                r.started_at.isoformat(),
                r.due_at.isoformat(),
                r.breached_at.isoformat(),
                r.stopped_at.isoformat() if r.stopped_at else "",
            ]
            for r in breached_tickets(db.session, query, request.args.get("key"), limit=100_000)
        )
    elif name == "agents":
        header, rows = agent_rows(productivity(db.session, query))
    else:
        try:
            header, rows = table_rows(sla_report(db.session, query), name)
        except KeyError:
            abort(404)
    return csv_response(header, rows, f"sla-{name}-{query.start.isoformat()}-{query.end.isoformat()}.csv")
