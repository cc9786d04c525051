"""Central's web face: the Flask app, the API's error format, the stock API and the dashboard.

Owns the app factory over central's parts (`app.py`: it builds and mounts, it never starts a
thread; `central.lifecycle` does), the `{"error", "detail"}` error format (`errors.py`), the
stock, movements, dead-letter and health API (`stock_api.py`), the OpenAPI document and the
dashboard page. `app.py` sits above every part whose API it mounts (workflows, planning);
`stock_api.py` and `errors.py` sit low, so that workflows and access may use them, and import
only `central.stock`, `central.access` and the ground.
"""
