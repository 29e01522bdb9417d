"""Drain under rate limits: a burst of bookings for one business connected to one Xero organisation and one
QuickBooks company, through the local stack; how long each ledger's queue takes to drain against the least time
that ledger's documented limits allow for the calls that were made.

    .venv/bin/python bench/drain/run.py --bookings 1000     # the full size (see bench/README.md)
    .venv/bin/python bench/drain/run.py --quick             # smoke run: 60 bookings

The bookings (each a new client; every other one paid in full) are made in the fake Acuity without delivery, then
their signed webhooks are posted to the gateway at once, as fast as it takes them. For each ledger: the seconds
from the first webhook until its queue is empty (nothing visible, nothing in flight); the API calls its fake
received from the first webhook on (the OAuth token endpoint not counted), and the 429s among them; the bound:

    bound_seconds = calls / sustained rate the ledger's documented limits allow x time scale

QuickBooks: 500 requests a minute and 10 a second per realm (and 10 in flight): 500/min = 8.33/s is the tighter.
Xero: 60 calls a minute per organisation (5 in flight, 5,000 a day): 1/s. The fakes enforce exactly these limits,
sped up by 1 / time scale as the product's budgets are (DevStack). ratio = seconds / bound_seconds (aim <= 1.1).
After the drain, the books are read through each ledger's API and every booking must have its one invoice, paid
as Acuity says. Exits 1 if a message reached a dead-letter queue or a booking's documents are wrong. Writes
bench/results/drain.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from acuity_sync.domain.names import LedgerName
from acuity_sync_toolkit.fakes.acuity_admin import AcuityAdmin
from acuity_sync_toolkit.fakes.quickbooks import FakeQuickBooks
from acuity_sync_toolkit.fakes.xero import FakeXero
from acuity_sync_toolkit.stack.devstack import DevStack

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))

from bench.local_stack import (  # noqa: E402
    PostStats,
    acuity_state,
    compare,
    dead_letters,
    demo_business,
    post_webhook,
    read_books,
    wait_drained,
    warm_sync_workers,
)

RESULTS = PROJECT_ROOT / "bench" / "results"
LEDGERS = (LedgerName.XERO, LedgerName.QUICKBOOKS)
# The sustained calls a second each ledger's documented limits allow one company (../shared/research).
DOCUMENTED_RATE = {LedgerName.QUICKBOOKS: 500 / 60, LedgerName.XERO: 60 / 60}
ONE_CENT = Decimal("0.01")


def statuses(dev: DevStack, ledger: LedgerName, company_id: str) -> list[int]:
    """The status of each API call the company received, in order (the token endpoint is not logged)."""
    fake = dev.fake_ledger(ledger)
    if isinstance(fake, FakeQuickBooks):
        return [int(entry["status"]) for entry in fake.requests(company_id)]
    if isinstance(fake, FakeXero):
        return [request.status for request in fake.requests(company_id)]
    raise TypeError(ledger)


def main() -> int:  # noqa: PLR0915 - one run, in order
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=1000)
    parser.add_argument("--time-scale", type=float, default=0.25)
    parser.add_argument("--senders", type=int, default=8, help="threads posting the burst's webhooks")
    parser.add_argument("--drain-timeout", type=float, default=1500.0)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--quick", action="store_true", help="smoke run: 60 bookings")
    args = parser.parse_args()
    if args.quick:
        args.bookings = 60
    rng = random.Random(args.seed)
    RESULTS.mkdir(parents=True, exist_ok=True)
    started_at = datetime.now(UTC)
    print(
        f"drain: a burst of {args.bookings} bookings, one business on Xero and QuickBooks, time scale {args.time_scale}"
    )

    with DevStack(
        state_dir=RESULTS / "drain-stack", time_scale=args.time_scale, stack_name="drain", ledgers=LEDGERS
    ) as dev:
        assert dev.info is not None
        business = demo_business(dev)
        print(f"  {warm_sync_workers(dev)} sync workers warmed")
        with AcuityAdmin(dev.info.acuity_url) as admin:
            booked: list[int] = []
            for number in range(args.bookings):
                price = Decimal(rng.randrange(2000, 15000)) * ONE_CENT
                day = datetime(2027, 3, 1, 9, tzinfo=UTC) + timedelta(days=number % 30, hours=number % 8)
                appointment = admin.book_appointment_without_webhook(
                    business.acuity_user_id,
                    firstName="Burst",
                    lastName=f"N{number}",
                    email=f"burst{number}@example.com",
                    price=str(price),
                    amountPaid=str(price) if number % 2 else "0.00",
                    datetime=day.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                )
                booked.append(int(appointment["id"]))
        calls_before = {ledger: len(statuses(dev, ledger, business.companies[ledger])) for ledger in LEDGERS}
        stats = PostStats()
        with httpx.Client(timeout=60, trust_env=False) as http, ThreadPoolExecutor(args.senders) as pool:
            first = time.monotonic()
            list(pool.map(lambda number: post_webhook(http, business, "appointment", number, stats), booked))
            posted = time.monotonic() - first
            print(f"  {stats.accepted} webhooks accepted in {posted:.1f} s ({stats.throttled} gateway 429s sent again)")
            drained = wait_drained(dev, LEDGERS, args.drain_timeout)
        seconds = {ledger: posted + drained[ledger] for ledger in LEDGERS}
        dlq = dead_letters(dev)
        expected = acuity_state(dev.info.acuity_url, business)
        rows: list[dict[str, Any]] = []
        problems: list[str] = []
        for ledger in LEDGERS:
            company = business.companies[ledger]
            made = statuses(dev, ledger, company)[calls_before[ledger] :]
            calls = len(made)
            bound = calls / DOCUMENTED_RATE[ledger] * args.time_scale
            comparison = compare(expected, read_books(dev, ledger, company), str(ledger), ledger)
            problems += comparison.lost
            if comparison.doubled or comparison.cents_off:
                problems.append(f"{ledger}: {comparison.doubled} doubled, {comparison.cents_off} cents off")
            rows.append(
                {
                    "ledger": str(ledger),
                    "bookings": args.bookings,
                    "seconds": round(seconds[ledger], 1),
                    "bound_seconds": round(bound, 1),
                    "ratio": round(seconds[ledger] / bound, 3) if bound else None,
                    "throttled": made.count(429),
                    "dlq": dlq[str(ledger)],
                    "calls": calls,
                }
            )

    print()
    print(
        f"{'ledger':<12} {'bookings':>8} {'calls':>6} {'seconds':>8} {'bound s':>8} {'ratio':>6} {'429s':>5} {'dlq':>4}"
    )
    for row in rows:
        print(
            f"{row['ledger']:<12} {row['bookings']:>8} {row['calls']:>6} {row['seconds']:>8} {row['bound_seconds']:>8} "
            f"{row['ratio']:>6} {row['throttled']:>5} {row['dlq']:>4}"
        )
    for problem in problems[:30]:
        print("  WRONG", problem)
    raw = {
        "date": started_at.isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "arguments": vars(args),
        "posting_seconds": posted,
        "webhooks": {"accepted": stats.accepted, "throttled": stats.throttled, "server_errors": stats.server_errors},
        "rows": rows,
        "problems": problems,
    }
    (RESULTS / "drain.json").write_text(json.dumps(raw, indent=2, default=str) + "\n", encoding="utf-8")
    print(json.dumps([{key: row[key] for key in row if key != "calls"} for row in rows]))
    failed = problems or any(row["dlq"] for row in rows) or stats.refused
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
