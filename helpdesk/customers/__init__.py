"""customers feature package."""
