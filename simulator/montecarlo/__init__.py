"""simulator/montecarlo."""
