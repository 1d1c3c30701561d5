"""Measurement scripts (not part of the service or its test suite)."""
