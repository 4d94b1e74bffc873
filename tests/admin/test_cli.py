"""``helpdesk users …`` and ``helpdesk teams …``: the administration pages' twins, with errors that name the problem."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from helpdesk.accounts.models import Team, User
from helpdesk.audit.models import AuditEvent
from tests.test_cli import run

PW = {"PW": "a-long-password"}


def _audit(session: Any) -> list[tuple[str, str]]:
    session.expire_all()
    return [(e.actor_type, e.action) for e in session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]


def test_users_create_update_list_deactivate_reactivate(app: Any, session: Any, world: Any) -> None:
    created = run(
        app,
        *("users", "create", "--email", "New@Example.test", "--name", "Nia", "--role", "agent"),
        *("--locale", "zh_Hans", "--timezone", "Asia/Shanghai", "--teams", "Europe,Asia", "--password-env", "PW"),
        env=PW,
    )
    assert created.exit_code == 0, created.output
    user = session.scalar(sa.select(User).where(User.email == "new@example.test"))
    assert (user.locale, user.timezone, sorted(t.name for t in user.teams)) == (
        "zh_Hans",
        "Asia/Shanghai",
        ["Asia", "Europe"],
    )

    updated = run(app, "users", "update", "new@example.test", "--role", "lead", "--teams", "Asia", "--timezone", "UTC")
    assert updated.exit_code == 0, updated.output
    assert "role agent -> lead" in updated.output and "timezone Asia/Shanghai -> UTC" in updated.output
    session.expire_all()
    assert user.role == "lead" and [t.name for t in user.teams] == ["Asia"]

    listing = run(app, "users", "list")
    line = next(line for line in listing.output.splitlines() if line.startswith("new@example.test"))
    assert "lead" in line and "active" in line and "teams=Asia" in line and "last-sign-in=never" in line

    assert run(app, "users", "deactivate", "new@example.test").exit_code == 0
    session.expire_all()
    assert user.active is False
    assert "inactive" in run(app, "users", "list").output
    assert "already deactivated" in run(app, "users", "deactivate", "new@example.test").output
    assert run(app, "users", "reactivate", "new@example.test").exit_code == 0
    session.expire_all()
    assert user.active is True
    assert _audit(session) == [
        ("system", "user.created"),
        ("system", "user.updated"),
        ("system", "user.deactivated"),
        ("system", "user.reactivated"),
    ]
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.updated")).one()
    assert event.data["via"] == "cli" and event.data["changes"]["role"] == ["agent", "lead"]


def test_users_errors_name_what_is_wrong(app: Any, session: Any, world: Any) -> None:
    base = ("users", "create", "--email", "x@example.test", "--name", "X", "--password-env", "PW")
    cases = {
        ("--role", "boss"): "Unknown role boss",
        ("--timezone", "Mars/Olympus"): "Unknown time zone Mars/Olympus",
        ("--locale", "xx"): "Unknown language xx",
        ("--teams", "Nowhere"): "no team named Nowhere",
    }
    for extra, message in cases.items():
        result = run(app, *base, *extra, env=PW)
        assert result.exit_code == 2 and message in result.output, result.output
    dup = run(app, "users", "create", "--email", "eu@example.test", "--name", "E", "--password-env", "PW", env=PW)
    assert dup.exit_code == 2 and "already exists" in dup.output
    short = run(app, *base, env={"PW": "short"})
    assert short.exit_code == 2 and "at least 8 characters" in short.output
    missing = run(app, "users", "update", "ghost@example.test", "--role", "lead")
    assert missing.exit_code == 2 and "no user with e-mail ghost@example.test" in missing.output
    assert session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0


def test_the_last_active_admin_can_be_neither_deactivated_nor_demoted(app: Any, session: Any, make_user: Any) -> None:
    make_user("root@example.test", name="Root", role="admin")
    refused = run(app, "users", "deactivate", "root@example.test")
    assert refused.exit_code == 2 and "last active admin" in refused.output
    refused = run(app, "users", "update", "root@example.test", "--role", "agent")
    assert refused.exit_code == 2 and "last active admin" in refused.output
    make_user("second@example.test", name="Second", role="admin")
    assert run(app, "users", "update", "root@example.test", "--role", "agent").exit_code == 0
    refused = run(app, "users", "deactivate", "second@example.test")
    assert refused.exit_code == 2 and "last active admin" in refused.output


def test_teams_commands(app: Any, session: Any, world: Any) -> None:
    assert run(app, "teams", "create", "Americas").exit_code == 0
    dup = run(app, "teams", "create", "Americas")
    assert dup.exit_code == 2 and "already exists" in dup.output
    assert run(app, "teams", "add-member", "Americas", "eu@example.test").exit_code == 0
    assert "already in" in run(app, "teams", "add-member", "Americas", "eu@example.test").output
    assert run(app, "teams", "add-store", "Americas", "shop-jp").exit_code == 0
    unknown = run(app, "teams", "add-store", "Americas", "shop-xx")
    assert unknown.exit_code == 2 and "no store or mailbox named shop-xx" in unknown.output
    listing = run(app, "teams", "list").output
    assert "members=eu@example.test" in listing and "stores=shop-jp" in listing

    from helpdesk.accounts.services import visible_account_ids

    session.expire_all()
    assert visible_account_ids(world.eu) == {world.de.id, world.jp.id}
    assert run(app, "teams", "remove-store", "Americas", "shop-jp").exit_code == 0
    assert run(app, "teams", "remove-member", "Americas", "eu@example.test").exit_code == 0
    assert run(app, "teams", "rename", "Americas", "Amériques").exit_code == 0
    assert run(app, "teams", "delete", "Amériques", "--yes").exit_code == 0
    assert session.scalar(sa.select(Team).where(Team.name.like("Am%"))) is None
    missing = run(app, "teams", "delete", "Americas", "--yes")
    assert missing.exit_code == 2 and "no team named Americas" in missing.output
    assert [a for _, a in _audit(session)] == [
        "team.created",
        "team.member_added",
        "team.stores_changed",
        "team.stores_changed",
        "team.member_removed",
        "team.renamed",
        "team.deleted",
    ]


def test_users_create_invite_prints_a_set_password_link(app: Any, session: Any, world: Any) -> None:
    result = run(app, "users", "create", "--email", "ivo@example.test", "--name", "Ivo", "--invite")
    assert result.exit_code == 0, result.output
    assert "/password/" in result.output.splitlines()[-1]
    assert [a for _, a in _audit(session)] == ["user.created", "signin.password_link"]


def test_users_create_invite_mail_needs_mail_set_up(app: Any, session: Any) -> None:
    result = run(app, "users", "create", "--email", "x@example.test", "--name", "X", "--invite", "--mail")
    assert result.exit_code == 2 and "use --invite alone to print the link" in result.output
    assert session.scalar(sa.select(sa.func.count(User.id))) == 0
