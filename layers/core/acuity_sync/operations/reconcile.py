"""Reconciliation: a webhook Acuity never delivered is still synced. Acuity cannot list what changed since a time,
so a window of appointment dates around today is listed (canceled ones too: a cancelation is a change), and the
latest orders; each is compared with what the sync has seen of it (store/seen.py: the fingerprint of the state its
last finished sync read, acuity/fingerprint.py) and queued with `Origin.RECONCILE`, through the same queue and
group as a webhook with a fresh deduplication id, for each connected ledger where it is missing or different.
Parked ones are left to their condition.

Its cost per tenant per run, in Acuity requests ("pages"): ceil(A / 100) + ceil(C / 100) + 1, where A and C are the
active and canceled appointments in the window (each list takes at least one page) and 1 is the orders page: 3 for a
business with fewer than 100 of each in the window. Every page is paced by the global Acuity budget with a reserve
(operations/pacing.py): the background never takes the token a webhook's sync needs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from acuity_sync.acuity.client import AcuityClient
from acuity_sync.acuity.fingerprint import appointment_fingerprint, order_fingerprint
from acuity_sync.acuity.listing import AppointmentPages, latest_orders
from acuity_sync.acuity.models import zone_or_none
from acuity_sync.domain.message import Origin, SyncRequest
from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.observability import MetricName, count
from acuity_sync.queues import LedgerQueues
from acuity_sync.store.seen import SeenStore
from acuity_sync.store.tenants import TenantProfile

DEFAULT_DAYS = 7  # the window: today and 7 days each side, in the business's time zone
# Queued by reconciliation and not synced yet: left to that message this long (it may wait behind a backoff) before
# it is queued again.
REQUEUE_AFTER = timedelta(hours=1)
DEFAULT_ORDERS = 25  # the latest orders compared each run
MISSING, DIFFERENT = "missing", "different"  # the metric's outcomes
ACTION = {EventKind.APPOINTMENT: "changed", EventKind.ORDER: "order.completed"}  # as the webhook would say


@dataclass(frozen=True, slots=True)
class Window:
    first: date
    last: date

    @classmethod
    def around(cls, today: date, days: int) -> Window:
        if days < 0:
            raise ValueError("days must be 0 or more")
        return cls(today - timedelta(days=days), today + timedelta(days=days))


def business_today(profile: TenantProfile, now: datetime) -> date:
    """Today in the business's time zone (UTC when it has none we know)."""
    zone = zone_or_none(profile.timezone)
    return now.astimezone(zone).date() if zone is not None else now.astimezone(UTC).date()


@dataclass(slots=True)
class ReconcileResult:
    checked: int = 0  # appointments and orders compared
    queued: int = 0  # messages queued (one per ledger where one was missing or different)
    would_queue: int = 0  # a dry run's: what would have been queued
    missing: int = 0
    different: int = 0
    pages: int = 0  # Acuity requests made
    complete: bool = True  # False: the run's time (or budget) ran out before the whole window was compared


@dataclass(frozen=True, slots=True)
class _Listed:
    kind: EventKind
    object_id: int
    fingerprint: str


class Reconciler:
    def __init__(
        self,
        seen: SeenStore,
        queues: LedgerQueues,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._seen = seen
        self._queues = queues
        self._clock = clock
        self._new_id = new_id

    def reconcile(
        self,
        profile: TenantProfile,
        acuity: AcuityClient,
        window: Window,
        *,
        orders: int = DEFAULT_ORDERS,
        pace: Callable[[], bool],
        ledgers: Sequence[LedgerName] | None = None,
        dry_run: bool = False,
    ) -> ReconcileResult:
        """One tenant: the window's appointments (active, then canceled) and its latest `orders`, compared and
        queued where missing or different, for its connected ledgers (or `ledgers` among them). `pace()` is
        called before each Acuity request; when it answers False the result is incomplete."""
        result = ReconcileResult()
        targets = tuple(ledger for ledger in profile.ledgers if ledgers is None or ledger in ledgers)
        if not targets:
            return result
        for canceled in (False, True):
            pages = AppointmentPages(acuity, window.first, window.last, canceled)
            while not pages.exhausted:
                if not pace():
                    result.complete = False
                    return result
                page = next(pages)
                result.pages += 1
                listed = [
                    _Listed(EventKind.APPOINTMENT, appointment.id, appointment_fingerprint(appointment))
                    for appointment in page
                ]
                self._compare(profile.tenant_id, targets, listed, result, dry_run)
        if orders > 0:
            if not pace():
                result.complete = False
                return result
            listed = [
                _Listed(EventKind.ORDER, order.id, order_fingerprint(order)) for order in latest_orders(acuity, orders)
            ]
            result.pages += 1
            self._compare(profile.tenant_id, targets, listed, result, dry_run)
        return result

    def _compare(
        self,
        tenant_id: str,
        ledgers: tuple[LedgerName, ...],
        listed: list[_Listed],
        result: ReconcileResult,
        dry_run: bool,
    ) -> None:
        result.checked += len(listed)
        if not listed:
            return
        references = [(item.kind, item.object_id) for item in listed]
        known = {ledger: self._seen.states(tenant_id, ledger, references) for ledger in ledgers}
        now = self._clock()
        for item in listed:
            reference = (item.kind, item.object_id)
            stale: list[tuple[LedgerName, str]] = []
            for ledger in ledgers:
                state = known[ledger][reference]
                if state.parked or state.fingerprint == item.fingerprint:
                    continue
                if (
                    state.queued_fingerprint == item.fingerprint
                    and state.queued_at is not None
                    and now - state.queued_at < REQUEUE_AFTER
                ):
                    continue  # its message is on the queue
                stale.append((ledger, MISSING if state.fingerprint is None else DIFFERENT))
            if not stale:
                continue
            if dry_run:
                result.would_queue += len(stale)
                continue
            self._queue(tenant_id, item, stale, result)

    def _queue(
        self, tenant_id: str, item: _Listed, stale: list[tuple[LedgerName, str]], result: ReconcileResult
    ) -> None:
        request = SyncRequest(
            tenant_id=tenant_id,
            kind=item.kind,
            object_id=item.object_id,
            action=ACTION[item.kind],
            received_at=self._clock().isoformat(),
            request_id=f"{Origin.RECONCILE}-{self._new_id()}",
            origin=Origin.RECONCILE,
        )
        why = dict(stale)
        for sent in self._queues.send(request, tuple(why)):
            if sent.error is not None:
                continue  # found again next run
            result.queued += 1
            self._seen.mark_queued(
                tenant_id,
                sent.ledger,
                item.kind,
                item.object_id,
                item.fingerprint,
                datetime.fromisoformat(request.received_at),
            )
            if why[sent.ledger] == MISSING:
                result.missing += 1
            else:
                result.different += 1
            count(MetricName.EVENTS_RECONCILED, ledger=sent.ledger, outcome=why[sent.ledger])
