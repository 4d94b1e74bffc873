"""Signed notifications from platforms: verified by their connector, acted on once."""
