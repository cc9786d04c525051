"""Movements in: from the broker to the ledger and the engine, acknowledged after commit.

Owns central's MQTT connection (`bus.py`), the two-thread pipeline that validates,
de-duplicates and group-commits movements and dead letters (`pipeline.py`), what a group carries
(`batch.py`) and the hook through which another part plugs rules into a commit (`hooks.py`: the
workflows' count rules). Imports `central.stock` and the shared ground only: it never imports
workflows or planning; they register hooks and subscribe to its commits instead.
"""
