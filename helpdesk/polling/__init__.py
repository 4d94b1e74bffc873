"""Polling channel accounts on a schedule."""
