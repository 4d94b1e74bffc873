"""inbox feature package: the agent's ticket list, saved views, filters and search."""
