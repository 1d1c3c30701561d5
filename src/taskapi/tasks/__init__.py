"""Tasks: the owner-scoped core of the API."""
