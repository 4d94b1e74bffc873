"""A team's "translate buyer messages automatically": the setting, and the listener that queues the jobs.

Ingest never translates and never asks whether to: it publishes
``message.received`` as always, and the once-only listener below (run by the
outbox relay after the ingest transaction committed) creates the pending
translations for every team that serves the message's store and has the
setting on, then queues their jobs.  Ingest speed therefore cannot change
(``bench/ingest.py --auto-translate``).  Only messages sent in the last
:data:`RECENT` are translated: an import of old mail must not spend the
month's characters on history nobody reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

import click
import sqlalchemy as sa
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from helpdesk.accounts.admin_services import audit
from helpdesk.accounts.models import Team, User, team_channel_accounts
from helpdesk.db import utcnow
from helpdesk.events import Payload, listen_once
from helpdesk.i18n import LANGUAGES
from helpdesk.tickets import translating
from helpdesk.tickets.models import Message
from helpdesk.translation import configuration, services

#: Messages sent longer ago than this are left for an agent to translate by hand.
RECENT = timedelta(days=2)


class AutoTranslateInvalid(ValueError):
    """A language the desk cannot show its agents; the message names the ones it can."""


def choices() -> dict[str, str]:
    """Languages a team may have messages translated into: the UI's (``zh`` → 简体中文)."""
    return {translating.language_code(locale): name for locale, name in LANGUAGES.items()}


def set_auto_translate(session: Session, actor: User | None, team: Team, language: str | None) -> None:
    """Turn the setting on (into ``language``) or off (None or ""); audited."""
    code = translating.language_code(language) if language else None
    if code is not None and code not in choices():
        raise AutoTranslateInvalid(
            _("Choose one of these languages, or off: %(choices)s", choices=", ".join(sorted(choices())))
        )
    if team.auto_translate_to == code:
        return
    old, team.auto_translate_to = team.auto_translate_to, code
    session.flush()
    audit(session, actor, "team.auto_translate", {"team_id": team.id, "team": team.name, "to": code, "old": old})


def targets_by_store(session: Session, store_ids: set[int]) -> dict[int, set[str]]:
    """Store id → the languages its teams want buyer messages in."""
    rows = session.execute(
        sa.select(team_channel_accounts.c.channel_account_id, Team.auto_translate_to)
        .join(Team, Team.id == team_channel_accounts.c.team_id)
        .where(team_channel_accounts.c.channel_account_id.in_(store_ids), Team.auto_translate_to.is_not(None))
    ).all()
    out: dict[int, set[str]] = defaultdict(set)
    for store_id, language in rows:
        out[store_id].add(language)
    return out


def queue_translations(session: Session, message_ids: list[int]) -> list[int]:
    """Pending translations for new buyer messages of stores whose teams want them; the rows' ids. Flushes."""
    if not message_ids or configuration.active(session) is None:
        return []
    messages = list(
        session.scalars(
            sa.select(Message).where(
                Message.id.in_(message_ids),
                Message.direction == "in",
                Message.auto.is_(None),
                Message.sent_at >= utcnow() - RECENT,
            )
        )
    )
    targets = targets_by_store(session, {m.channel_account_id for m in messages})
    queued = []
    for message in messages:
        wanted = targets.get(message.channel_account_id, set())
        source = translating.message_language(message) if wanted else None
        for target in sorted(wanted - {source} if source else wanted):
            row, needs_job = services.request_translation(session, message.id, target)
            if needs_job:
                queued.append(row.id)
    return queued


@listen_once("translation.auto", "message.received")
def _on_messages(session: Session, name: str, payloads: list[Payload]) -> Callable[[], None] | None:
    """Runs in the relay, after ingest committed: the rows go in with the relay's cursor, the jobs after."""
    ids = [int(p["message_id"]) for p in payloads if p.get("direction") == "in" and not p.get("auto")]
    queued = queue_translations(session, ids)
    if not queued:
        return None

    def queue() -> None:
        from helpdesk.translation.tasks import translate_message_task

        for translation_id in queued:
            translate_message_task(translation_id)

    return queue


@click.command("auto-translate")
@click.argument("team_name", metavar="TEAM")
@click.option("--to", "language", required=True, help="Language code (en, zh), or 'off'.")
@with_appcontext
def auto_translate_command(team_name: str, language: str) -> None:
    """Translate the team's new buyer messages automatically into a language, or stop (audited)."""
    from helpdesk.extensions import db

    team = db.session.scalar(sa.select(Team).where(Team.name == team_name))
    if team is None:
        raise click.UsageError(f"No team named {team_name!r}. `helpdesk teams list` shows them.")
    try:
        set_auto_translate(db.session, None, team, None if language == "off" else language)
    except AutoTranslateInvalid as exc:
        db.session.rollback()
        raise click.UsageError(str(exc)) from exc
    db.session.commit()
    if team.auto_translate_to:
        click.echo(f"{team.name}: new buyer messages are translated into {team.auto_translate_to}.")
    else:
        click.echo(f"{team.name}: automatic translation is off.")
