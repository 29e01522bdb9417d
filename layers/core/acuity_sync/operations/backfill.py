"""Backfill: appointments and orders from before the connection (or any past window), synced on request.

Planning (`plan_backfill`, run by `acuity-sync backfill`): Acuity's appointments in the window (active ones: a
canceled booking from the past makes no invoice) and its orders placed in it, each compared per ledger with what the
sync knows (store/seen.py): one whose sync record names a document, or that is parked, is already synced and left
alone; the others are to be queued, with an estimate of the ledger calls each takes (the ledger's declared
`calls_per_new_booking`).

Releasing (`BackfillReleaser`, run by the maintenance function): the entries wait in the table (store/backfills.py)
and are released to their ledger's queue with `Origin.BACKFILL` (which passes the "booked before the connection"
rule), a few per tenant and ledger per run and a bounded number per run in all, visiting the tenants in turn. A
ledger with a daily cap (Xero) gets backfills only while the day's calls stay under DAY_SHARE of the cap: the rest
of the day is for the business's live bookings. So one tenant's backfill never starves the others, nor its own
webhooks: at most PER_GROUP events per tenant and ledger per run (every five minutes), and each one costs the
sync function one or two Acuity requests, a small part of the global budget.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from acuity_sync.acuity.client import AcuityClient
from acuity_sync.acuity.listing import AppointmentPages, OrdersSince
from acuity_sync.acuity.models import Appointment, Order, OrderStatus
from acuity_sync.domain.message import Origin, SyncRequest
from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.ledgers.registry import ledger_declaration
from acuity_sync.observability import MetricName, count, logger
from acuity_sync.queues import LedgerQueues
from acuity_sync.store.backfills import BackfillEntry, BackfillStore, parse_group
from acuity_sync.store.budgets import BudgetStore, ledger_budget_name
from acuity_sync.store.seen import SeenStore
from acuity_sync.store.tenants import TenantProfile

PER_GROUP = 25  # events released per tenant and ledger per run
PER_RUN = 100  # events released per run, all tenants together
DAY_SHARE = 0.5  # a ledger's daily cap that backfills may bring the day's calls up to
ACTION = {EventKind.APPOINTMENT: "changed", EventKind.ORDER: "order.completed"}


def calls_for(ledger: LedgerName, paid: bool) -> int:
    unpaid_calls, paid_calls = ledger_declaration(ledger).calls_per_new_booking
    return paid_calls if paid else unpaid_calls


# ------------------------------------------------------------------------------------------------ planning


@dataclass(frozen=True, slots=True)
class Candidate:
    """One appointment or order of the window, in words an operator reads in a dry run."""

    kind: EventKind
    object_id: int
    on: date
    client: str
    amount: str  # "80.00"
    paid: bool

    def describe(self) -> str:
        what = "appointment" if self.kind is EventKind.APPOINTMENT else "order"
        paid = "paid" if self.paid else "unpaid"
        return f"{what} {self.object_id} on {self.on.isoformat()}, {self.client or 'no name'}, {self.amount} ({paid})"


@dataclass(slots=True)
class BackfillPlan:
    appointments: int = 0
    orders: int = 0
    already_synced: int = 0  # (object, ledger) pairs whose sync already wrote a document, or that are parked
    to_queue: list[tuple[Candidate, LedgerName]] = field(default_factory=list)
    calls_estimate: int = 0  # ledger calls the ones to queue take, all ledgers together
    pages: int = 0  # Acuity requests made to list them
    complete: bool = True  # False: Acuity's budget or the time ran out before the whole window was listed


def plan_backfill(
    profile: TenantProfile,
    acuity: AcuityClient,
    seen: SeenStore,
    ledgers: Sequence[LedgerName],
    first: date,
    last: date,
    *,
    pace: Callable[[], bool],
) -> BackfillPlan:
    plan = BackfillPlan()
    candidates: list[Candidate] = []
    pages = AppointmentPages(acuity, first, last, canceled=False)
    while not pages.exhausted:
        if not pace():
            plan.complete = False
            break
        candidates.extend(_appointment(appointment) for appointment in next(pages))
    plan.appointments = len(candidates)
    plan.pages += pages.pages
    orders = OrdersSince(acuity, first)
    placed: list[Order] = []
    while plan.complete and not orders.exhausted:
        if not pace():
            plan.complete = False
            break
        placed = next(orders)
    plan.pages += orders.pages
    in_window = [_order(order) for order in placed if order.local_date <= last]
    plan.orders = len(in_window)
    candidates.extend(in_window)
    references = [(candidate.kind, candidate.object_id) for candidate in candidates]
    for ledger in ledgers:
        states = seen.states(profile.tenant_id, ledger, references)
        for candidate in candidates:
            state = states[(candidate.kind, candidate.object_id)]
            if state.has_documents or state.parked:
                plan.already_synced += 1
                continue
            plan.to_queue.append((candidate, ledger))
            plan.calls_estimate += calls_for(ledger, candidate.paid)
    return plan


def _appointment(appointment: Appointment) -> Candidate:
    return Candidate(
        EventKind.APPOINTMENT,
        appointment.id,
        appointment.local_date,
        f"{appointment.first_name} {appointment.last_name}".strip(),
        f"{appointment.price:.2f}",
        appointment.amount_paid > 0,
    )


def _order(order: Order) -> Candidate:
    return Candidate(
        EventKind.ORDER,
        order.id,
        order.local_date,
        f"{order.first_name} {order.last_name}".strip(),
        f"{order.total:.2f}",
        order.status is not OrderStatus.UNPAID,
    )


def schedule_backfill(store: BackfillStore, tenant_id: str, plan: BackfillPlan, *, at: datetime | None = None) -> int:
    """The plan's events, waiting for the maintenance function to release them; how many."""
    moment = at or datetime.now(UTC)
    for candidate, ledger in plan.to_queue:
        request = SyncRequest(
            tenant_id=tenant_id,
            kind=candidate.kind,
            object_id=candidate.object_id,
            action=ACTION[candidate.kind],
            received_at=moment.isoformat(),
            request_id=f"{Origin.BACKFILL}-planned",  # a fresh one is given at release
            origin=Origin.BACKFILL,
        )
        store.add(BackfillEntry(request, ledger, calls_for(ledger, candidate.paid)), at=moment)
    return len(plan.to_queue)


# ------------------------------------------------------------------------------------------------ releasing


@dataclass(slots=True)
class ReleaseCount:
    released: int = 0
    groups: int = 0
    held_for_budget: int = 0  # groups whose ledger's daily share is spent for today


class BackfillReleaser:
    def __init__(
        self,
        store: BackfillStore,
        queues: LedgerQueues,
        budgets: BudgetStore,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._store = store
        self._queues = queues
        self._budgets = budgets
        self._clock = clock
        self._new_id = new_id

    def release(
        self,
        after: str | None,
        *,
        per_group: int = PER_GROUP,
        total: int = PER_RUN,
        keep_going: Callable[[], bool],
    ) -> tuple[ReleaseCount, str | None]:
        """Groups from just after `after` in turn: up to `per_group` events each, `total` in all. Returns where
        to go on from next run (None: from the first group again)."""
        result = ReleaseCount()
        position = after
        visited: set[str] = set()
        while result.released < total and keep_going():
            group = self._store.next_group(position)
            if group is None or group in visited:
                return result, None  # every group had its turn: start again from the first next run
            visited.add(group)
            position = group
            result.groups += 1
            tenant_id, ledger = parse_group(group)
            allowance = self._day_allowance(tenant_id, ledger)
            entries = self._store.entries(tenant_id, ledger, min(per_group, total - result.released))
            spent = 0
            for entry in entries:
                if allowance is not None and spent + entry.calls > allowance:
                    result.held_for_budget += 1
                    break
                if self._send(entry):
                    spent += entry.calls
                    result.released += 1
        return result, position

    def _day_allowance(self, tenant_id: str, ledger: LedgerName) -> int | None:
        """Ledger calls backfills may still spend today (None: the ledger has no daily cap)."""
        budget = ledger_declaration(ledger).budget
        if budget.daily_cap is None:
            return None
        state = self._budgets.bucket(ledger_budget_name(tenant_id, ledger), budget)
        return max(0, int(budget.daily_cap * DAY_SHARE) - state.day_count)

    def _send(self, entry: BackfillEntry) -> bool:
        request = entry.request.requeued(
            Origin.BACKFILL, f"{Origin.BACKFILL}-{self._new_id()}", self._clock().isoformat()
        )
        (sent,) = self._queues.send(request, (entry.ledger,))
        if sent.error is not None:
            logger.warning("a backfill could not be queued; it waits for the next run", extra={"error": sent.error})
            return False
        self._store.remove(entry)
        count(MetricName.EVENTS_BACKFILLED, ledger=entry.ledger)
        return True
