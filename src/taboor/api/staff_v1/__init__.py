"""The staff API (``/staff/v1``): login, counters, ticket moves, live queues."""
