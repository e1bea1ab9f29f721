"""API keys: create, hash, verify, list, revoke."""
