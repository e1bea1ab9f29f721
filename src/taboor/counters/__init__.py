"""Counters: who works them, which services they take, calling at them."""
