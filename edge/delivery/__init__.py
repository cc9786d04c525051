"""edge/delivery."""
