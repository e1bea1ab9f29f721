"""Live updates: every server process sees every ticket change and streams it (SSE)."""
