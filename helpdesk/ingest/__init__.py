"""ingest feature package."""
