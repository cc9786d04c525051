"""Planning: what stock should be where, and what to do about it, from the ledger's history.

Owns the pure planning kernels in `core/` (demand history cubes, forecasts, safety stock and
reorder policies, tiered alerts, reorder proposals, transfer suggestions, slow movers, KPIs:
functions over NumPy arrays with Numba kernels, importing nothing else of central, so they can
be tested and benchmarked alone). Beside them, how central runs them: the service that keeps
the history current from the ingest's commits, raises alerts incrementally and runs full passes
(`service.py`, reading the ledger through `inputs.py`), its settings file (`settings.py`), where
alert changes go (`notify.py`: MQTT and webhooks), what the API shows (`views.py`, `models.py`,
`api.py`), `tallyman plan` (`cli.py`) and the Numba cache warm-up (`warmup.py`).

May import `central.stock` (ledger, engine, catalogue, storage), `central.workflows` (reorder
proposals become draft purchase orders through the workflow service and its models), the lower
half of `central.http` (errors, the `@endpoint` contract, the per-thread reader),
`central.access` (the role check) and the shared ground; never `central.lifecycle` or the app.
Nothing below it (stock, ingest, workflows) imports planning.
"""
