"""central/planning."""
