"""The `acuity-sync` command (pyproject's entry point is `main`): one module per command or group of commands.

main.py (the parser and the exit status), location.py (where the stack is: options shared by the commands that
talk to it), tenant.py (`tenant add`), settings.py (`settings get|set`), dev.py (`dev` and `demo`); the operations
commands, each with --json: status.py, explain.py, replay.py, reconcile.py, backfill.py, and what they share
(operator.py).
"""

from acuity_sync_toolkit.cli.main import main

__all__ = ["main"]
