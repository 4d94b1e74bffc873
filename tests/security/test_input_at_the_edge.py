"""The malformed requests of the security issue, one by one: each a clear 400 or 404, never a 500.

Ids past 64 bits, superscript and other scripts' digits, days at the ends of
the calendar, tampered cursors and NUL characters — in the inbox's filters,
its saved views, ticket, row and attachment addresses, reports, the audit
log and the API.  The fuzz suite (``test_url_map_fuzz``) finds such requests
on every route; these name the ones seen in the probe, so a regression says
which.  Also: a store the agent may not see is not named in the page title.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from helpdesk.channelaccounts.models import ChannelAccount
from tests.security.desk import MARKERS, Desk
from tests.web import login, post

BIG = "18446744073709551617"  # 2**64 + 1

#: (address, status) as the Alpha agent: refusals of a filter name the parameter (400), missing rows are 404.
AGENT_REQUESTS = [
    (f"/?account={BIG}", 400),
    (f"/?assignee={BIG}", 400),
    (f"/?team={BIG}", 400),
    ("/?team=%C2%B2", 400),
    ("/?assignee=%C2%B2", 400),
    ("/?account=%D9%A1%D9%A2", 400),  # Arabic-Indic digits: int() reads them, no key holds them
    (f"/?view=account:{BIG}", 404),
    ("/?view=account:%C2%B2", 404),
    ("/?from=0001-01-01", 400),
    ("/?to=9999-12-31", 400),
    ("/?to=2026-02-30", 400),
    ("/?cursor=d~0001-01-01T00:00:00%2B05:00~1", 400),
    (f"/?cursor=d~2026-01-05T09:00:00%2B00:00~{BIG}", 400),
    ("/?cursor=n~~%C2%B2", 400),
    ("/?q=%00", 400),
    ("/?status=%00", 400),
    (f"/inbox/row/{BIG}", 404),
    ("/inbox/row/1?team=%C2%B2", 400),
    (f"/tickets/{BIG}", 404),
    ("/tickets/%C2%B2", 404),
    ("/tickets/%D9%A1", 404),
    (f"/tickets/1/messages/{BIG}", 404),
    (f"/tickets/attachments/{BIG}", 404),
    (f"/tickets/1/merge?into={BIG}", 400),
    (f"/notifications/?before={BIG}", 400),
    (f"/tickets/1/mentionable?q={'a' * 60_000}", 200),
]
#: As the lead: reports, exports, the audit log and merge suggestions.
LEAD_REQUESTS = [
    ("/reports/?from=0001-01-01", 400),
    ("/reports/?to=0001-01-01", 400),
    ("/reports/?to=9999-12-31", 400),
    (f"/reports/?store={BIG}", 400),
    ("/reports/?team=%C2%B2", 400),
    ("/reports/breached?to=0001-01-01", 400),
    ("/reports/export/breached.csv?to=0001-01-01", 400),
    ("/reports/?platform=%00", 400),
    ("/admin/audit/?to=9999-12-31", 400),
    (f"/admin/audit/?ticket={BIG}", 400),
    (f"/customers/suggestions?page={BIG}", 400),
]
#: With the lead's API token (JSON errors).
API_REQUESTS = [
    ("/api/v1/tickets?created_from=0001-01-01", 400),
    ("/api/v1/tickets?created_to=9999-12-31", 400),
    (f"/api/v1/tickets?account_id={BIG}", 400),
    ("/api/v1/tickets?cursor=ZH4wMDAxLTAxLTAxVDAwOjAwOjAwKzA1OjAwfjE", 400),
    ("/api/v1/tickets?cursor=%C2%B2", 400),
    ("/api/v1/reports/sla?from=0001-01-01", 400),
    ("/api/v1/reports/sla?to=9999-12-31", 400),
    ("/api/v1/reports/agents?platform=%00", 400),
    (f"/api/v1/tickets/{BIG}", 404),
    (f"/api/v1/attachments/{BIG}", 404),
]


def test_agent_requests_are_refused_clearly(app: Any, client: Any, desk: Desk) -> None:
    login(client, desk.users["agent_one"])
    for url, status in AGENT_REQUESTS:
        response = client.get(url)
        assert response.status_code == status, (url[:80], response.status_code)
        if status == 400:
            assert '<main id="main"' in response.get_data(as_text=True), url[:80]  # the app's layout


def test_a_bad_filter_names_the_parameter(app: Any, client: Any, desk: Desk) -> None:
    login(client, desk.users["agent_one"])
    page = client.get(f"/?team={BIG}").get_data(as_text=True)
    assert "“team” must be an id" in page
    page = client.get("/?from=0001-01-01").get_data(as_text=True)
    assert "“from” must be a date written YYYY-MM-DD" in page


def test_lead_requests_are_refused_clearly(app: Any, client: Any, desk: Desk) -> None:
    login(client, desk.users["lead"])
    for url, status in LEAD_REQUESTS:
        response = client.get(url)
        assert response.status_code == status, (url, response.status_code)


def test_api_requests_are_refused_with_json(app: Any, client: Any, desk: Desk, unlimited_api: None) -> None:
    headers = {"Authorization": f"Bearer {desk.tokens['lead@example.test']}"}
    for url, status in API_REQUESTS:
        response = client.get(url, headers=headers)
        assert response.status_code == status, (url, response.status_code)
        assert response.get_json()["error"]["code"], url


def test_api_sla_policy_patch_with_a_huge_id_is_404(app: Any, client: Any, desk: Desk) -> None:
    headers = {"Authorization": f"Bearer {desk.tokens['admin@example.test']}"}
    response = client.patch(f"/api/v1/sla/policies/{BIG}", json={"name": "x"}, headers=headers)
    assert response.status_code == 404


def test_a_bad_form_id_is_refused(app: Any, client: Any, desk: Desk) -> None:
    """Form ids go through the same parser: a bulk action or an assignment with ``²`` is a 400, not a 500."""
    login(client, desk.users["agent_one"])
    assert post(client, "/inbox/bulk", {"ticket": "²", "action": "status", "value_status": "open"}).status_code == 400
    assert post(client, "/tickets/1/assign", {"assignee": BIG}).status_code == 400


def test_the_title_never_names_a_store_the_agent_may_not_see(app: Any, client: Any, session: Any, desk: Desk) -> None:
    ids = dict(session.execute(sa.select(ChannelAccount.name, ChannelAccount.id)).all())
    login(client, desk.users["agent_one"])
    alpha, bravo = (client.get(f"/?view=account:{ids[MARKERS[store][0]]}") for store in ("alpha", "bravo"))
    assert alpha.status_code == 200
    assert MARKERS["alpha"][1] in alpha.get_data(as_text=True).split("</title>")[0]
    assert bravo.status_code == 404
    assert MARKERS["bravo"][1] not in bravo.get_data(as_text=True)


@pytest.mark.parametrize("value", ["²", BIG, "0"])
def test_route_ids_beyond_the_keys_are_404_for_every_method(app: Any, client: Any, desk: Desk, value: str) -> None:
    login(client, desk.users["admin"])
    assert client.get(f"/tickets/{value}").status_code == 404
    assert post(client, f"/tickets/{value}/reply", {"body": "x"}).status_code == 404
    assert client.get(f"/tickets/attachments/{value}").status_code == 404
