"""The transactional outbox: events stored with the change that caused them, relayed from the table."""
