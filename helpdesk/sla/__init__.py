"""Service-level clocks: open-time arithmetic, per-ticket clock state and shipped default policies."""
