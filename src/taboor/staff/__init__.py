"""Staff users, their sessions and login throttling."""
