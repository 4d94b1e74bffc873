"""Reports for team leads: SLA compliance, response and resolution times, backlog, trends."""
