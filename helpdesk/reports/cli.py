"""``flask --app wsgi helpdesk reports …``: the reports page's tables from the command line (cron, e-mail, BI).

Same figures, filters and CSV bytes as ``/reports`` and its downloads: a
file written with ``--output`` opens in Excel with its CJK names intact.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from helpdesk.extensions import db

reports_cli = AppGroup("reports", help="SLA and agent productivity reports, as on the reports page.")


def _filters(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--from", "start", help="First day, YYYY-MM-DD (default: 30 days before --to)."),
            click.option("--to", "end", help="Last day, YYYY-MM-DD (default: today)."),
            click.option("--timezone", default="UTC", show_default=True, help="Whose days: e.g. Europe/Berlin."),
            click.option("--platform", help="Only this platform, e.g. amazon."),
            click.option("--store", type=int, help="Only this store (channel account id, see 'channels list')."),
            click.option("--team", type=int, help="Only tickets of this team (id)."),
            click.option("--agent", type=int, help="Only this agent (user id)."),
            click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write CSV for Excel here."),
            click.option("--json", "as_json", is_flag=True, help="Print the API's JSON instead of a table."),
        ]
    ):
        func = option(func)
    return func


def _query(start: str | None, end: str | None, timezone: str, **filters: Any) -> Any:
    from helpdesk.params import BadParameter
    from helpdesk.reports.views import parse_query

    args = {"from": start, "to": end, **{k: "" if v is None else str(v) for k, v in filters.items()}}
    try:
        return parse_query(args, timezone)
    except BadParameter as exc:
        raise click.UsageError(str(exc.description)) from None
    except (ValueError, KeyError) as exc:
        raise click.UsageError(str(exc)) from None


def _emit(header: list[str], rows: list[list[Any]], output: Path | None) -> None:
    from helpdesk.reports.views import csv_response

    if output is not None:
        output.write_bytes(csv_response(header, rows, output.name).get_data())
        click.echo(f"{len(rows)} rows written to {output}.")
        return
    cells = [header, *[["—" if v is None else str(v) for v in row] for row in rows]]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(header))]
    for row in cells:
        click.echo("  ".join(v + " " * (w - _width(v)) for v, w in zip(row, widths, strict=True)).rstrip())


def _width(text: str) -> int:
    """Terminal columns: Chinese and Japanese characters take two, so names like 王芳 still line up."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@reports_cli.command("sla")
@click.option(
    "--group", default="platform", show_default=True, type=click.Choice(["platform", "store", "team", "agent"])
)
@_filters
def sla_command(
    group: str, start: str | None, end: str | None, timezone: str, output: Path | None, as_json: bool, **filters: Any
) -> None:
    """Response-time compliance per group, as the reports page's first table."""
    from helpdesk.reports.services import sla_report
    from helpdesk.reports.views import table_rows

    query = _query(start, end, timezone, group=group, **filters)
    report = sla_report(db.session, query)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str))
        return
    _emit(*table_rows(report, "groups"), output)


@reports_cli.command("agents")
@_filters
def agents_command(
    start: str | None, end: str | None, timezone: str, output: Path | None, as_json: bool, **filters: Any
) -> None:
    """Replies sent, tickets solved, one-touch resolutions and median handle time per agent."""
    from helpdesk.reports.productivity import productivity
    from helpdesk.reports.views import agent_rows

    query = _query(start, end, timezone, **filters)
    result = productivity(db.session, query)
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    _emit(*agent_rows(result), output)
