"""`acuity-sync reconcile --tenant T [--days N] [--dry-run]`: the maintenance function's reconciliation for one
tenant, now (acuity_sync.operations.reconcile): Acuity's appointments from N days before today to N days after
(canceled ones too) and its latest orders, each compared with what the sync has seen, and queued with
`Origin.RECONCILE` where missing or different. Its Acuity requests are paced by the global budget with the
background's reserve, as the maintenance function's are."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from acuity_sync.acuity.client import AcuityError
from acuity_sync.operations.reconcile import DEFAULT_DAYS, DEFAULT_ORDERS, Reconciler, Window, business_today
from acuity_sync_toolkit.cli.errors import CommandError
from acuity_sync_toolkit.cli.operator import acuity_client, add_operator_options, answer, open_stores, quietly


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    reconcile = commands.add_parser("reconcile", help="find and queue what a lost webhook left unsynced, now")
    reconcile.add_argument("--tenant", required=True)
    reconcile.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"days each side of today ({DEFAULT_DAYS})")
    reconcile.add_argument("--dry-run", action="store_true", help="say what would be queued, queue nothing")
    add_operator_options(reconcile)
    reconcile.set_defaults(run=_run_reconcile)


def _run_reconcile(arguments: argparse.Namespace) -> int:
    if arguments.days < 0:
        raise CommandError("--days is a number of days: 0 or more")
    stores = open_stores(arguments)
    profile = stores.profile(arguments.tenant)
    window = Window.around(business_today(profile, datetime.now(UTC)), arguments.days)
    reconciler = Reconciler(stores.seen, stores.queues(profile.ledgers))
    try:
        with acuity_client(profile) as acuity:
            result = quietly(
                lambda: reconciler.reconcile(
                    profile,
                    acuity,
                    window,
                    orders=DEFAULT_ORDERS,
                    pace=stores.acuity_pacer(),
                    dry_run=arguments.dry_run,
                )
            )
    except AcuityError as error:
        raise CommandError(str(error)) from error
    document: dict[str, Any] = {"checked": result.checked, "queued": result.queued}
    if arguments.dry_run:
        document["would_queue"] = result.would_queue

    def words() -> list[str]:
        span = f"{window.first:%b %d} to {window.last:%b %d}"
        lines = [
            f"Checked {result.checked} appointments and orders of {profile.name} (appointments {span}, the latest "
            f"{DEFAULT_ORDERS} orders; {result.pages} Acuity requests)."
        ]
        if arguments.dry_run:
            lines.append(f"{result.would_queue} sync(s) would be queued (dry run): missing or different.")
        elif result.queued:
            lines.append(
                f"Queued {result.queued} sync(s): {result.missing} never seen (a lost webhook), "
                f"{result.different} changed since they were synced."
            )
        else:
            lines.append("Everything Acuity lists is in step: nothing queued.")
        if not result.complete:
            lines.append("Acuity's budget ran out before the whole window was read: run it again later.")
        return lines

    answer(arguments, document, words)
    return 0
