"""central/http."""
