"""Soak: many Acuity events for several businesses and all three ledgers through the local stack, under faults;
then every ledger's books, read through its API, against Acuity's final state.

    .venv/bin/python bench/soak/run.py --events 10000 --tenants 6     # the full size (see bench/README.md)
    .venv/bin/python bench/soak/run.py --quick                        # smoke run: 300 events, 5 tenants

The local stack (DevStack: moto server, gateway, webhook and sync functions in worker processes fed by pollers,
the fake Acuity, QuickBooks, Xero and FreshBooks) runs at `--time-scale`. Tenant 0 is the stack's demo tenant,
connected to the three ledgers; the others are connected to one or two ledgers each, in turn. Each business's
changes are made in the fake Acuity without its own delivery (admin `deliver=false`), and the bench delivers the
signed webhook itself, so that it decides how often and in which order: every change's webhook is delivered
`--copies` times (3: "duplicates x3"), the deliveries of a window of changes shuffled (reordering). An event is
one webhook delivery the gateway accepted.

While the webhooks go in, faults are planned at random on the fakes (429 storms, 5xx, a timeout: an answer held
past the sync's 20 s read timeout after the write was done, an expired access token: the fake's clock moved past
the token's lifetime), and sync worker processes are SIGKILLed: at random moments, and at each point of apply
in turn (a fake holds the answer of a matching request, and once it holds it, the function's workers are killed:
a read before a write, or a write done whose answer and sync record never came).

Then the bench waits until every queue is empty, reads each business's appointments and orders from Acuity's API
and each connected ledger's books through the ledger's API, and compares. Exits 1 unless lost, doubled, cents
off and dead-lettered messages are all 0. Writes bench/results/soak.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import signal
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from acuity_sync.domain.names import ALL_LEDGERS, LedgerName
from acuity_sync_toolkit.fakes.acuity_admin import AcuityAdmin
from acuity_sync_toolkit.stack.devstack import DevStack

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))

from bench.local_stack import (  # noqa: E402
    SYNC_FUNCTIONS,
    Business,
    Comparison,
    PostStats,
    acuity_state,
    add_business,
    audit_of,
    compare,
    dead_letters,
    demo_business,
    post_webhook,
    queue_counts,
    read_books,
    wait_drained,
    warm_sync_workers,
)

RESULTS = PROJECT_ROOT / "bench" / "results"
# The ledgers of tenants 1, 2, ... in turn (tenant 0, the demo tenant, has all three).
LEDGER_ROTATION: tuple[tuple[LedgerName, ...], ...] = (
    (LedgerName.QUICKBOOKS,),
    (LedgerName.XERO,),
    (LedgerName.FRESHBOOKS,),
    (LedgerName.QUICKBOOKS, LedgerName.FRESHBOOKS),
    (LedgerName.XERO, LedgerName.QUICKBOOKS),
)
# Kill points: a request whose path holds this is answered late (held), and the function is killed meanwhile. On a
# read (a search) the kill lands before the step's write; on a write, after the write and before its record.
KILL_POINTS: dict[LedgerName, tuple[str, ...]] = {
    LedgerName.QUICKBOOKS: ("/query", "/customer", "/invoice", "/payment"),
    LedgerName.XERO: ("/Contacts", "/Invoices", "/Payments"),
    LedgerName.FRESHBOOKS: ("users/clients", "invoices/invoices", "payments/payments"),
}
TOKEN_LIFETIMES = {LedgerName.QUICKBOOKS: 3600, LedgerName.XERO: 1800, LedgerName.FRESHBOOKS: 12 * 3600}
HOLD_SECONDS = 25.0  # longer than the sync's 20 s read timeout: a held request not killed is a timeout
ONE_CENT = Decimal("0.01")


# ------------------------------------------------------------------------------------------ the workload
@dataclass
class Appointment:
    business: Business
    appointment_id: int
    price: Decimal
    paid: Decimal
    canceled: bool = False


@dataclass
class Workload:
    """Makes changes in the fake Acuity (no delivery) and returns the webhooks to deliver: (business, kind, id)."""

    admin: AcuityAdmin
    rng: random.Random
    clients_per_business: int
    appointments: dict[str, list[Appointment]] = field(default_factory=dict)
    kinds: Counter[str] = field(default_factory=Counter)

    def change(self, business: Business) -> tuple[Business, str, int]:
        mine = self.appointments.setdefault(business.tenant_id, [])
        open_ones = [a for a in mine[-200:] if not a.canceled]
        roll = self.rng.random()
        if not open_ones or roll < 0.45:
            return self._book(business, mine)
        if roll < 0.50:
            return self._order(business)
        appointment = self.rng.choice(open_ones)
        account, number = business.acuity_user_id, appointment.appointment_id
        if roll < 0.70:
            self.kinds["reschedule"] += 1
            day = datetime(2027, 2, 1, tzinfo=UTC) + timedelta(days=self.rng.randrange(60), hours=self.rng.randrange(8))
            when = day.strftime("%Y-%m-%dT%H:%M:%S+0000")
            self.admin.change_appointment_without_webhook(account, number, datetime=when)
        elif roll < 0.85 and appointment.paid < appointment.price:
            self.kinds["payment"] += 1
            appointment.paid = appointment.price
            self.admin.change_appointment_without_webhook(account, number, amountPaid=str(appointment.price))
        elif appointment.paid in (Decimal(0), appointment.price):
            self.kinds["cancel"] += 1
            appointment.canceled = True
            self.admin.change_appointment_without_webhook(account, number, canceled=True)
        else:
            self.kinds["note"] += 1
            self.admin.change_appointment_without_webhook(account, number, notes=f"note {self.rng.random():.6f}")
        return business, "appointment", number

    def _client(self, business: Business) -> dict[str, str]:
        number = self.rng.randrange(self.clients_per_business)
        tag = business.tenant_id[:6]
        return {"firstName": "Client", "lastName": f"N{number}x{tag}", "email": f"client{number}.{tag}@example.com"}

    def _book(self, business: Business, mine: list[Appointment]) -> tuple[Business, str, int]:
        self.kinds["book"] += 1
        price = Decimal(self.rng.randrange(2000, 15000)) * ONE_CENT
        paid = self.rng.choice([Decimal(0), Decimal(0), price, (price * Decimal("0.4")).quantize(ONE_CENT)])
        day = datetime(2027, 1, 4, 9, tzinfo=UTC) + timedelta(days=self.rng.randrange(60), hours=self.rng.randrange(8))
        appointment = self.admin.book_appointment_without_webhook(
            business.acuity_user_id,
            **self._client(business),
            price=str(price),
            amountPaid=str(paid),
            datetime=day.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        )
        number = int(appointment["id"])
        mine.append(Appointment(business, number, price, paid))
        return business, "appointment", number

    def _order(self, business: Business) -> tuple[Business, str, int]:
        self.kinds["order"] += 1
        total = Decimal(self.rng.randrange(2000, 20000)) * ONE_CENT
        order = self.admin.complete_order_without_webhook(
            business.acuity_user_id, **self._client(business), title="Gift Certificate", total=str(total)
        )
        return business, "order", int(order["id"])


# ------------------------------------------------------------------------------------------ faults
@dataclass
class Chaos:
    """Faults planned on the fakes and sync workers killed while the soak runs (a thread of its own)."""

    dev: DevStack
    businesses: list[Business]
    rng: random.Random
    interval: float
    planned: Counter[str] = field(default_factory=Counter)
    kills: Counter[str] = field(default_factory=Counter)
    stop: threading.Event = field(default_factory=threading.Event)
    _kill_turn: int = 0

    def run(self) -> None:
        while not self.stop.wait(self.interval * self.rng.uniform(0.5, 1.5)):
            roll = self.rng.random()
            try:
                if roll < 0.25:
                    self._storm()
                elif roll < 0.45:
                    self._server_errors()
                elif roll < 0.55:
                    self._timeout()
                elif roll < 0.65:
                    self._expire_tokens()
                elif roll < 0.80:
                    self._kill_random_worker()
                else:
                    self._kill_at_next_point()
            except Exception as error:
                self.planned[f"not planned: {type(error).__name__}: {error}"] += 1

    def _company(self) -> tuple[LedgerName, str]:
        business = self.rng.choice(self.businesses)
        ledger = self.rng.choice(sorted(business.companies))
        return ledger, business.companies[ledger]

    def _storm(self) -> None:
        ledger, company = self._company()
        count = self.rng.randrange(5, 25)
        retry_after = None if ledger is LedgerName.QUICKBOOKS else self.rng.choice([None, 1, 5, 60])
        self.dev.fake_ledger(ledger).plan_fault(company, 429, count=count, retry_after=retry_after)
        if self.rng.random() < 0.3:  # Acuity throttles too
            business = self.rng.choice(self.businesses)
            self.dev.acuity.plan_fault(str(business.acuity_user_id), 429, count=self.rng.randrange(2, 10))
            self.planned["acuity 429"] += 1
        self.planned[f"{ledger} 429 storm"] += 1

    def _server_errors(self) -> None:
        ledger, company = self._company()
        status = self.rng.choice([500, 503])
        self.dev.fake_ledger(ledger).plan_fault(company, status, count=self.rng.randrange(1, 4))
        self.planned[f"{ledger} {status}"] += 1
        if self.rng.random() < 0.3:
            business = self.rng.choice(self.businesses)
            self.dev.acuity.plan_fault(str(business.acuity_user_id), 500, count=1)
            self.planned["acuity 500"] += 1

    def _timeout(self) -> None:
        ledger, company = self._company()
        self.dev.fake_ledger(ledger).plan_fault(company, hang_seconds=HOLD_SECONDS)
        self.planned[f"{ledger} timeout"] += 1

    def _expire_tokens(self) -> None:
        ledger = self.rng.choice(ALL_LEDGERS)
        fake = self.dev.fake_ledger(ledger)
        fake.clock.advance(TOKEN_LIFETIMES[ledger] + 100)
        self.planned[f"{ledger} access tokens expired"] += 1

    def _kill_random_worker(self) -> None:
        ledger = self.rng.choice(ALL_LEDGERS)
        pids = self.dev.worker_pids(SYNC_FUNCTIONS[ledger])
        if pids:
            _kill(self.rng.choice(pids))
            self.kills[f"{ledger} at a random moment"] += 1

    def _kill_at_next_point(self) -> None:
        """The next kill point in turn: a request on that path held, then the function's workers killed."""
        points = [(ledger, path) for ledger in ALL_LEDGERS for path in KILL_POINTS[ledger]]
        ledger, path = points[self._kill_turn % len(points)]
        self._kill_turn += 1
        candidates = [b for b in self.businesses if ledger in b.companies]
        if not candidates:
            return
        company = self.rng.choice(candidates).companies[ledger]
        fake = self.dev.fake_ledger(ledger)
        before = fake.pending_faults(company)
        fake.plan_fault(company, hang_seconds=HOLD_SECONDS, path_contains=path)
        deadline = time.monotonic() + 30
        while fake.pending_faults(company) > before and time.monotonic() < deadline and not self.stop.is_set():
            time.sleep(0.05)
        if fake.pending_faults(company) > before:
            self.planned[f"{ledger} {path} held, no request came in time (a timeout later)"] += 1
            return
        time.sleep(0.2)  # the held request is in the worker's read now
        for pid in self.dev.worker_pids(SYNC_FUNCTIONS[ledger]):
            _kill(pid)
        self.kills[f"{ledger} {path} held"] += 1


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


# ------------------------------------------------------------------------------------------ the run
def businesses_for(dev: DevStack, tenants: int) -> list[Business]:
    found = [demo_business(dev)]
    for number in range(1, tenants):
        found.append(add_business(dev, number, LEDGER_ROTATION[(number - 1) % len(LEDGER_ROTATION)]))
    return found


def deliver(
    http: httpx.Client,
    work: list[tuple[Business, str, int]],
    copies: int,
    rng: random.Random,
    stats: PostStats,
    pool: ThreadPoolExecutor,
) -> None:
    """Each change's webhook `copies` times, the deliveries of the window shuffled, sent by the pool's threads."""
    deliveries = [item for item in work for _ in range(copies)]
    rng.shuffle(deliveries)
    list(pool.map(lambda item: post_webhook(http, item[0], item[1], item[2], stats), deliveries))


def main() -> int:  # noqa: PLR0915 - one run, in order
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000, help="webhook deliveries (copies included)")
    parser.add_argument("--tenants", type=int, default=6)
    parser.add_argument("--copies", type=int, default=3, help="deliveries of each change's webhook")
    parser.add_argument("--time-scale", type=float, default=0.5)
    parser.add_argument("--chaos-interval", type=float, default=3.0, help="mean real seconds between faults")
    parser.add_argument("--window", type=int, default=40, help="changes whose deliveries are shuffled together")
    parser.add_argument("--senders", type=int, default=4, help="threads posting webhooks")
    parser.add_argument("--drain-timeout", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--quick", action="store_true", help="smoke run: 300 events, 5 tenants")
    args = parser.parse_args()
    if args.quick:
        args.events, args.tenants = 300, 5
    if args.tenants < 1 or args.copies < 1:
        parser.error("--tenants and --copies must be at least 1")
    changes = max(1, -(-args.events // args.copies))  # at least --events deliveries: 10,000 are 3,334 changes
    rng = random.Random(args.seed)
    RESULTS.mkdir(parents=True, exist_ok=True)
    state_dir = RESULTS / "soak-stack"
    started_at = datetime.now(UTC)
    print(f"soak: {changes} changes x {args.copies} deliveries, {args.tenants} tenants, time scale {args.time_scale}")

    with DevStack(state_dir=state_dir, time_scale=args.time_scale, stack_name="soak") as dev:
        assert dev.info is not None
        businesses = businesses_for(dev, args.tenants)
        print(f"  {warm_sync_workers(dev)} sync workers warmed")
        for business in businesses:
            print(f"  tenant {business.tenant_id[:8]}: {', '.join(sorted(business.companies))}")
        stats = PostStats()
        chaos = Chaos(dev, businesses, random.Random(args.seed + 1), args.chaos_interval)
        chaos_thread = threading.Thread(target=chaos.run, name="chaos", daemon=True)
        clients = max(5, changes // (3 * len(businesses)))
        with (
            AcuityAdmin(dev.info.acuity_url) as admin,
            httpx.Client(timeout=60, trust_env=False) as http,
            ThreadPoolExecutor(max_workers=args.senders) as pool,
        ):
            workload = Workload(admin, rng, clients)
            first_post = time.monotonic()
            chaos_thread.start()
            made = 0
            while made < changes:
                window = [workload.change(rng.choice(businesses)) for _ in range(min(args.window, changes - made))]
                made += len(window)
                deliver(http, window, args.copies, rng, stats, pool)
                if made % (args.window * 10) == 0 or made == changes:
                    print(f"  {made}/{changes} changes delivered; queues {queue_counts(dev)}", flush=True)
            posted = time.monotonic() - first_post
            chaos.stop.set()
            chaos_thread.join()
        print(f"  all delivered after {posted:.0f} s; waiting for the queues to drain")
        ledgers = sorted({ledger for business in businesses for ledger in business.companies})
        drained_after = wait_drained(dev, ledgers, args.drain_timeout)
        drain_seconds = posted + max(drained_after.values())
        dlq = dead_letters(dev)
        print(f"  drained {drain_seconds:.0f} s after the first webhook; dead letters {dlq}")

        comparisons: dict[str, Comparison] = {}
        audits: dict[str, list[dict[str, Any]]] = {}
        for business in businesses:
            expected = acuity_state(dev.info.acuity_url, business)
            for ledger, company in sorted(business.companies.items()):
                label = f"{business.tenant_id[:8]}/{ledger}"
                comparisons[label] = compare(expected, read_books(dev, ledger, company), label, ledger)
                for kind, number in comparisons[label].wrong:
                    audits[f"{label} {kind} {number}"] = audit_of(dev, business.tenant_id, ledger, kind, number)

    lost = sum(len(c.lost) for c in comparisons.values())
    doubled = sum(c.doubled for c in comparisons.values())
    cents_off = sum(c.cents_off for c in comparisons.values())
    dead = sum(dlq.values())
    print()
    print(f"{'tenant/ledger':<24} {'checked':>8} {'lost':>6} {'doubled':>8} {'cents off':>10}")
    for label, comparison in comparisons.items():
        print(
            f"{label:<24} {comparison.checked:>8} {len(comparison.lost):>6} {comparison.doubled:>8} "
            f"{comparison.cents_off:>10}"
        )
    for line in [line for c in comparisons.values() for line in c.lost][:30]:
        print("  LOST", line)
    print(f"\nchanges made in Acuity: {dict(workload.kinds)}")
    print(
        f"webhooks: {stats.accepted} accepted, {stats.throttled} throttled by the gateway (sent again), "
        f"{stats.server_errors} 5xx or no answer (sent again), {stats.refused} refused"
    )
    print(f"faults planned: {dict(chaos.planned)}")
    print(f"sync workers killed: {dict(chaos.kills)}")
    print(f"drained per ledger after the last webhook: {drained_after}")
    summary = {
        "events": stats.accepted,
        "tenants": len(businesses),
        "lost": lost,
        "doubled": doubled,
        "cents_off": cents_off,
        "dlq": dead,
        "drain_seconds": round(drain_seconds, 1),
    }
    raw = {
        "date": started_at.isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "arguments": vars(args),
        "changes": dict(workload.kinds),
        "webhooks": {
            "accepted": stats.accepted,
            "throttled": stats.throttled,
            "server_errors": stats.server_errors,
            "refused": stats.refused,
        },
        "posting_seconds": posted,
        "drained_after_posting": {str(k): v for k, v in drained_after.items()},
        "dead_letters": dlq,
        "faults": dict(chaos.planned),
        "kills": dict(chaos.kills),
        "comparisons": {
            label: {"checked": c.checked, "lost": c.lost, "doubled": c.doubled, "cents_off": c.cents_off}
            for label, c in comparisons.items()
        },
        "audit_of_the_lost": audits,
        "summary": summary,
    }
    (RESULTS / "soak.json").write_text(json.dumps(raw, indent=2, default=str) + "\n", encoding="utf-8")
    print(json.dumps(summary))
    failed = lost or doubled or cents_off or dead or stats.refused or drain_seconds == float("inf")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
