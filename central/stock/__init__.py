"""The truth: the append-only ledger and everything read straight from it.

Owns the ledger's schema and its packed engine blocks (`ledger.py`), the one way into the
database that every service is handed (`storage.py`: per-thread readers, one write path, owned
connections, transactions), many-row inserts (`sqlbulk.py`), the item and location catalogue
(`catalog.py`), the stock engine and its Numba kernels (`engine.py`, `kernels.py`) and the CSV
importer (`importer.py`). Imports only the shared ground (`tallyman.wire`, `tallyman.console`);
never ingest, access, http, workflows or planning, which all stand on it. Type-checked strictly.
"""
