"""The domain: pure types the engine, the store, the ledgers and the webhook all speak. Nothing here does I/O or
imports anything of ours but other domain modules (import-linter keeps it so); importing this package imports
none of its modules, so the webhook's cold start loads only the two it uses (names, message)."""
