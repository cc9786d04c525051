"""simulator/scenario."""
