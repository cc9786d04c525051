"""central/ingest."""
