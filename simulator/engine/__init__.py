"""The engine: one replication of the twin. `network` compiles a scenario into dense arrays,
`twin` holds the state and the day's operations, `processes` and `events` are the SimPy side
(the daily rhythm, carriers, outages; explicit same-day phases), and the Numba kernels do the
per-pair work (`kernel`, `policies`, `allocation`); `kpis` turns one replication's totals into
KPIs and `rng` keys its random streams. Imports only `simulator.scenario`; strategies reach it
as `twin.Strategy` objects, so it knows none by name.
"""
