"""One run of the maintenance function: every part bounded, so that a run fits the function's timeout whatever
the number of tenants, and each list longer than a run goes on next run from where this one stopped (cursors).

In order, most urgent first:
1. resume the parked events whose time has come (up to RESUME_DUE a run, earliest first);
2. walk the events waiting for a reconnect or a settings change (PARKED_CHECKED of each list a run) and resume the
   ones whose condition holds;
3. refresh the refresh tokens that lapse within ten days (REFRESHES_PER_LEDGER a run, earliest first);
4. release waiting backfills (operations/backfill.py: a few per tenant and ledger, a bounded number a run);
5. reconcile TENANTS_PER_RUN tenants (operations/reconcile.py), in turn, while time and the Acuity budget allow;
6. count the events parked for more than a day (the ParkedEventsOverADay metric, alarmed above 0).

A part that fails (the table or the queue unavailable, or a bug) does not stop the others; the run then ends in an
error, so that the function's Errors alarm tells someone (the next run, five minutes later, tries again). One
tenant whose Acuity refuses its key is not a failure of the run: it is logged and the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from acuity_sync.acuity.client import AcuityClient, AcuityError, AcuityRateLimited
from acuity_sync.observability import MetricName, count, logger
from acuity_sync.operations.backfill import BackfillReleaser
from acuity_sync.operations.reconcile import DEFAULT_DAYS, DEFAULT_ORDERS, Reconciler, Window, business_today
from acuity_sync.operations.refresh import TokenRefresher
from acuity_sync.operations.resume import Resumer
from acuity_sync.store.cursors import Cursors
from acuity_sync.store.parking import ParkingLot, ResumeOn
from acuity_sync.store.tenants import TenantProfile, TenantStore

RESUME_DUE = 200
PARKED_CHECKED = 200
REFRESHES_PER_LEDGER = 25
TENANTS_PER_RUN = 20
PARKED_TOO_LONG = timedelta(days=1)
RECONCILE_CURSOR = "reconcile"
BACKFILL_CURSOR = "backfill"


class MaintenanceFailed(Exception):
    """A part of the run failed; the others ran. Raised at the end, so the invocation counts as an error."""


@dataclass(slots=True)
class MaintenanceReport:
    resumed: int = 0
    resume_failed: int = 0
    refreshed: int = 0
    needs_reauth: int = 0
    refresh_failed: int = 0
    backfilled: int = 0
    tenants_reconciled: int = 0
    checked: int = 0
    reconciled: int = 0
    acuity_pages: int = 0
    parked_over_a_day: int = 0
    failed_parts: list[str] = field(default_factory=list)
    unfinished_parts: list[str] = field(default_factory=list)


class Maintenance:
    def __init__(
        self,
        *,
        resumer: Resumer,
        refresher: TokenRefresher,
        releaser: BackfillReleaser,
        reconciler: Reconciler,
        parking: ParkingLot,
        tenants: TenantStore,
        cursors: Cursors,
        acuity_for: Callable[[TenantProfile], AcuityClient],
        acuity_pace: Callable[[], bool],
        reconcile_days: int = DEFAULT_DAYS,
        orders: int = DEFAULT_ORDERS,
    ) -> None:
        self._resumer = resumer
        self._refresher = refresher
        self._releaser = releaser
        self._reconciler = reconciler
        self._parking = parking
        self._tenants = tenants
        self._cursors = cursors
        self._acuity_for = acuity_for
        self._acuity_pace = acuity_pace
        self._reconcile_days = reconcile_days
        self._orders = orders

    def run(self, now: datetime, keep_going: Callable[[], bool]) -> MaintenanceReport:
        report = MaintenanceReport()
        parts: list[tuple[str, Callable[[], None]]] = [
            ("resume due", lambda: self._resume_due(now, report)),
            ("resume on reconnect", lambda: self._resume_waiting(ResumeOn.RECONNECT, report)),
            ("resume on settings change", lambda: self._resume_waiting(ResumeOn.SETTINGS_CHANGE, report)),
            ("refresh tokens", lambda: self._refresh(now, report, keep_going)),
            ("release backfills", lambda: self._backfill(report, keep_going)),
            ("reconcile", lambda: self._reconcile(now, report, keep_going)),
            ("count parked", lambda: self._count_parked(now, report)),
        ]
        for name, part in parts:
            if not keep_going():
                report.unfinished_parts.append(name)
                continue
            try:
                part()
            except Exception:
                logger.exception("a maintenance part failed; the others run", extra={"part": name})
                report.failed_parts.append(name)
        logger.info("maintenance run", extra=asdict(report))
        if report.failed_parts:
            raise MaintenanceFailed(f"failed: {', '.join(report.failed_parts)}")
        return report

    # ------------------------------------------------------------------------------------------------ parts

    def _resume_due(self, now: datetime, report: MaintenanceReport) -> None:
        resumed = self._resumer.resume_due(now, RESUME_DUE)
        report.resumed += resumed.resumed
        report.resume_failed += resumed.failed

    def _resume_waiting(self, resume_on: ResumeOn, report: MaintenanceReport) -> None:
        part = f"parked-{resume_on}"
        resumed, position = self._resumer.resume_waiting(resume_on, self._cursors.get(part), PARKED_CHECKED)
        self._cursors.put(part, position)
        report.resumed += resumed.resumed
        report.resume_failed += resumed.failed

    def _refresh(self, now: datetime, report: MaintenanceReport, keep_going: Callable[[], bool]) -> None:
        refreshed = self._refresher.refresh_due(now, REFRESHES_PER_LEDGER, keep_going=keep_going)
        report.refreshed += refreshed.refreshed
        report.needs_reauth += refreshed.needs_reauth
        report.refresh_failed += refreshed.failed

    def _backfill(self, report: MaintenanceReport, keep_going: Callable[[], bool]) -> None:
        released, position = self._releaser.release(self._cursors.get(BACKFILL_CURSOR), keep_going=keep_going)
        self._cursors.put(BACKFILL_CURSOR, position)
        report.backfilled += released.released

    def _reconcile(self, now: datetime, report: MaintenanceReport, keep_going: Callable[[], bool]) -> None:
        start = self._cursors.get(RECONCILE_CURSOR)
        tenant_ids, position = self._tenants.tenant_ids(after=start, limit=TENANTS_PER_RUN)
        done = start
        for index, tenant_id in enumerate(tenant_ids):
            if not keep_going() or not self._reconcile_one(tenant_id, now, report):
                report.unfinished_parts.append("reconcile")
                # The tenant cut short comes first next run; unless it was this run's first, which a whole run did
                # not suffice for: it is passed, so that it cannot hold up the tenants after it.
                self._cursors.put(RECONCILE_CURSOR, tenant_id if index == 0 else done)
                return
            done = tenant_id
        self._cursors.put(RECONCILE_CURSOR, position)

    def _reconcile_one(self, tenant_id: str, now: datetime, report: MaintenanceReport) -> bool:
        """False when the run ran out of time or budget in the middle of this tenant."""
        profile = self._tenants.get(tenant_id)
        if profile is None or not profile.ledgers:
            return True
        window = Window.around(business_today(profile, now), self._reconcile_days)
        try:
            with self._acuity_for(profile) as acuity:
                result = self._reconciler.reconcile(
                    profile, acuity, window, orders=self._orders, pace=self._acuity_pace
                )
        except AcuityRateLimited:
            return False  # Acuity's own limit, beyond our budget's reckoning: the rest waits for the next run
        except AcuityError as error:
            logger.warning("a tenant could not be reconciled", extra={"tenant": tenant_id, "error": str(error)})
            return True
        report.acuity_pages += result.pages
        report.checked += result.checked
        report.reconciled += result.queued
        if result.complete:
            report.tenants_reconciled += 1
        return result.complete

    def _count_parked(self, now: datetime, report: MaintenanceReport) -> None:
        """Events parked for more than a day: waiting for a reconnect or a settings change since then (those lists
        are ordered by parking time), or for a time that passed more than a day ago."""
        cutoff = (now - PARKED_TOO_LONG).isoformat()
        total = sum(self._parking.count_waiting(resume_on, cutoff) for resume_on in ResumeOn)
        report.parked_over_a_day = total
        count(MetricName.PARKED_OVER_A_DAY, value=total)
