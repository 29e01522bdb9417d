"""Each function's service built from its environment (config.py) and, for a sync function, its ledger's
declaration: the only place adapters are chosen and the stores, clients and pacing (pacing.py) put together."""
