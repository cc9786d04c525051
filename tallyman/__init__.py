"""tallyman package."""
