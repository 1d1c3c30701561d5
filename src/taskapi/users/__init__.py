"""Accounts: the user table, the profile routes and account deletion."""
