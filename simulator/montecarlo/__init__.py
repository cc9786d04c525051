"""Monte Carlo: `runner` runs replications × strategies across worker processes and averages
them, `stats` gives Student-t confidence intervals (paired on common random numbers), and
`analytic` / `validation` hold the exact textbook results the twin is tested against. Imports
the strategies, the engine and the scenario; never the output.
"""
