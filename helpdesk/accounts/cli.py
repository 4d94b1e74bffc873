"""``helpdesk users …`` and ``helpdesk teams …``: the administration pages' twins for scripted set-up."""

from __future__ import annotations

from flask.cli import AppGroup

users_cli = AppGroup("users", help="Users: create, change, deactivate, and their sign-in security.")
teams_cli = AppGroup("teams", help="Teams: members and the stores each serves.")
