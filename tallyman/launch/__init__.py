"""The roof: the `tallyman` command and the local launcher. Imports downward only."""
