"""Demo data and synthetic message streams (shared by `helpdesk demo` and bench/)."""
