"""edge/devices."""
