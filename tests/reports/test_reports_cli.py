"""The reports' CLI twin prints the page's figures, writes the same Excel-ready CSV and the API's JSON."""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from helpdesk.reports.cli import _width as display_width
from helpdesk.reports.productivity import productivity
from tests.reports.test_productivity import BEN, RANGE, desk  # noqa: F401 - the fixture with known reply times


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["helpdesk", "reports", *args])


DATES = ("--from", "2026-03-02", "--to", "2026-03-03")


def test_agents_table_csv_and_json(app: Any, session: Any, desk: Any, tmp_path: Path) -> None:  # noqa: F811
    table = run(app, "agents", *DATES)
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == ["agent", "replies", "solved", "one_touch", "one_touch_pct", "handle_p50_h"]
    assert lines[1].split()[:4] == ["Ana", "3", "2", "1"]
    assert lines[2].split()[:3] == [BEN, "4", "1"]
    # a CJK character takes two terminal columns: the numbers still line up under each other
    assert display_width(lines[2][: lines[2].index("4")]) == lines[1].index("3")
    out = tmp_path / "agents.csv"
    assert run(app, "agents", *DATES, "--output", str(out)).exit_code == 0
    raw = out.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[-1][:4] == ["total", "7", "4", "2"]
    as_json = json.loads(run(app, "agents", *DATES, "--json").output)
    assert as_json == productivity(session, RANGE).as_dict()


def test_sla_by_store_with_filters(app: Any, desk: Any) -> None:  # noqa: F811
    result = run(app, "sla", *DATES, "--group", "store", "--platform", "ebay")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].split()[:3] == ["group", "decided", "met"]
    assert "amz" not in result.output
    bad = run(app, "agents", "--from", "2026-03-05", "--to", "2026-03-01")
    assert bad.exit_code == 2 and "before the start date" in bad.output
