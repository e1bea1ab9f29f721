"""Operations: health and readiness, Prometheus metrics, structured logs, and what
``taboor serve`` sets up for them (README, "Operations")."""
