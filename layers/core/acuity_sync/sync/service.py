"""The sync of one queued message for one ledger, whatever the ledger: read the tenant (kept a minute per
container, PROFILE_KEEP), its settings and the current appointment or order (or a snapshot fetched after the
webhook arrived), plan against the sync record, apply through the ledger adapter, and end in exactly one outcome
(DESIGN.md principle 5): synced, skipped by a named rule, parked with a reason and a resume condition, or retried
later (then, past the receive count, the DLQ with an alarm). Every outcome has an audit entry.

Acuity's request budget (10 a second per egress IP, for every tenant together) is spent fairly and only on a fetch:
the snapshot another ledger's sync stored (or is fetching, under its claim) is looked for first, so the three
ledgers of one webhook spend one token per Acuity call, not three; and each call takes a token from the tenant's
own share (ACUITY_TENANT_SHARE) before the global bucket, so one tenant's flood waits on its own share while the
others' calls go through. A call turned away by the share waits in its line (BudgetStore.take_in_line): its
messages come back at the pace the share serves them, not all at once ahead of the others' in the queue. A wait
is a RETRY marked `waiting`: the worker backs it off by its receive count and never lets it reach the DLQ
(sync/worker.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from acuity_sync.acuity.client import (
    AcuityBadData,
    AcuityClient,
    AcuityCredentialsRefused,
    AcuityError,
    AcuityForbidden,
    AcuityNotFound,
    AcuityRateLimited,
)
from acuity_sync.acuity.fingerprint import appointment_fingerprint, order_fingerprint
from acuity_sync.acuity.models import Appointment, Order, Payment
from acuity_sync.domain.billable import Billable, CodeKind
from acuity_sync.domain.budget import Budget
from acuity_sync.domain.documents import CompanyInfo
from acuity_sync.domain.errors import AuthExpired, NeedsReauth, RateLimited, Rejected, Transient
from acuity_sync.domain.message import SyncRequest
from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.domain.settings import LedgerSettings
from acuity_sync.ledgers.base import Ledger, Pace
from acuity_sync.observability import MetricName, count, logger
from acuity_sync.store.audit import AuditEntry, AuditTrail
from acuity_sync.store.budgets import (
    ACUITY_BUDGET_NAME,
    DEFAULT_LEASE_SECONDS,
    BudgetStore,
    Wait,
    acuity_share_name,
    ledger_budget_name,
)
from acuity_sync.store.codes import CodeBook
from acuity_sync.store.errors import StoreUnavailable
from acuity_sync.store.parking import ParkedEvent, ParkingLot, ResumeOn
from acuity_sync.store.records import RecordKey, RecordStore
from acuity_sync.store.seen import SeenStore
from acuity_sync.store.snapshots import MISSING, Snapshot, SnapshotStore
from acuity_sync.store.sync_state import SyncStateReader
from acuity_sync.store.tenant_cache import TenantDirectory
from acuity_sync.store.tenants import TenantProfile, TenantStore
from acuity_sync.sync.apply import Applier, Context
from acuity_sync.sync.customers import OneCustomer
from acuity_sync.sync.pacing import LedgerPacing, expected_calls
from acuity_sync.sync.plan import Rules, plan
from acuity_sync.sync.source import billable_from_appointment, billable_from_order

# Waits longer than this are not spent holding a queue message: the event is parked with a resume time.
LONGEST_BACKOFF = timedelta(minutes=15)
TRANSIENT_BACKOFF_SECONDS = 30.0
# A peer's claim on the snapshot: an Acuity read takes well under a second; past the client's timeout it has died.
CLAIM_SECONDS = 15.0
SNAPSHOT_WAIT_SECONDS = 0.8  # how long a sync polls for the snapshot a peer is fetching before it backs off
PEER_FETCH_BACKOFF = 1.0
RESTORED_BACKOFF = 1.0  # seconds: a connection restored while this message was being parked is usable at once
# A warm container keeps each tenant's profile this long (one GetItem a message saved). Only a go-ahead is answered
# from it: a missing tenant or ledger, Acuity refusing the key, or a ledger connection gone is read afresh.
PROFILE_KEEP = timedelta(seconds=60)


class Outcome(StrEnum):
    SYNCED = "synced"
    SKIPPED = "skipped"
    PARKED = "parked"
    RETRY = "retry"


@dataclass(frozen=True, slots=True)
class SyncResult:
    outcome: Outcome
    detail: str
    retry_after: float = 0.0  # seconds, for RETRY
    # RETRY because a budget, a rate limit or a peer's fetch said wait, not because something failed: the worker
    # backs these off by receive count and never lets them reach the DLQ.
    waiting: bool = False


class _Wait(Exception):
    """Not an error: a budget or a peer's fetch says wait `seconds` (answered as a RETRY marked waiting)."""

    def __init__(self, detail: str, seconds: float) -> None:
        super().__init__(detail)
        self.detail = detail
        self.seconds = seconds


class LedgerFactory(Protocol):
    """The tenant's ledger adapter, calling `pace` before each request (the message's LedgerPacing)."""

    def __call__(self, profile: TenantProfile, settings: LedgerSettings, pace: Pace) -> Ledger: ...


class SyncService:
    def __init__(
        self,
        *,
        ledger_name: LedgerName,
        tenants: TenantStore,
        state: SyncStateReader,
        records: RecordStore,
        snapshots: SnapshotStore,
        parking: ParkingLot,
        audit: AuditTrail,
        budgets: BudgetStore,
        acuity_budget: Budget,
        acuity_share: Budget | None = None,
        ledger_budget: Budget | None = None,
        ledger_for: LedgerFactory,
        acuity_for: Callable[[TenantProfile], AcuityClient],
        customers_for: Callable[[str], OneCustomer] | None = None,
        seen: SeenStore | None = None,
        codes: CodeBook | None = None,
        connected_at: Callable[[str], datetime | None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        is_connected: Callable[[str], bool] | None = None,
        snapshot_wait: float = SNAPSHOT_WAIT_SECONDS,
        slot_lease: float = DEFAULT_LEASE_SECONDS,
        time_scale: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._ledger_name = ledger_name
        self._tenants = tenants
        self._state = state  # the settings, the record, its park and its last marked state: one read
        self._records = records
        self._snapshots = snapshots
        self._parking = parking
        self._audit = audit
        self._budgets = budgets
        self._slot_lease = slot_lease  # a killed holder's slot is free again after this (the local stack scales it)
        self._acuity_budget = acuity_budget
        self._acuity_share = acuity_share  # each tenant's share of acuity_budget, taken from first
        self._ledger_budget = ledger_budget  # its max_concurrent bounds the tenant's syncs in flight at once
        self._time_scale = time_scale  # the local stack's: the longest wait for a ledger call is scaled with it
        self._ledger_for = ledger_for
        self._acuity_for = acuity_for
        self._customers_for = customers_for
        self._seen = seen  # reconciliation compares Acuity's lists with the state each finished sync read
        self._codes = codes  # what each code is, per tenant (None: codes are not looked up; price is billed)
        self._connected_at = connected_at  # when the tenant connected this ledger (None: not known)
        self._clock = clock
        self._is_connected = is_connected  # the tenant's connection to this ledger is usable (a read, no refresh)
        self._snapshot_wait = snapshot_wait
        self._sleep = sleep
        self._companies: dict[str, tuple[CompanyInfo, datetime]] = {}
        # The same cache as the webhook's, on this service's clock (tests move it).
        self._profiles = TenantDirectory(
            tenants, clock=lambda: self._clock().timestamp(), profile_ttl=PROFILE_KEEP.total_seconds()
        )
        self._connections: dict[str, tuple[datetime | None, datetime]] = {}
        self._currencies: dict[str, str] = {}  # GET /me's currency of tenants whose profile has none

    def sync(self, request: SyncRequest, *, attempt: int = 1) -> SyncResult:
        """`attempt`: the message's receive count (1 the first time)."""
        profile, kept = self._profile(request.tenant_id)
        return self._sync_as(request, profile, kept, attempt)

    def _profile(self, tenant_id: str) -> tuple[TenantProfile | None, bool]:
        """The tenant's profile, and whether it was kept in the container rather than read now. Only a go-ahead is
        answered from the container: no tenant, or a profile without this ledger, is read afresh."""
        asked_at = self._clock().timestamp()
        entry = self._profiles.lookup(tenant_id)
        if entry.profile is not None and self._ledger_name in entry.profile.ledgers:
            return entry.profile, entry.fetched_at < asked_at
        return self._profiles.reload(tenant_id).profile, False

    def _sync_as(self, request: SyncRequest, profile: TenantProfile | None, kept: bool, attempt: int) -> SyncResult:
        if profile is None:
            return SyncResult(Outcome.SKIPPED, "the tenant no longer exists")
        if self._ledger_name not in profile.ledgers:
            return self._skip(request, "ledger_disconnected", f"{self._ledger_name} is not connected any more")
        unshared: list[Snapshot] = []  # a snapshot fetched without a claim: stored only if the message comes back
        try:
            billable, fingerprint = self._billable(request, profile, attempt, unshared)
        except _Wait as wait:
            return self._retry(request, wait.detail, wait.seconds, waiting=True)
        except AcuityNotFound as error:
            return self._skip(request, "not_in_acuity", str(error))
        except AcuityRateLimited as error:
            return self._retry(request, str(error), error.retry_after, waiting=True)
        except (AcuityCredentialsRefused, AcuityForbidden) as error:
            if kept:  # the owner may have changed the key within the minute: once more, from a fresh profile
                fresh = self._profiles.reload(request.tenant_id).profile
                return self._sync_as(request, fresh, False, attempt)
            return self._park(request, "acuity_refused", str(error), ResumeOn.SETTINGS_CHANGE)
        except AcuityBadData as error:
            # Reading again reads the same: parked in words until Acuity's data changes (its webhook syncs it).
            detail = f"{error} Nothing was written; it syncs again when the {request.kind} changes in Acuity."
            return self._park(request, "acuity_bad_data", detail, ResumeOn.ACUITY_CHANGE)
        except AcuityError as error:
            return self._retry(request, str(error), TRANSIENT_BACKOFF_SECONDS)
        result = self._sync_in_slot(request, profile, billable, fingerprint)
        if result.outcome is Outcome.RETRY and unshared:
            self._keep_for_retry(request, unshared[0])
        return result

    def _keep_for_retry(self, request: SyncRequest, snapshot: Snapshot) -> None:
        """The snapshot a message that comes back reuses (it claims, and the claim's refusal carries this), so that
        a retry does not spend Acuity's budget again; best effort: without it the retry fetches."""
        try:
            self._snapshots.put(request.tenant_id, request.kind, request.object_id, snapshot)
        except StoreUnavailable as error:
            logger.warning("the snapshot was not kept for the retry", extra={"error": str(error)})

    def _mark_seen(self, request: SyncRequest, fingerprint: str, marked: str | None) -> None:
        """The Acuity state this sync finished with, for reconciliation (not again when `marked` already); a sync
        already done is not failed for it (without the marker, reconciliation queues the event once more, which
        writes nothing twice)."""
        if self._seen is None or fingerprint == marked:
            return
        try:
            self._seen.mark(request.tenant_id, self._ledger_name, request.kind, request.object_id, fingerprint)
        except StoreUnavailable as error:
            logger.warning("the synced state was not recorded for reconciliation", extra={"error": str(error)})

    def _sync_in_slot(
        self, request: SyncRequest, profile: TenantProfile, billable: Billable, fingerprint: str
    ) -> SyncResult:
        """The ledger part, its calls paced under the tenant's budget for this ledger while holding one of its
        concurrency slots (sync/pacing.py); its errors become outcomes (DESIGN.md principle 5)."""
        pacing = LedgerPacing(
            self._budgets,
            ledger_budget_name(request.tenant_id, self._ledger_name),
            self._ledger_budget,
            time_scale=self._time_scale,
            lease_seconds=self._slot_lease,
            sleep=self._sleep,
        )
        try:
            return self._sync_to_ledger(request, profile, billable, fingerprint, pacing)
        except RateLimited as error:
            return self._later(request, "rate_limited", error.message, error.retry_after)
        except (Transient, AuthExpired) as error:
            return self._retry(request, error.message, TRANSIENT_BACKOFF_SECONDS)
        except NeedsReauth as error:
            fresh = self._profiles.reload(request.tenant_id).profile  # a kept one may list a ledger just disconnected
            if fresh is None or self._ledger_name not in fresh.ledgers:
                return self._skip(request, "ledger_disconnected", f"{self._ledger_name} is not connected any more")
            return self._park_until_reconnected(request, error.message)
        except Rejected as error:
            detail = f"{self._ledger_name} refused it: {error.message} (code {error.code})"
            return self._park(request, "rejected", detail, ResumeOn.SETTINGS_CHANGE)
        finally:
            pacing.close()

    # ----------------------------------------------------------------------------------- Acuity
    def _billable(
        self, request: SyncRequest, profile: TenantProfile, attempt: int, unshared: list[Snapshot]
    ) -> tuple[Billable, str]:
        """What to bill, and the fingerprint of the Acuity state it comes from (acuity/fingerprint.py).

        A tenant with this ledger alone connected has no peer to share a snapshot with: its message's first attempt
        fetches without a claim and stores nothing (two writes saved), unless it comes back (`unshared`, stored by
        sync() on a RETRY). A later attempt, or a tenant with several ledgers, claims; the claim's refusal carries
        a snapshot stored since the webhook (no read before it)."""
        received_at = datetime.fromisoformat(request.received_at)
        if attempt <= 1 and profile.ledgers == (self._ledger_name,):
            snapshot = self._fetch(request, profile, self._clock())
            unshared.append(snapshot)
        else:
            snapshot = self._fetch_once(request, profile, received_at)
        document = snapshot.document
        if MISSING in document:
            raise AcuityNotFound(str(request.kind), request.object_id, str(document[MISSING]))
        currency = self._currency(profile)
        if request.kind is EventKind.ORDER:
            order = Order.model_validate(document["order"])
            return billable_from_order(order, currency), order_fingerprint(order)
        appointment = Appointment.model_validate(document["appointment"])
        payments = [Payment.model_validate(payment) for payment in document["payments"]]
        billable = billable_from_appointment(appointment, payments, currency, self._code_kind(profile, appointment))
        return billable, appointment_fingerprint(appointment)

    def _code_kind(self, profile: TenantProfile, appointment: Appointment) -> CodeKind | None:
        """What the appointment's code is: from the tenant's code book, else asked of Acuity once (and kept)."""
        code = appointment.certificate
        if code is None or self._codes is None:
            return None
        kind = self._codes.get(profile.tenant_id, code)
        if kind is None:
            self._take_acuity_token(profile.tenant_id)
            with self._acuity_for(profile) as acuity:
                email = appointment.email.strip() or None
                kind = acuity.code_kind(code, appointment.appointment_type_id, email)
            self._codes.put(profile.tenant_id, code, kind)
        return kind

    def _currency(self, profile: TenantProfile) -> str:
        """The tenant's currency; a profile stored without one reads it from Acuity's GET /me (once: it is saved
        into the profile) rather than skipping the currency check."""
        if profile.currency:
            return profile.currency
        known = self._currencies.get(profile.tenant_id)
        if known is not None:
            return known
        self._take_acuity_token(profile.tenant_id)
        with self._acuity_for(profile) as acuity:
            currency = acuity.me().currency
        if currency:
            self._tenants.set_currency(profile.tenant_id, currency)
            self._currencies[profile.tenant_id] = currency
        return currency

    def _fetch_once(self, request: SyncRequest, profile: TenantProfile, received_at: datetime) -> Snapshot:
        """Fetch under the snapshot's claim and store it; or, when a peer's claim serves this message, its
        snapshot (polled for a moment, else _Wait)."""
        key = (request.tenant_id, request.kind, request.object_id)
        owner = uuid.uuid4().hex
        now = self._clock()
        claim = self._snapshots.claim(
            *key, owner, since=received_at, now=now, until=now + timedelta(seconds=CLAIM_SECONDS)
        )
        if claim.snapshot is not None:
            return claim.snapshot
        if not claim.granted:
            return self._peers_snapshot(request, received_at)
        fetched_at = self._clock()
        try:
            snapshot = self._fetch(request, profile, fetched_at)
        except AcuityNotFound as error:
            # The other ledgers skip it too, without asking Acuity again.
            self._snapshots.put(*key, Snapshot({MISSING: str(error)}, fetched_at))
            raise
        except BaseException:
            self._snapshots.release(*key, owner)
            raise
        self._snapshots.put(*key, snapshot)
        return snapshot

    def _peers_snapshot(self, request: SyncRequest, received_at: datetime) -> Snapshot:
        waited, pause = 0.0, self._snapshot_wait / 8
        while waited < self._snapshot_wait:
            self._sleep(pause)
            waited += pause
            snapshot = self._snapshots.fresh(request.tenant_id, request.kind, request.object_id, received_at)
            if snapshot is not None:
                return snapshot
            pause *= 2
        raise _Wait("another ledger's sync is reading this from Acuity", PEER_FETCH_BACKOFF)

    def _take_acuity_token(self, tenant_id: str) -> None:
        """One Acuity call's token: the tenant's share first, then the global bucket (a share token taken when the
        global bucket then refuses is lost; that costs only the tenant whose call it was)."""
        if self._acuity_share is not None:
            share = self._budgets.take_in_line(acuity_share_name(tenant_id), self._acuity_share)
            if isinstance(share, Wait):
                raise _Wait("this business's share of Acuity's request budget is spent for now", share.seconds)
        wait = self._budgets.take(ACUITY_BUDGET_NAME, self._acuity_budget)
        if isinstance(wait, Wait):
            raise _Wait("Acuity's request budget is spent for now", wait.seconds)

    def _fetch(self, request: SyncRequest, profile: TenantProfile, fetched_at: datetime) -> Snapshot:
        with self._acuity_for(profile) as acuity:
            self._take_acuity_token(request.tenant_id)
            if request.kind is EventKind.ORDER:
                order = acuity.order(request.object_id)
                return Snapshot({"order": order.model_dump(mode="json", by_alias=True)}, fetched_at)
            appointment = acuity.appointment(request.object_id)
            # Nothing paid, no payments to read: one Acuity call saved from a small budget shared by all tenants.
            payments: list[Payment] = []
            if appointment.amount_paid > 0:
                self._take_acuity_token(request.tenant_id)
                payments = acuity.appointment_payments(request.object_id)
        return Snapshot(
            {
                "appointment": appointment.model_dump(mode="json", by_alias=True),
                "payments": [payment.model_dump(mode="json", by_alias=True) for payment in payments],
            },
            fetched_at,
        )

    # ----------------------------------------------------------------------------------- the ledger
    def _sync_to_ledger(
        self, request: SyncRequest, profile: TenantProfile, billable: Billable, fingerprint: str, pacing: LedgerPacing
    ) -> SyncResult:
        """Synced or skipped (the Acuity state it read then marked for reconciliation), else parked or an error."""
        key = RecordKey(request.tenant_id, self._ledger_name, request.kind, request.object_id)
        state = self._state.read(key)
        settings = state.settings.settings
        # The adapter (the connection's read and its tokens' Decrypt) is built only when the ledger is called: not
        # for a plan that writes nothing while the company is known in this container.
        opened: list[Ledger] = []

        def ledger() -> Ledger:
            if not opened:
                opened.append(self._ledger_for(profile, settings, pacing))
            return opened[0]

        company = self._company(profile.tenant_id, ledger)
        if billable.currency and company.home_currency and billable.currency != company.home_currency:
            detail = (
                f"Acuity charges in {billable.currency} but {company.name}'s home currency in "
                f"{self._ledger_name} is {company.home_currency}: no invoice was made"
            )
            return self._park(request, "currency_mismatch", detail, ResumeOn.SETTINGS_CHANGE)
        if not billable.currency and company.home_currency:
            detail = (
                f"Acuity does not say which currency the account charges in (GET /me has none), so it cannot be "
                f"checked against {company.name}'s home currency in {self._ledger_name}, {company.home_currency}: "
                "no invoice was made"
            )
            return self._park(request, "currency_unknown", detail, ResumeOn.SETTINGS_CHANGE)

        def applier() -> Applier:
            return Applier(
                ledger(),
                self._records,
                key,
                settings.tax_mode_for(company.default_tax),
                Context(_event(request), request.request_id),
                self._customers_for(request.tenant_id) if self._customers_for else None,
                settings.customer_fields,
            )

        record = state.stored.record
        if state.stored.pending is not None:
            record = applier().resolve(billable, record, state.stored.pending)
        connected_at = self._connection_time(request.tenant_id)
        rules = Rules.from_settings(settings, connected_at=connected_at, origin=request.origin)
        steps = plan(billable, rules, company, record)
        if not steps.writes_nothing:
            pacing.begin(expected_calls(steps.steps))  # the slot and the calls' tokens, before any intent
            applier().apply(steps, billable, record)
        for note in steps.notes:
            self._record(request, "written as the rule says", note.rule, note.detail)
        for skip in steps.skips:
            self._record(request, "skipped", skip.rule, skip.detail)
        if state.parked:
            self._parking.clear(request, self._ledger_name)
        self._mark_seen(request, fingerprint, state.seen)
        if steps.writes_nothing:
            if not steps.skips:
                self._record(request, "in step", "sync", f"{self._ledger_name} already agrees with Acuity")
            return SyncResult(Outcome.SKIPPED if steps.skips else Outcome.SYNCED, "already in step with Acuity")
        return SyncResult(Outcome.SYNCED, f"{len(steps.steps)} change(s) written")

    def _connection_time(self, tenant_id: str) -> datetime | None:
        """When the tenant connected this ledger, read once every ten minutes per container."""
        if self._connected_at is None:
            return None
        cached = self._connections.get(tenant_id)
        now = self._clock()
        if cached is not None and now - cached[1] < timedelta(minutes=10):
            return cached[0]
        connected_at = self._connected_at(tenant_id)
        self._connections[tenant_id] = (connected_at, now)
        return connected_at

    def _company(self, tenant_id: str, ledger: Callable[[], Ledger]) -> CompanyInfo:
        """The company's currency and tax rules, read once every ten minutes per container."""
        cached = self._companies.get(tenant_id)
        now = self._clock()
        if cached is not None and now - cached[1] < timedelta(minutes=10):
            return cached[0]
        company = ledger().company()
        self._companies[tenant_id] = (company, now)
        return company

    # ----------------------------------------------------------------------------------- outcomes
    def _skip(self, request: SyncRequest, rule: str, detail: str) -> SyncResult:
        self._record(request, "skipped", rule, detail)
        return SyncResult(Outcome.SKIPPED, detail)

    def _park(
        self, request: SyncRequest, reason: str, detail: str, resume_on: ResumeOn, resume_at: datetime | None = None
    ) -> SyncResult:
        now = self._clock()
        self._parking.park(ParkedEvent(request, self._ledger_name, reason, detail, resume_on, resume_at, now))
        count(MetricName.EVENTS_PARKED, ledger=self._ledger_name, reason=reason)
        self._record(request, "parked", reason, detail)
        return SyncResult(Outcome.PARKED, detail)

    def _park_until_reconnected(self, request: SyncRequest, detail: str) -> SyncResult:
        """Parked for a reconnect, then the connection read again: a peer's late store of fresh tokens may have
        ended the needs_reauth meanwhile (auth/tokens.py). Parked first, read after: either this read sees the
        restored connection (the park is cleared and the message retried), or the restore came later and the
        restorer's own listing finds this park and queues it again."""
        parked = self._park(request, "needs_reauth", detail, ResumeOn.RECONNECT)
        if self._is_connected is None or not self._is_connected(request.tenant_id):
            return parked
        event = self._parking.get(request, self._ledger_name)
        if event is not None:
            self._parking.clear_exactly(event)
        return self._retry(request, f"the {self._ledger_name} connection was renewed meanwhile", RESTORED_BACKOFF)

    def _later(self, request: SyncRequest, reason: str, detail: str, seconds: float) -> SyncResult:
        if timedelta(seconds=seconds) > LONGEST_BACKOFF:
            resume_at = self._clock() + timedelta(seconds=seconds)
            return self._park(
                request, reason, f"{detail}; resumes at {resume_at:%Y-%m-%d %H:%M} UTC", ResumeOn.TIME, resume_at
            )
        return self._retry(request, detail, seconds, waiting=True)

    def _retry(self, request: SyncRequest, detail: str, seconds: float, *, waiting: bool = False) -> SyncResult:
        self._record(request, "retry later", "backoff", f"{detail}; tried again in about {seconds:.0f} s")
        return SyncResult(Outcome.RETRY, detail, seconds, waiting)

    def _record(self, request: SyncRequest, decision: str, rule: str, detail: str) -> None:
        self._audit.record(
            AuditEntry(
                tenant_id=request.tenant_id,
                ledger=self._ledger_name,
                kind=request.kind,
                object_id=request.object_id,
                event=_event(request),
                decision=decision,
                rule=rule,
                detail=detail,
                request_id=request.request_id,
            )
        )


def _event(request: SyncRequest) -> str:
    """What arrived, for the audit trail: "webhook changed", or "resume changed", "reconcile changed" ... for an
    event queued again (explain tells them apart)."""
    return f"{request.origin} {request.action}"
