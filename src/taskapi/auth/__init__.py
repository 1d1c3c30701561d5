"""Sign-in: built-in accounts, access and refresh tokens, the current-user dependency."""
