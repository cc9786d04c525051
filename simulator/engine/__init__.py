"""simulator/engine."""
