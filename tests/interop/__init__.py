"""Interoperability tests against real third-party servers (e.g. Better Auth)."""
