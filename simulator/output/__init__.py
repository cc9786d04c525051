"""Output: the terminal table and the `--json` document (`tables`), and the `--report` folder's
plots and summary (`report`, the only user of matplotlib). Imports the Monte Carlo results and
the engine's KPI names; only the CLI imports it.
"""
