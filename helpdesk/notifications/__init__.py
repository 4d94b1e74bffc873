"""Notifications for agents: @mentions, assignments and SLA warnings on their tickets."""
