"""central/stock."""
