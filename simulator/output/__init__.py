"""simulator/output."""
