"""The commands docs/channels/ebay.md gives a seller, run against the fake."""

from __future__ import annotations

import json
from typing import Any

import pytest

import channels.ebay.connector  # noqa: F401 - registers the kind
from channels.ebay.fake import FakeEbay


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run(app: Any, *args: str, env: dict[str, str] | None = None) -> Any:
    return app.test_cli_runner().invoke(args=["helpdesk", *args], env=env)


def test_the_documented_add_test_and_dry_run_work(app: Any, fake: FakeEbay) -> None:
    settings, secrets = fake.account_settings()
    fake.seed(messages=2, orders=1)
    env = {"EBAY_CERT_ID": secrets["client_secret"], "EBAY_REFRESH_TOKEN": secrets["refresh_token"]}
    added = run(
        app, "channels", "add", "ebay",
        "--name", "ebay-uk",
        "--client-id", str(settings["client_id"]),
        "--client-secret-env", "EBAY_CERT_ID",
        "--refresh-token-env", "EBAY_REFRESH_TOKEN",
        "--marketplace-id", "EBAY_GB",
        "--seller-username", fake.seller,
        "--messages-api", "rest",
        "--dev-id", fake.dev_id,
        "--app-id", str(settings["client_id"]),
        "--cert-id-env", "EBAY_CERT_ID",
        "--site-id", "3",
        "--initial-days", "14",
        "--timeout-s", "30",
        "--base-url", fake.url,
        "--encrypt-secrets",
        env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    tested = run(app, "channels", "test", "ebay-uk")
    assert tested.exit_code == 0, tested.output
    dry = run(app, "channels", "dry-run", "ebay-uk", "--pages", "1")
    assert dry.exit_code == 0, dry.output
    records = [json.loads(line) for line in dry.stdout.splitlines() if line.startswith("{")]
    assert {r["record"] for r in records} == {"message", "order"}


def test_skip_cases_reads_no_cases(app: Any, fake: FakeEbay) -> None:
    settings, secrets = fake.account_settings()
    env = {"EBAY_CERT_ID": secrets["client_secret"], "EBAY_REFRESH_TOKEN": secrets["refresh_token"]}
    args = ["--client-id", str(settings["client_id"]), "--client-secret-env", "EBAY_CERT_ID",
            "--refresh-token-env", "EBAY_REFRESH_TOKEN", "--base-url", fake.url, "--skip-cases"]  # fmt: skip
    added = run(app, "channels", "add", "ebay", "--name", "sandbox", *args, env=env)
    assert added.exit_code == 0, added.output
    tested = run(app, "channels", "test", "sandbox", env=env)
    assert tested.exit_code == 0, tested.output
    assert not fake.requests_to("/post-order/")
