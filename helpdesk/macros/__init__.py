"""Macros in the helpdesk: shipped and custom reply templates, rendered for a ticket, with their actions."""
