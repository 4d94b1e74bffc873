"""The macros' command-line twin and API: export and import, render for a ticket, check; the same visibility rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from helpdesk.api.tokens import create_token
from helpdesk.macros.models import StoredMacro
from helpdesk.macros.services import stored_as_macro
from macros.library import shipped


def run(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["helpdesk", "macros", *args])


def custom(session: Any, key: str, body: str) -> None:
    session.add(
        StoredMacro(
            key=key, source="custom", titles={"en": key.title(), "de": key.upper()}, descriptions={},
            bodies={"en": body, "de": "Hallo {{ customer.first_name }}!"}, tags=["x"], platforms=[],
            actions={"status": "pending", "add_tags": ["a"]},
        )
    )  # fmt: skip
    session.commit()


def test_export_then_import_round_trips_a_macro(app, session, tmp_path: Path) -> None:
    custom(session, "thanks", "Thanks {{ customer.first_name }},\nsee you soon.")
    exported = run(app, "export", "thanks")
    assert exported.exit_code == 0, exported.output
    path = tmp_path / "thanks-again.toml"
    path.write_text(exported.output.replace('key = "thanks"', 'key = "thanks-again"'), encoding="utf-8")
    imported = run(app, "import", str(path))
    assert imported.exit_code == 0, imported.output
    again = session.scalar(sa.select(StoredMacro).where(StoredMacro.key == "thanks-again"))
    original = session.scalar(sa.select(StoredMacro).where(StoredMacro.key == "thanks"))
    assert (again.bodies, again.titles) == (original.bodies, original.titles)
    assert stored_as_macro(again).actions == stored_as_macro(original).actions


def test_importing_a_shipped_key_overrides_it(app, session, tmp_path: Path) -> None:
    key = next(iter(shipped()), None)
    if key is None:
        return
    path = tmp_path / f"{key}.toml"
    path.write_text(f'key = "{key}"\n[title]\nen = "Ours"\n[body]\nen = "Our own text."\n', encoding="utf-8")
    assert run(app, "import", str(path)).exit_code == 0
    assert session.scalar(sa.select(StoredMacro.source).where(StoredMacro.key == key)) == "override"


def test_render_prints_the_text_and_check_fails_on_a_broken_placeholder(app, session, make_ticket, world) -> None:
    ticket = make_ticket(body_text="Hallo, wo ist mein Paket?")
    custom(session, "hello", "Hello {{ customer.first_name }}!")
    rendered = run(app, "render", "hello", "--ticket", str(ticket.id), "--locale", "en")
    assert rendered.exit_code == 0 and rendered.stdout == "Hello Buyer!\n"
    custom(session, "typo", "Hello {{ customer.frist_name }}!")
    checked = run(app, "check")
    assert checked.exit_code == 1 and "typo [en]" in checked.output


def test_the_api_lists_and_renders_within_the_users_stores(client, session, make_ticket, world) -> None:
    custom(session, "zebra-greeting", "Hello {{ customer.first_name }}!")
    _token, raw = create_token(session, world.eu, "erp")
    session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    listed = client.get("/api/v1/macros?q=zebra", headers=headers).get_json()["macros"]
    assert listed[0]["key"] == "zebra-greeting" and listed[0]["actions"]["status"] == "pending"
    mine = make_ticket()
    rendered = client.get(f"/api/v1/tickets/{mine.id}/macros/zebra-greeting?locale=en", headers=headers).get_json()
    assert rendered["text"] == "Hello Buyer!\n" and rendered["reason"] == "chosen"
    theirs = make_ticket("shop-jp")
    assert client.get(f"/api/v1/tickets/{theirs.id}/macros/zebra-greeting", headers=headers).status_code == 404
