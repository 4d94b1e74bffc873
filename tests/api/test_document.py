"""The OpenAPI document, the docs page, and what every API route shares: JSON errors, size limits, CORS."""

from __future__ import annotations

from typing import Any

import pytest

from helpdesk.api.spec import document
from tests.web import login


def test_the_document_is_openapi_3_1_and_needs_a_token_or_a_session(client: Any, world: Any, bearer: Any) -> None:
    refused = client.get("/api/v1/openapi.json")
    assert refused.status_code == 401 and refused.json["error"]["code"] == "unauthorized"
    doc = client.get("/api/v1/openapi.json", headers=bearer(world.eu, "read")).json
    assert doc["openapi"] == "3.1.0"
    assert "/api/v1/users" in doc["paths"] and "/api/v1/teams" in doc["paths"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    # errors are documented in the one shape on every operation
    listed = doc["paths"]["/api/v1/users"]["get"]["responses"]
    assert listed["404"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorBody"
    login(client, world.eu)
    assert client.get("/api/v1/openapi.json").json["openapi"] == "3.1.0"


#: Routes from before the API had a schema source; each leaves this list when it gets its models.
NOT_YET_DOCUMENTED: set[str] = set()


def test_every_api_operation_is_in_the_document(app: Any) -> None:
    """A route under /api/v1 without models would be missing from the document: none may be."""
    with app.app_context():
        paths = document()["paths"]
    documented = {(path, method.upper()) for path, ops in paths.items() for method in ops}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.startswith("webhook_in."):
            continue
        if rule.rule == "/api/v1/openapi.json":
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        path = "/".join(p.split(":")[-1] if p.startswith("{") else p for p in path.split("/"))
        missing += [f"{m} {path}" for m in rule.methods - {"HEAD", "OPTIONS"} if (path, m) not in documented]
    assert sorted(missing) == sorted(NOT_YET_DOCUMENTED)


def test_the_docs_page_is_for_signed_in_users_and_loads_only_own_scripts(client: Any, world: Any) -> None:
    assert client.get("/api-docs").status_code == 302  # to sign-in
    login(client, world.eu)
    page = client.get("/api-docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/vendor/swagger-ui-bundle.js" in html and "/static/js/apidocs.js" in html
    assert "<script>" not in html  # no inline script: the CSP allows none
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_unknown_api_address_and_wrong_method_answer_json(client: Any, world: Any, bearer: Any) -> None:
    headers = bearer(world.eu)
    missing = client.get("/api/v1/no-such-thing", headers=headers)
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    wrong = client.delete("/api/v1/teams", headers=headers)
    assert wrong.status_code == 405 and set(wrong.json["error"]) == {"code", "message", "field"}


def test_ids_beyond_64_bits_are_404_not_a_crash(client: Any, world: Any, bearer: Any) -> None:
    response = client.get(f"/api/v1/users/{2**64}", headers=bearer(world.eu))
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_an_id_beyond_the_keys_32_bits_is_404_not_a_postgresql_error(client: Any, world: Any, bearer: Any) -> None:
    """Keys are PostgreSQL INTEGER: 2**31 in a path was sent to it and refused there ("integer out of range", 500)."""
    headers = bearer(world.eu)
    assert client.get(f"/api/v1/users/{world.eu.id}", headers=headers).status_code == 200
    response = client.get(f"/api/v1/users/{2**31}", headers=headers)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_an_id_in_a_query_beyond_the_keys_is_refused_naming_it(client: Any, world: Any, bearer: Any) -> None:
    """``after=2**31`` reached PostgreSQL's INTEGER column and was a 500 there."""
    response = client.get(f"/api/v1/users?after={2**31}", headers=bearer(world.eu))
    assert response.status_code == 400 and response.json["error"]["field"] == "after"
    assert client.get(f"/api/v1/users?after={2**31 - 1}", headers=bearer(world.eu)).json["users"] == []


def test_an_id_beyond_64_bits_is_404_for_each_method_of_its_address(
    app: Any, client: Any, world: Any, bearer: Any
) -> None:
    """Not 405: one address with a rule per method (as GET and POST of a ticket's messages) was 405 for the second."""
    app.add_url_rule("/api/v1/_test/things/<int:thing_id>", "test_get_thing", lambda thing_id: "", methods=["GET"])
    app.add_url_rule("/api/v1/_test/things/<int:thing_id>", "test_post_thing", lambda thing_id: "", methods=["POST"])
    headers = bearer(world.eu)
    for send in (client.get, client.post):
        response = send(f"/api/v1/_test/things/{2**64}", headers=headers)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert client.get("/api/v1/_test/things/7", headers=headers).status_code == 200


def test_a_json_body_over_one_megabyte_is_413_in_the_error_shape(client: Any, make_user: Any, bearer: Any) -> None:
    admin = make_user("admin@example.test", role="admin")
    body = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
    response = client.post(
        "/api/v1/sla/policies", data=body, content_type="application/json", headers=bearer(admin, "admin")
    )
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"


def test_a_bad_query_parameter_is_named(client: Any, world: Any, bearer: Any) -> None:
    response = client.get("/api/v1/users?limit=100000", headers=bearer(world.eu))
    assert response.status_code == 400
    assert response.json["error"]["field"] == "limit"
    assert "limit" in response.json["error"]["message"]


@pytest.mark.parametrize("configured", [False, True])
def test_cors_is_off_unless_origins_are_configured(
    configured: bool, database_url: str, tmp_path: Any, session: Any, world: Any, bearer: Any
) -> None:
    from helpdesk import create_app
    from helpdesk.extensions import db

    env = {"HELPDESK_DATABASE_URL": database_url, "HELPDESK_SECRET_KEY": "k" * 40}
    if configured:
        env["HELPDESK_API_CORS_ORIGINS"] = "https://erp.example.com"
    other = create_app(env, instance_path=tmp_path / "cors")
    headers = {**bearer(world.eu), "Origin": "https://erp.example.com"}
    response = other.test_client().get("/api/v1/teams", headers=headers)
    assert response.status_code == 200
    allowed = response.headers.get("Access-Control-Allow-Origin")
    assert allowed == ("https://erp.example.com" if configured else None)
    evil = other.test_client().get("/api/v1/teams", headers={**headers, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in evil.headers
    with other.app_context():
        db.engine.dispose()


def test_a_cors_origin_with_a_path_or_a_star_is_refused_at_start() -> None:
    from helpdesk.config import ConfigError, load_settings

    for bad in ("*", "https://erp.example.com/path", "erp.example.com"):
        with pytest.raises(ConfigError, match="HELPDESK_API_CORS_ORIGINS"):
            load_settings({"HELPDESK_API_CORS_ORIGINS": bad, "HELPDESK_SECRET_KEY": "k" * 40})


def test_the_signed_ticket_webhook_is_documented_without_a_token(app: Any) -> None:
    """It is validated after its signature check, outside SpecTree, so the document describes it from its model."""
    with app.app_context():
        doc = document()
    operation = doc["paths"]["/api/v1/webhooks/tickets"]["post"]
    assert operation["security"] == []
    headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
    assert (
        headers["X-Helpdesk-Signature"]["required"] and "HMAC-SHA256" in headers["X-Helpdesk-Signature"]["description"]
    )
    assert "X-Helpdesk-Key-Id" in headers and not headers["Idempotency-Key"]["required"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schema = doc["components"]["schemas"][body]
    assert {"external_id", "buyer", "body"} <= set(schema["required"])
    assert schema["properties"]["buyer"]["$ref"].rsplit("/", 1)[1] in doc["components"]["schemas"]
    assert set(operation["responses"]) >= {"200", "201", "401", "422"}


def test_the_older_routes_name_the_field_at_fault(client: Any, world: Any, make_user: Any, bearer: Any) -> None:
    admin = bearer(make_user("admin@example.test", role="admin"), "admin")
    typo = client.post("/api/v1/sla/policies", json={"name": "VIP", "first_respons_hours": 2}, headers=admin)
    assert typo.status_code == 422 and typo.json["error"]["field"] == "first_respons_hours"
    zone = client.post("/api/v1/sla/policies", json={"name": "VIP", "timezone": "Mars/Base"}, headers=admin)
    assert zone.status_code == 422 and zone.json["error"]["field"] == "timezone"
    nowhere = client.post("/api/v1/sla/policies", json={"name": "VIP", "channel_account_id": 999999}, headers=admin)
    assert nowhere.status_code == 422 and nowhere.json["error"]["field"] == "channel_account_id"
    lead = bearer(world.lead, "read")
    bad_date = client.get("/api/v1/reports/sla?from=yesterday", headers=lead)
    assert bad_date.status_code == 400 and bad_date.json["error"]["field"] == "from"
    assert client.get("/api/v1/reports/sla?to=0001-01-10", headers=lead).status_code == 400  # 30 days before year 1
    assert client.get("/api/v1/reports/agents?group=nope", headers=lead).json["error"]["field"] == "group"
    assert client.get("/api/v1/notifications?before=x", headers=bearer(world.eu)).json["error"]["field"] == "before"
