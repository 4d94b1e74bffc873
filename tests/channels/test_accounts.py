"""Channel accounts as an admin sets them up: schema-driven CLI and page, sealed secrets, health, pushes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import Stream
from helpdesk.channelaccounts.models import ChannelAccount, Health, PushReceipt
from helpdesk.channelaccounts.services import (
    AccountError,
    AccountInput,
    account_config,
    create_account,
    secret_status,
    update_account,
)
from helpdesk.db import utcnow
from helpdesk.orders.models import Order
from tests.channels.plain import GOOD_KEY, PlainConnector, sign
from tests.web import fresh_globals_per_request, login, post  # noqa: F401 - fixture

SECRET = "whsec-never-shown"


def run(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["helpdesk", *args])


@pytest.fixture(autouse=True)
def _orders() -> None:
    PlainConnector.ORDERS = ["A-1", "A-2", "A-3"]


def plain(session: Any, name: str = "plain-de", **kw: Any) -> ChannelAccount:
    given = AccountInput(
        kind="test-plain",
        name=name,
        settings={"shop_id": kw.pop("shop_id", "shop-1")},
        secrets={"api_key": kw.pop("api_key", GOOD_KEY), "webhook_secret": SECRET},
        **kw,
    )
    account = create_account(session, given)
    session.commit()
    return account


# --- set-up from the schema -------------------------------------------------------------------------------


def test_cli_add_is_generated_from_the_schema_and_keeps_only_the_secret_name(app, session, monkeypatch):
    monkeypatch.setenv("PLAIN_KEY", GOOD_KEY)
    result = run(
        app, "channels", "add", "test-plain", "--name", "plain-de", "--shop-id", "s1", "--api-key-env", "PLAIN_KEY"
    )
    assert result.exit_code == 0, result.output
    account = session.scalar(sa.select(ChannelAccount).where(ChannelAccount.name == "plain-de"))
    assert account.settings == {"base_url": "https://api.plainshop.example", "shop_id": "s1", "page_limit": 50}
    assert account.secret_refs == {"api_key": "PLAIN_KEY"} and account.secrets_sealed is None
    assert account.platform == "plainshop"
    assert "channels test plain-de" in result.output


def test_cli_add_can_seal_the_secret_values_instead(app, session, monkeypatch):
    monkeypatch.setenv("PLAIN_KEY", GOOD_KEY)
    result = run(
        app, "channels", "add", "test-plain", "--name", "p", "--shop-id", "s1", "--api-key-env", "PLAIN_KEY",
        "--encrypt-secrets",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    account = session.scalar(sa.select(ChannelAccount).where(ChannelAccount.name == "p"))
    assert account.secret_refs == {} and GOOD_KEY not in (account.secrets_sealed or "")
    monkeypatch.delenv("PLAIN_KEY")
    assert account_config(account).secrets["api_key"] == GOOD_KEY


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "--shop-id: is required"),
        (["--shop-id", "s"], "--api-key-env: is required"),
        (["--shop-id", "s", "--api-key-env", "not a name!"], "is not an environment variable name"),
        (["--shop-id", "s", "--api-key-env", "K", "--base-url", "http://api.example"], "must use https://"),
        (["--shop-id", "s", "--api-key-env", "K", "--page-limit", "lots"], "Invalid value for '--page-limit'"),
    ],
)
def test_cli_add_names_what_cannot_work(app, args, message):
    result = run(app, "channels", "add", "test-plain", "--name", "p", *args)
    assert result.exit_code == 2 and message in result.output, result.output


def test_an_edit_keeps_secrets_left_empty_and_forgets_on_request(session):
    account = plain(session)
    update_account(session, account, settings={"shop_id": "shop-2"}, secrets={"api_key": ""})
    assert account.settings["shop_id"] == "shop-2" and secret_status(account)["api_key"] == "stored"
    with pytest.raises(AccountError, match="required"):
        update_account(session, account, forget_secrets=("api_key",))
    session.rollback()
    update_account(session, account, forget_secrets=("webhook_secret",))
    assert secret_status(account) == {"api_key": "stored", "webhook_secret": "missing"}


def test_a_name_is_unique_and_the_platform_must_fit_the_kind(session):
    plain(session)
    with pytest.raises(AccountError, match="already exists"):
        plain(session)
    session.rollback()
    with pytest.raises(AccountError, match="platform"):
        plain(session, name="other", platform="amazon")


def test_check_and_dry_run_from_the_command_line(app, session):
    account = plain(session)
    ok = run(app, "channels", "test", account.name)
    assert ok.exit_code == 0 and "Connected" in ok.output
    plain(session, name="bad", api_key="wrong", shop_id="s2")
    refused = run(app, "channels", "test", "bad")
    assert refused.exit_code == 1 and "refused the credentials" in refused.output and "What to do" in refused.output
    dry = run(app, "channels", "dry-run", account.name, "--page-size", "2", "--pages", "5")
    orders = [json.loads(line) for line in dry.stdout.splitlines() if line.startswith("{")]
    assert [o["order_number"] for o in orders] == ["A-1", "A-2", "A-3"] and orders[0]["total"] == "12.50"
    session.expire_all()
    assert session.get(ChannelAccount, account.id).cursor is None
    assert session.scalar(sa.select(sa.func.count(Order.id))) == 0


# --- the channels page ------------------------------------------------------------------------------------


def test_admins_connect_a_store_from_a_form_built_from_the_schema(client, session, make_user):
    admin = make_user("admin@example.test", role="admin")
    login(client, admin)
    form = client.get("/channels/new/test-plain").get_data(as_text=True)
    assert 'name="setting__shop_id"' in form and 'type="password" name="secret__api_key"' in form
    response = post(
        client,
        "/channels/new/test-plain",
        {"name": "plain-web", "setting__shop_id": "s9", "secret__api_key": GOOD_KEY, "secret__webhook_secret": SECRET},
        token_from="/channels/new/test-plain",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    account = session.scalar(sa.select(ChannelAccount).where(ChannelAccount.name == "plain-web"))
    page = client.get(f"/channels/{account.id}").get_data(as_text=True)
    assert GOOD_KEY not in page and SECRET not in page and "stored — leave empty to keep" in page
    assert "/hooks/test-plain" in page
    tested = post(client, f"/channels/{account.id}/test", {}, token_from=f"/channels/{account.id}")
    assert tested.status_code == 200 and "Connected" in tested.get_data(as_text=True)


def test_the_form_says_which_field_is_wrong(client, session, make_user):
    login(client, make_user("admin@example.test", role="admin"))
    response = post(
        client, "/channels/new/test-plain", {"name": "x", "secret__api_key": GOOD_KEY}, token_from="/channels/"
    )
    assert response.status_code == 200 and "Shop id: is required" in response.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count(ChannelAccount.id))) == 0


def test_leads_read_health_and_agents_see_nothing(client, session, make_user):
    account = plain(session)
    lead = make_user("lead@example.test", role="lead")
    agent = make_user("agent@example.test")
    login(client, lead)
    index = client.get("/channels/").get_data(as_text=True)
    assert account.display_name in index and "Poll now" not in index
    assert '<form method="post" class="stacked">' not in client.get(f"/channels/{account.id}").get_data(as_text=True)
    assert post(client, f"/channels/{account.id}/poll", {}, token_from="/channels/").status_code == 404
    client.post("/logout", data={})
    login(client, agent)
    assert client.get("/channels/").status_code == 404


def test_poll_now_stores_orders_and_the_page_counts_them(client, session, make_user):
    account = plain(session)
    login(client, make_user("admin@example.test", role="admin"))
    response = post(client, f"/channels/{account.id}/poll", {}, token_from="/channels/")
    assert response.status_code == 302
    assert session.scalar(sa.select(sa.func.count(Order.id))) == 3
    session.expire_all()  # the test's one app context shares the session the request used
    row = client.get("/channels/").get_data(as_text=True)
    assert "healthy" in row and '<td class="num">3</td>' in row


# --- health ---------------------------------------------------------------------------------------------


def test_health_warns_of_silence_a_lapsing_grant_and_a_blocked_stream(app, session):
    from helpdesk.channelaccounts.health import summarise

    account = plain(session)
    account.health = Health.OK
    account.last_success_at = utcnow() - timedelta(hours=2)
    account.auth_expires_at = utcnow() + timedelta(days=3)
    account.problems = {Stream.MESSAGES.value: {"code": "permission_missing", "detail": "no messaging scope"}}
    session.commit()
    with app.test_request_context():
        (row,) = summarise(session, [account], 60)
    text = " ".join(row.warnings)
    assert row.state == "failing" and "Not polled for 120 minutes" in text and "authorisation ends" in text


# --- pushes ---------------------------------------------------------------------------------------------


def push(client: Any, body: bytes, *, secret: str = SECRET, delivery: str = "d-1", shop: str = "shop-1") -> Any:
    headers = {"X-Plain-Shop": shop, "X-Plain-Signature": sign(secret, body), "X-Plain-Delivery": delivery}
    return client.post("/hooks/test-plain", data=body, headers=headers)


def test_a_signed_push_is_stored_once_and_a_forged_one_never(client, session):
    plain(session)
    body = b'{"order": "P-100"}'
    first = push(client, body)
    assert first.status_code == 200 and first.get_data() == b"ok"
    assert push(client, body).status_code == 200  # the platform retried the same delivery
    assert session.scalar(sa.select(sa.func.count(Order.id))) == 1
    assert session.scalar(sa.select(sa.func.count(PushReceipt.id))) == 1
    forged = push(client, b'{"order": "P-666"}', secret="guessed", delivery="d-2")
    assert forged.status_code == 401 and "Traceback" not in forged.get_data(as_text=True)
    assert client.post("/hooks/no-such-kind", data=body).status_code == 404
    assert session.scalar(sa.select(sa.func.count(Order.id))) == 1


def test_pushes_need_no_session_but_reach_only_enabled_accounts(client, session):
    account = plain(session)
    account.enabled = False
    session.commit()
    assert push(client, b'{"order": "P-1"}').status_code == 404
