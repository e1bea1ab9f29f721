"""Taboor: a self-hosted queue-management and appointment-booking server."""

__version__ = "0.1.0"
