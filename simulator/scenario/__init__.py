"""Scenarios: the supply-network model (`model`), reading and validating TOML and CSV files
(`loader`, unknown keys refused), lead-time distributions, the lanes a scenario implies
(`lanes`), and the live twin's start from central's HTTP API (`live`). The bottom layer: it
imports nothing else of the simulator, only the shared ground (`tallyman.config`,
`tallyman.http_client`); which strategies exist is checked by `simulator.strategies`.
"""
