"""Trading platform notifications: the signature (reference test vector), routing to an account, refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from channels.base import AccountConfig, PushRejected, PushRequest
from channels.ebay import push
from channels.ebay.connector import EbayConnector
from channels.ebay.fake import FakeEbay
from channels.ebay.fakedata import stamp
from channels.ebay.signing import notification_signature, signature_matches
from channels.fake import FakeRequest, FakeResponse, FakeServer
from tests.channels.ebay.support import data

SIGNED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_signature_matches_the_reference_test_vector() -> None:
    assert notification_signature("2026-01-01T00:00:00.000Z", "dev-111", "app-222", "cert-333") == (
        "JC+yYWp57hESARfug4Zf9g=="
    )
    assert signature_matches("JC+yYWp57hESARfug4Zf9g==\n", "2026-01-01T00:00:00.000Z", "dev-111", "app-222", "cert-333")
    assert not signature_matches(
        "JC+yYWp57hESARfug4Zf9g==", "2026-01-01T00:00:01.000Z", "dev-111", "app-222", "cert-333"
    )


def account(name: str, seller: str | None, cert: str = "cert-333") -> AccountConfig:
    settings = {"client_id": "app-222", "dev_id": "dev-111"}
    if seller:
        settings["seller_username"] = seller
    return AccountConfig(name=name, kind="ebay", settings=settings, secrets={"client_secret": cert})


def handle(body: bytes, accounts: list[AccountConfig], now: datetime = SIGNED_AT + timedelta(minutes=3)):
    return push.handle(PushRequest(headers={}, body=body, url="https://desk.example.test/hooks/ebay"), accounts, now)


def test_a_signed_notification_polls_the_seller_it_is_for() -> None:
    accounts = [account("other", "another_seller"), account("lamps", "LampWorks_UK")]
    result = handle(data("notification_ask_seller_question.xml"), accounts)
    assert result.poll == ("lamps",)
    assert result.dedupe_key == "ebay:AskSellerQuestion:lampworks_uk:2281904467:2026-01-01T00:00:00.000Z"
    assert result.response == b"" and result.messages == ()


def test_an_account_that_never_said_who_it_is_is_polled_when_none_matches() -> None:
    assert handle(data("notification_ask_seller_question.xml"), [account("lamps", None)]).poll == ("lamps",)


def test_a_notification_for_a_seller_we_do_not_serve_is_acknowledged_without_a_poll() -> None:
    assert handle(data("notification_ask_seller_question.xml"), [account("x", "someone_else")]).poll == ()


def test_a_tampered_signature_or_timestamp_is_refused_with_401() -> None:
    body = data("notification_ask_seller_question.xml")
    for tampered in (
        body.replace(b"JC+yYWp57hESARfug4Zf9g==", b"JC+yYWp57hESARfug4Zf9h=="),
        body.replace(b"<Timestamp>2026-01-01T00:00:00.000Z", b"<Timestamp>2026-01-01T00:00:09.000Z"),
    ):
        with pytest.raises(PushRejected) as caught:
            handle(tampered, [account("lamps", "lampworks_uk")])
        assert caught.value.status == 401


def test_a_keyset_with_another_cert_id_does_not_verify() -> None:
    with pytest.raises(PushRejected) as caught:
        handle(data("notification_ask_seller_question.xml"), [account("lamps", "lampworks_uk", cert="cert-999")])
    assert caught.value.status == 401


@pytest.mark.parametrize("offset", [timedelta(hours=1, seconds=1), -timedelta(minutes=6)])
def test_a_notification_outside_the_window_is_refused_with_400(offset: timedelta) -> None:
    with pytest.raises(PushRejected) as caught:
        handle(data("notification_ask_seller_question.xml"), [account("lamps", "lampworks_uk")], SIGNED_AT + offset)
    assert caught.value.status == 400


def test_something_that_is_not_a_notification_is_refused_with_400() -> None:
    with pytest.raises(PushRejected) as caught:
        handle(b"{not xml", [account("lamps", "lampworks_uk")])
    assert caught.value.status == 400


def test_the_fake_pushes_a_signed_notification_over_http_that_the_connector_accepts(fake: FakeEbay) -> None:
    received: list[FakeRequest] = []

    def hook(request: FakeRequest) -> FakeResponse:
        received.append(request)
        return FakeResponse.empty(200)

    desk = FakeServer()
    desk.add_route("POST", "/hooks/ebay", hook)
    with desk:
        hook_url = f"{desk.url}/hooks/ebay"
        fake.seed(messages=2)
        response = fake.push_to(hook_url, event="MyMessagesM2MMessage")
    assert response.status_code == 200 and received[0].headers["soapaction"].endswith('MyMessagesM2MMessage"')
    settings, secrets = fake.account_settings()
    accounts = [AccountConfig(name="lamps", kind="ebay", settings=settings, secrets=secrets)]
    request = PushRequest(headers=received[0].headers, body=received[0].body, url=hook_url)
    result = EbayConnector.handle_push(request, accounts)
    assert result.poll == ("lamps",) and result.dedupe_key and ":MyMessagesM2MMessage:" in result.dedupe_key


def test_the_fakes_stale_and_forged_notifications_are_refused(fake: FakeEbay) -> None:
    fake.seed(messages=1)
    settings, secrets = fake.account_settings()
    accounts = [AccountConfig(name="lamps", kind="ebay", settings=settings, secrets=secrets)]
    for kwargs, status in (
        ({"timestamp": stamp(fake.now() - timedelta(hours=2))}, 400),
        ({"signature": "Zm9yZ2Vk"}, 401),
    ):
        _, body = fake.signed_push(**kwargs)
        with pytest.raises(PushRejected) as caught:
            EbayConnector.handle_push(PushRequest(headers={}, body=body, url="https://x.test/hooks/ebay"), accounts)
        assert caught.value.status == status
