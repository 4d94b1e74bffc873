"""Administration: one place that lists every page an admin (or, read-only, a lead) looks after."""
