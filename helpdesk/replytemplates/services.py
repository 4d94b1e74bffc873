"""Create and delete reply templates, with messages an admin can act on."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from helpdesk.tickets.models import ReplyTemplate

MAX_NAME = 120


class TemplateInvalid(ValueError):
    """The template cannot be saved; the message says why."""


def create_template(session: Session, name: str, body: str, language: str | None) -> ReplyTemplate:
    name, body, language = name.strip(), body.strip(), (language or "").strip() or None
    if not name:
        raise TemplateInvalid(_("Give the template a name."))
    if len(name) > MAX_NAME:
        raise TemplateInvalid(_("The name is longer than %(n)d characters.", n=MAX_NAME))
    if not body:
        raise TemplateInvalid(_("The template has no text."))
    if session.scalar(sa.select(ReplyTemplate.id).where(ReplyTemplate.name == name)) is not None:
        raise TemplateInvalid(_("A template named %(name)s already exists.", name=name))
    template = ReplyTemplate(name=name, body=body, language=language)
    session.add(template)
    session.flush()
    return template


def delete_template(session: Session, template_id: int) -> bool:
    template = session.get(ReplyTemplate, template_id)
    if template is None:
        return False
    session.delete(template)
    session.flush()
    return True
