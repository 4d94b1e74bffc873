"""Addresses admins configure are refused inside the network: forms, API and CLI name the field.

The test app allows loopback (its fakes run there), so the refused addresses
here are private, link-local and the cloud metadata service; an app with
``HELPDESK_ALLOW_PRIVATE_URLS=false`` refuses loopback too, and
``HELPDESK_ALLOWED_URL_NETWORKS`` lets a chosen range through.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from channels import netguard
from helpdesk.api.tokens import create_token
from helpdesk.channelaccounts.services import AccountError, AccountInput, create_account, update_account
from helpdesk.webhooks.models import WebhookSubscription
from tests.conftest import CHEAP_HASHING, _env
from tests.web import compiled_translations, fresh_globals_per_request, login, post  # noqa: F401

METADATA = "http://169.254.169.254/latest/meta-data/"


@pytest.fixture
def admin(make_user: Any) -> Any:
    return make_user("admin@example.test", name="Ada", role="admin")


def _subscriptions(session: Any) -> int:
    return session.scalar(sa.select(sa.func.count(WebhookSubscription.id)))


def test_the_webhook_form_refuses_an_inside_address_naming_the_field(client: Any, session: Any, admin: Any) -> None:
    login(client, admin)
    form = {"name": "erp", "url": METADATA, "events": ["ticket.created"], "secret_env": "ERP_SECRET"}
    page = post(client, "/admin/webhooks/", form, token_from="/admin/webhooks/")
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "URL: 169.254.169.254 is a link-local address, inside the helpdesk&#39;s own network" in html
    assert _subscriptions(session) == 0


def test_the_api_and_the_cli_refuse_it_too(app: Any, client: Any, session: Any, admin: Any) -> None:
    _row, token = create_token(session, admin, "admin", "admin")
    session.commit()
    answer = client.post(
        "/api/v1/webhooks/endpoints",
        json={"name": "erp", "url": "https://10.0.0.7/hooks", "events": ["*"], "secret_env": "ERP_SECRET"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 422
    assert answer.get_json()["error"]["field"] == "url"
    assert "10.0.0.7 is a private address" in answer.get_json()["error"]["message"]
    result = app.test_cli_runner().invoke(
        args=[
            "helpdesk",
            "webhooks",
            "add",
            "--name",
            "erp",
            "--url",
            "http://192.168.1.20/h",
            "--events",
            "*",
            "--secret-env",
            "ERP_SECRET",
        ]
    )
    assert result.exit_code != 0
    assert "192.168.1.20 is a private address" in result.output
    assert _subscriptions(session) == 0


def test_a_connector_base_url_and_a_mail_server_inside_the_network_are_refused(session: Any, make_account: Any) -> None:
    store = make_account(name="ebay-de")
    with pytest.raises(AccountError) as refused:
        update_account(session, store, settings={"base_url": "https://172.16.0.3"})
    assert refused.value.field == "base_url" and "172.16.0.3 is a private address" in str(refused.value)
    with pytest.raises(AccountError) as refused:
        create_account(
            session,
            AccountInput(
                kind="email",
                name="mailbox",
                settings={"imap_host": "169.254.169.254", "user": "support@example.com"},
                secrets={"password": "x"},
            ),
        )
    assert refused.value.field == "imap_host"


def test_a_translation_service_inside_the_network_is_refused(session: Any, admin: Any) -> None:
    from helpdesk.translation.configuration import ConfigInvalid, configure

    with pytest.raises(ConfigInvalid, match=r"Service address: 10\.9\.8\.7 is a private address"):
        configure(session, admin, kind="libretranslate", base_url="http://10.9.8.7:5000")


@pytest.fixture
def app_with(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """An app built with extra settings (the ``app`` fixture's, plus these)."""
    from helpdesk import create_app
    from helpdesk.extensions import db

    made: list[Any] = []

    def make(**extra: str) -> Any:
        env = {**_env(database_url), **CHEAP_HASHING, **extra}
        application = create_app(env, instance_path=tmp_path / "instance", overrides={"TESTING": True})
        made.append(application)
        return application

    yield make
    for application in made:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_operator_decides_about_loopback_and_chosen_ranges(app_with: Any) -> None:
    from helpdesk.extensions import db
    from helpdesk.webhooks.subscriptions import WebhookInvalid, subscribe

    strict = app_with(HELPDESK_ALLOW_PRIVATE_URLS="false")
    with strict.app_context(), pytest.raises(WebhookInvalid, match="loopback"):
        subscribe(db.session, None, name="a", url="http://127.0.0.1:9/h", events=["*"], secret_env="S")
    ranges = app_with(HELPDESK_ALLOWED_URL_NETWORKS="10.20.0.0/16")
    with ranges.app_context():
        subscribe(db.session, None, name="b", url="https://10.20.1.5/h", events=["*"], secret_env="S")
        with pytest.raises(WebhookInvalid, match="private"):
            subscribe(db.session, None, name="c", url="https://10.21.1.5/h", events=["*"], secret_env="S")
        db.session.rollback()
    # outside any app, a connector used as a library may reach loopback only
    assert netguard.current_policy() == netguard.DEFAULT_POLICY


def test_a_stored_endpoint_that_now_points_inside_is_not_called(app_with: Any) -> None:
    """A row saved before (or a name that resolves differently now): refused when the delivery connects."""
    from helpdesk.extensions import db
    from helpdesk.webhooks import services
    from helpdesk.webhooks.models import WebhookDelivery

    strict = app_with(HELPDESK_ALLOW_PRIVATE_URLS="false")
    with strict.app_context():
        sub = WebhookSubscription(name="old", url="http://localhost:9/hook", events=["*"], secret_env="S")
        db.session.add(sub)
        db.session.flush()
        delivery = WebhookDelivery(subscription_id=sub.id, event="ticket.created", payload={})
        db.session.add(delivery)
        db.session.commit()
        with pytest.raises(services.DeliveryFailed):
            services.deliver(db.session, delivery.id, env={"S": "secret"})
        assert "not sent to http://localhost:9/hook: localhost (127.0.0.1) is a loopback address" in (
            delivery.last_error or ""
        )


def test_the_allowed_networks_setting_is_checked_at_start(tmp_path: Path) -> None:
    from helpdesk.config import ConfigError, load_settings

    assert load_settings({"HELPDESK_ALLOWED_URL_NETWORKS": "10.0.0.5, fd00::/8"}, tmp_path).allowed_url_networks == (
        "10.0.0.5/32",
        "fd00::/8",
    )
    with pytest.raises(ConfigError, match="HELPDESK_ALLOWED_URL_NETWORKS"):
        load_settings({"HELPDESK_ALLOWED_URL_NETWORKS": "intranet"}, tmp_path)
