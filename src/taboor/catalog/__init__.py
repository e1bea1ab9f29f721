"""The company's catalog as callers see it: branches, service groups, services."""
