"""check_connection against the fake, with both Orders APIs: each diagnosis, with the step a seller takes next.

How Orders API 2026-01-01 judges buyer data (no token to ask for) is in ``test_fetch_2026.py``.
"""

from __future__ import annotations

import pytest

from channels.amazon.settings import ORDERS_2026, ORDERS_V0
from channels.base import DiagnosisCode, Stream
from tests.channels.amazon.conftest import LISTINGS


@pytest.fixture(params=[ORDERS_2026, ORDERS_V0])
def orders_api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_a_working_account_is_ok(fake, connector):
    fake.seed(orders=2)

    diagnosis = connector.check_connection()

    assert diagnosis.ok, diagnosis
    assert [c.name for c in diagnosis.checks] == ["credentials", "orders", "messaging", "buyer_data"]


def test_ok_without_any_recent_order(fake, make_connector):
    diagnosis = make_connector(use_restricted_data_token=False).check_connection()

    assert diagnosis.ok, diagnosis
    assert "no order in the last 30 days" in diagnosis.detail


def test_revoked_credentials(fake, connector):
    fake.revoke_credentials()

    diagnosis = connector.check_connection()

    assert diagnosis.code is DiagnosisCode.CREDENTIALS_REFUSED
    assert "Manage Your Apps" in diagnosis.hint


@pytest.mark.parametrize(
    ("drop", "check", "role"),
    [
        (lambda fake: fake.drop_scope(Stream.ORDERS), "orders", "Inventory and Order Tracking"),
        (lambda fake: fake.drop_scope(Stream.MESSAGES), "messaging", "Buyer Communication"),
        (lambda fake: fake.drop_restricted_roles(), "buyer_data", "Direct-to-Consumer Delivery"),
    ],
)
def test_a_missing_role_is_named_with_where_to_grant_it(fake, connector, drop, check, role):
    fake.seed(orders=10)  # Orders 2026-01-01 judges buyer data by the merchant-fulfilled orders it reads
    drop(fake)

    diagnosis = connector.check_connection()

    assert diagnosis.code is DiagnosisCode.PERMISSION_MISSING
    failed = [c for c in diagnosis.checks if c.code is not DiagnosisCode.OK]
    assert [c.name for c in failed] == [check]
    assert role in diagnosis.hint and "Develop Apps" in diagnosis.hint


def test_quota(fake, connector, orders_api):
    fake.rate_limit_next(5, path=LISTINGS[orders_api].path)

    assert connector.check_connection().code is DiagnosisCode.RATE_LIMITED


def test_unreachable(fake, connector):
    fake.stop()

    assert connector.check_connection().code is DiagnosisCode.UNREACHABLE


def test_bad_settings_are_misconfigured_without_a_call(fake, make_connector):
    diagnosis = make_connector(marketplace_ids="A1PA6795UKMFR9,A1VC38T7YXB528").check_connection()

    assert diagnosis.code is DiagnosisCode.MISCONFIGURED
    assert "marketplace_ids" in diagnosis.detail
    assert fake.requests == []


def test_a_marketplace_the_seller_does_not_sell_in_is_misconfigured(fake, make_connector):
    diagnosis = make_connector(marketplace_ids="A13V1IB3VIYZZH").check_connection()

    assert diagnosis.code is DiagnosisCode.MISCONFIGURED
    assert "Invalid MarketplaceId" in diagnosis.detail
