"""firmware_stubs package."""
