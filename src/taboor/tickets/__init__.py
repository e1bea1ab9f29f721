"""Tickets: booking, numbering, the state machine, queue position and ETA."""
