"""Backups of the whole helpdesk (database and attachment files), restores into an empty instance, JSON-lines export."""
