"""``/api/v1/channels``: the accounts a token's user serves, with the channels page's health, and no secret ever."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from helpdesk.channelaccounts.models import Health
from helpdesk.crypto import seal
from helpdesk.db import utcnow


def test_an_agent_lists_the_team_stores_and_a_lead_all(client: Any, world: Any, bearer: Any) -> None:
    mine = client.get("/api/v1/channels", headers=bearer(world.eu, "read"))
    assert mine.status_code == 200
    assert [c["name"] for c in mine.json["channels"]] == ["shop-de"]
    de = mine.json["channels"][0]
    assert (de["kind"], de["platform"], de["site"], de["enabled"]) == ("ebay", "ebay", "DE", True)
    assert de["health"]["state"] == "new"  # never polled
    everyone = client.get("/api/v1/channels", headers=bearer(world.lead, "read")).json["channels"]
    assert sorted(c["name"] for c in everyone) == ["shop-de", "shop-jp"]


def test_another_team_store_is_404_like_a_missing_one(client: Any, world: Any, bearer: Any) -> None:
    headers = bearer(world.eu, "read")
    assert client.get(f"/api/v1/channels/{world.de.id}", headers=headers).status_code == 200
    theirs = client.get(f"/api/v1/channels/{world.jp.id}", headers=headers)
    missing = client.get("/api/v1/channels/999999", headers=headers)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/channels/{world.jp.id}", headers=bearer(world.lead, "read")).status_code == 200
    assert client.get("/api/v1/channels").status_code == 401


def test_health_says_what_failed_and_what_to_do_in_english(client: Any, session: Any, world: Any, bearer: Any) -> None:
    now = utcnow()
    de = world.de
    de.health, de.health_detail = Health.FAILING, "eBay refused the token (invalid_grant)"
    de.consecutive_failures, de.last_error_at, de.last_polled_at = 3, now, now
    de.last_success_at = now - timedelta(days=2)
    de.problems = {
        "messages": {"code": "permission_missing", "detail": "scope sell.messaging missing"},
        "skipped": {"at": (now - timedelta(days=1)).isoformat(), "why": "lock held"},  # not a stream: not a problem
    }
    session.commit()
    response = client.get(
        f"/api/v1/channels/{de.id}", headers={**bearer(world.eu, "read"), "Accept-Language": "zh-CN,zh;q=0.9"}
    )
    health = response.json["health"]
    assert health["state"] == "failing"
    assert health["last_error"] == "eBay refused the token (invalid_grant)"
    assert health["consecutive_failures"] == 3
    assert health["last_success_at"].startswith((now - timedelta(days=2)).date().isoformat())
    assert health["last_success_at"].endswith("Z") or health["last_success_at"].endswith("+00:00")
    # silent for two days: how long, and the failure's own words, in English whatever the caller's language
    assert health["warnings"][0].startswith("Not polled for 2880 minutes; the last attempt failed")
    assert "eBay refused the token (invalid_grant)" in health["warnings"][0]
    [problem] = health["problems"]
    assert problem["stream"] == "messages" and problem["title"] == "A permission is missing"
    assert "Grant the missing permission" in problem["next_step"]


def test_no_secret_or_setting_ever_appears(
    client: Any, session: Any, world: Any, bearer: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("SHOP_DE_PASSWORD", "env-held-password-value")
    de = world.de
    de.secrets_sealed = seal({"refresh_token": "sealed-refresh-token-value"})
    de.secret_refs = {"password": "SHOP_DE_PASSWORD"}
    de.settings = {"app_id": "settings-app-id-value"}
    de.base_url = "https://user:basic-auth-value@api.example.test"
    session.commit()
    headers = bearer(world.lead, "read")
    text = client.get("/api/v1/channels", headers=headers).get_data(as_text=True)
    text += client.get(f"/api/v1/channels/{de.id}", headers=headers).get_data(as_text=True)
    for secret in (
        "sealed-refresh-token-value",
        de.secrets_sealed,
        "env-held-password-value",
        "SHOP_DE_PASSWORD",
        "settings-app-id-value",
        "basic-auth-value",
    ):
        assert secret not in text
    assert "shop-de" in text  # the answer was not simply empty
