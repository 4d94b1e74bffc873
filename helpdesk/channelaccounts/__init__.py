"""channelaccounts feature package."""
