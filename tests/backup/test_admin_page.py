"""/admin/backup: admins read how this desk is backed up; leads and agents get 404."""

from __future__ import annotations

from typing import Any

from tests.web import compiled_translations, fresh_globals_per_request, login, post, world

__all__ = ["compiled_translations", "fresh_globals_per_request", "world"]


def test_admin_reads_the_commands_for_this_desk(
    client: Any, app: Any, world: Any, make_user: Any, backend: str
) -> None:
    login(client, make_user("admin@example.test", role="admin"))
    assert 'href="/admin/backup/"' in client.get("/admin/").get_data(as_text=True)
    response = client.get("/admin/backup/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "flask --app wsgi helpdesk backup --output" in html
    assert "helpdesk restore --check" in html and "helpdesk export" in html
    assert str(app.config["HELPDESK_SETTINGS"].instance_path) in html
    assert ("SQLite" if backend == "sqlite" else "PostgreSQL") in html
    assert "HELPDESK_SECRET_KEY" in html
    if backend == "postgresql":
        assert "pg_dump is installed and new enough" in html
        assert "postgresql+psycopg" not in html  # the URL as libpq tools spell it


def test_page_speaks_chinese(client: Any, world: Any, make_user: Any, compiled_translations: None) -> None:
    login(client, make_user("admin@example.test", role="admin", locale="zh_Hans"))
    html = client.get("/admin/backup/").get_data(as_text=True)
    assert "备份" in html


def test_leads_and_agents_get_404(client: Any, world: Any) -> None:
    login(client, world.lead)
    assert 'href="/admin/backup/"' not in client.get("/admin/").get_data(as_text=True)
    assert client.get("/admin/backup/").status_code == 404
    post(client, "/logout", {})
    login(client, world.eu)
    assert client.get("/admin/backup/").status_code == 404
    post(client, "/logout", {})
    assert client.get("/admin/backup/").status_code == 302  # signed out: to the sign-in page
