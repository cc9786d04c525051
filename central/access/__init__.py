"""Who may do what: API tokens with roles, the audit trail, and the broker's device logins.

Owns hashed bearer tokens, the role check that guards API views and the audit rows they write
(`tokens.py`), and the mosquitto password file and per-device topic ACLs (`broker.py`, with
`tallyman device` in `devices.py`). Imports `central.stock` (the ledger's tables),
`central.http.errors` (the API's error type) and the shared ground; nothing above them.
"""
