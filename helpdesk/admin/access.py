"""Who may open an admin-only page: the one guard every admin-only blueprint installs."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from helpdesk.accounts.models import Role


def admins_only() -> None:
    """``before_request`` of an admin-only blueprint: others get 404, as if the page did not exist.

    Strangers pass through to the view's ``login_required``, which sends them to sign in.
    """
    if current_user.is_authenticated and current_user.role != Role.ADMIN:
        abort(404)
