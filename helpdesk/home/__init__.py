"""Placeholder home page until the inbox lands."""
