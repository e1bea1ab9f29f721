"""Opening hours, closures and slot grids: pure functions, clock and zone injected."""
