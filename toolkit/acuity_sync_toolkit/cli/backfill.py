"""`acuity-sync backfill --tenant T --from DATE --to DATE [--ledger L] [--dry-run]`: appointments and orders from
before the connection (or any past window), synced once each (acuity_sync.operations.backfill).

The ones whose sync already wrote a document are left alone; the others wait in the table and the maintenance
function releases them to their ledger's queue with `Origin.BACKFILL`, a few per tenant and ledger every run and,
where the ledger caps its calls a day (Xero), only within a share of the day's cap: one tenant's backfill never
starves the others, nor its own live bookings. The dry run lists what would be created and what it would cost
against today's budget, and queues nothing.
"""

from __future__ import annotations

import argparse
import math
from collections import Counter
from datetime import date
from typing import Any

from acuity_sync.acuity.client import AcuityError
from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.registry import ledger_declaration
from acuity_sync.operations.backfill import (
    DAY_SHARE,
    PER_GROUP,
    BackfillPlan,
    calls_for,
    plan_backfill,
    schedule_backfill,
)
from acuity_sync.store.budgets import ledger_budget_name
from acuity_sync_toolkit.cli.errors import CommandError
from acuity_sync_toolkit.cli.operator import (
    Stores,
    acuity_client,
    add_operator_options,
    answer,
    ledger_choices,
    open_stores,
    quietly,
    target_ledgers,
)

RUN_MINUTES = 5  # the maintenance function's schedule


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    backfill = commands.add_parser("backfill", help="sync a past window's appointments and orders, gradually")
    backfill.add_argument("--tenant", required=True)
    backfill.add_argument("--from", dest="first", required=True, type=_date, metavar="DATE", help="YYYY-MM-DD")
    backfill.add_argument("--to", dest="last", required=True, type=_date, metavar="DATE", help="YYYY-MM-DD")
    backfill.add_argument("--ledger", choices=ledger_choices(), help="one connected ledger (default: all)")
    backfill.add_argument("--dry-run", action="store_true", help="list what would be created and its cost")
    add_operator_options(backfill)
    backfill.set_defaults(run=_run_backfill)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _run_backfill(arguments: argparse.Namespace) -> int:
    if arguments.first > arguments.last:
        raise CommandError("--from is after --to")
    stores = open_stores(arguments)
    profile = stores.profile(arguments.tenant)
    ledgers = target_ledgers(profile, arguments.ledger)
    if not ledgers:
        raise CommandError(f"{profile.name} has no ledger connected: nothing to backfill into")
    try:
        with acuity_client(profile) as acuity:
            plan: BackfillPlan = quietly(
                lambda: plan_backfill(
                    profile, acuity, stores.seen, ledgers, arguments.first, arguments.last, pace=stores.acuity_pacer()
                )
            )
    except AcuityError as error:
        raise CommandError(str(error)) from error
    if not plan.complete:
        raise CommandError(
            "Acuity's request budget ran out before the window was listed: nothing was queued; try a shorter window "
            "or again later"
        )
    queued = 0 if arguments.dry_run else schedule_backfill(stores.backfills, profile.tenant_id, plan)
    document: dict[str, Any] = {
        "appointments": plan.appointments,
        "orders": plan.orders,
        "already_synced": plan.already_synced,
        "queued": queued,
        "ledger_calls_estimate": plan.calls_estimate,
    }
    if arguments.dry_run:
        document["would_queue"] = len(plan.to_queue)

    def words() -> list[str]:
        window = f"{arguments.first:%Y-%m-%d} to {arguments.last:%Y-%m-%d}"
        lines = [
            f"{profile.name}, {window}: {plan.appointments} appointments and {plan.orders} orders in Acuity; "
            f"{plan.already_synced} already synced (left alone)."
        ]
        if arguments.dry_run:
            lines.append(f"Would create (dry run, nothing queued): {len(plan.to_queue)}")
            lines.extend(
                f"  {ledger_declaration(ledger).display_name}: {candidate.describe()}"
                for candidate, ledger in plan.to_queue
            )
        else:
            lines.append(f"Queued {queued} for backfill: the maintenance function releases them gradually.")
        lines.extend(_costs(stores, profile.tenant_id, ledgers, plan))
        return lines

    answer(arguments, document, words)
    return 0


def _costs(stores: Stores, tenant_id: str, ledgers: tuple[LedgerName, ...], plan: BackfillPlan) -> list[str]:
    """Each ledger's calls against today's budget, and how long the release takes."""
    events = Counter(ledger for _candidate, ledger in plan.to_queue)
    calls = Counter[LedgerName]()
    for candidate, ledger in plan.to_queue:
        calls[ledger] += calls_for(ledger, candidate.paid)
    lines = []
    for ledger in ledgers:
        declaration = ledger_declaration(ledger)
        name, budget = declaration.display_name, declaration.budget
        line = f"  {name}: about {calls[ledger]} calls for {events[ledger]} events"
        runs = math.ceil(events[ledger] / PER_GROUP)
        if budget.daily_cap is None:
            line += f"; no daily cap: released {PER_GROUP} every {RUN_MINUTES} minutes, about {runs * RUN_MINUTES} min"
        else:
            state = stores.budgets.bucket(ledger_budget_name(tenant_id, ledger), budget)
            share = int(budget.daily_cap * DAY_SHARE)
            room = max(0, share - state.day_count)
            days = 1 + math.ceil((calls[ledger] - room) / share)
            when = "today" if calls[ledger] <= room else f"over about {days} days"
            line += (
                f"; today {state.day_count:,} of its {budget.daily_cap:,} calls a day are spent, and backfills may "
                f"bring that to {share:,} ({room:,} left today): released {when}"
            )
        lines.append(line)
    return lines
