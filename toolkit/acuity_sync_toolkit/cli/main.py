"""The `acuity-sync` command: run the local stack, run the demo, add tenants, change settings, and operate (status,
explain, replay, reconcile, backfill), locally or on a deployed stack."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from acuity_sync_toolkit.cli import admin, backfill, dev, explain, reconcile, replay, settings, status, tenant
from acuity_sync_toolkit.cli.errors import CommandError


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    try:
        result: int = arguments.run(arguments)
    except CommandError as error:
        print(f"acuity-sync: {error}", file=sys.stderr)
        return 2
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="acuity-sync", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    # In the order `acuity-sync --help` lists them.
    dev.add_commands(commands)
    tenant.add_commands(commands)
    settings.add_commands(commands)
    admin.add_commands(commands)
    status.add_commands(commands)
    explain.add_commands(commands)
    replay.add_commands(commands)
    reconcile.add_commands(commands)
    backfill.add_commands(commands)
    return parser
