"""edge/decoding."""
