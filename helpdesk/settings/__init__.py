"""settings feature package: each user's own preferences."""
