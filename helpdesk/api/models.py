"""API tokens: bearer secrets for the REST API, stored only as SHA-256 hashes.

The raw token is shown once when created; ``prefix`` (its first characters)
lets a user tell tokens apart in lists without revealing them.  ``scope``
caps what a token may do below its user's role (read < write < admin), so a
report export can hold a token that cannot change anything.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.accounts.models import User
from helpdesk.db import Base, utcnow


class Scope:
    """Token scopes, weakest first; each includes the ones before it."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"
    ALL = (READ, WRITE, ADMIN)

    @classmethod
    def covers(cls, granted: str, needed: str) -> bool:
        return granted in cls.ALL and cls.ALL.index(granted) >= cls.ALL.index(needed)


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Tokens made before scopes existed could change things; they keep "write" so no integration breaks.
    scope: Mapped[str] = mapped_column(sa.String(8), server_default=Scope.WRITE)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    last_used_address: Mapped[str | None] = mapped_column(sa.String(45))
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
