"""External sign-in without Node: JWKS caching, token checks, settings."""
