"""Cross-cutting pieces: configuration, database, security, errors."""
