"""Outbound webhooks: integrations subscribe to events of the catalogue."""
