"""Central: the stock system every edge reports to, and everything built on its ledger.

Owns the packages below, each named after a capability and importing along the data flow
(pyproject's "Central reads like its data flow" contract): `stock` (the ledger, the one way into
the database, the engine), `ingest` (movements in from MQTT), `access` (tokens, audit, broker
logins), `workflows` (business documents), `planning` (alerts, forecasts, proposals), `http`
(the Flask app and the APIs) and `lifecycle.py`, the one module that starts and stops the parts
and defines `tallyman central`. Central may import the shared ground (`tallyman.wire`,
`tallyman.config`, `tallyman.console`, `tallyman.net`, `tallyman.http_client`) and never the
edge, the simulator or `tallyman.launch`.
"""
