"""Error pages: every refusal in the app's layout and the user's language, or JSON for API clients."""
