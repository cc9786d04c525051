"""central/access."""
