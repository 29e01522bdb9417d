"""Each function's service built from its environment: the only place adapters are chosen."""
