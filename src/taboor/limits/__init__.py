"""Request budgets: External API requests counted per API key and per client address."""
