"""Attachment storage by content hash."""
