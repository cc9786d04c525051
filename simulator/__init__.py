"""The digital twin: a SimPy model of the supply network, run as a Monte Carlo experiment.

Read it in the order data flows: `scenario` (files and central's live state → a `Scenario`),
`engine` (the compiled network, the Numba kernels, SimPy processes: one replication), `strategies`
(responses plugged into the twin), `montecarlo` (replications × strategies, confidence
intervals), `output` (tables, JSON, plots) and `cli` (`tallyman sim`). Each imports only the
ones before it (an import-linter contract), and none imports central or edge: the live twin
reads central over HTTP.
"""
