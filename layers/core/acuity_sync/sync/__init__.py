"""The sync engine, whatever the ledger: from Acuity's current state to the Billable (source.py), the plan (pure
rules, plan.py), the drafts a step sends (drafts.py), the record after a write (progress.py), applying a plan
exactly once (apply.py), one message's outcome (service.py) and the queue's side of it (worker.py)."""
