"""audit feature package."""
