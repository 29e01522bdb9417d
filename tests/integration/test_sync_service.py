"""The sync of one message, end to end but for the ledger: the tenant and settings in the table (moto), Acuity
over HTTP (the fake), snapshots, parking and the audit trail; the ledger is the in-memory one."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import httpx
import pytest

from acuity_sync.acuity.client import AcuityClient
from acuity_sync.domain.budget import Budget
from acuity_sync.domain.documents import InvoiceStatus
from acuity_sync.domain.errors import NeedsReauth, RateLimited, Rejected, Transient
from acuity_sync.domain.message import Origin, SyncRequest
from acuity_sync.domain.names import ALL_LEDGERS, EventKind, LedgerName
from acuity_sync.secret import Secret
from acuity_sync.store.audit import AuditTrail
from acuity_sync.store.budgets import ACUITY_BUDGET_NAME, BudgetStore, Wait
from acuity_sync.store.codes import CodeBook
from acuity_sync.store.kms import SecretBox
from acuity_sync.store.parking import ParkedEvent, ParkingLot, ResumeOn
from acuity_sync.store.records import RecordStore
from acuity_sync.store.seen import SeenStore
from acuity_sync.store.snapshots import SnapshotStore
from acuity_sync.store.sync_state import SyncStateReader
from acuity_sync.store.tenants import TenantProfile, TenantStore
from acuity_sync.sync.service import PROFILE_KEEP, Outcome, SyncService
from acuity_sync.sync.worker import RetryLater, SyncWorker
from acuity_sync_toolkit.fakes.acuity import FakeAcuity
from acuity_sync_toolkit.fakes.acuity.entities import OMIT
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack
from tests.support.aws import add_tenant, tenant_store
from tests.support.bookings import booking
from tests.support.memory_ledger import MemoryLedger

TENANT = "5555555555555555aaaaaaaaaaaaaaaa"
USER, KEY = 7001, "acuity-key-7001"
GENEROUS = Budget(rate_per_second=1000, burst=1000)


@dataclass
class World:
    stack: ProvisionedStack
    acuity: FakeAcuity
    ledger: MemoryLedger
    acuity_requests: list[str]

    def service(self, ledger_name: LedgerName = LedgerName.QUICKBOOKS, **overrides: Any) -> SyncService:
        dynamodb = boto3.client("dynamodb", region_name=self.stack.region)
        table = self.stack.table_name

        def acuity_for(profile: TenantProfile) -> AcuityClient:
            http = httpx.Client(
                event_hooks={"request": [lambda request: self.acuity_requests.append(request.url.path)]}
            )
            return AcuityClient(profile.acuity_base_url, profile.acuity_user_id, profile.acuity_api_key, http=http)

        arguments: dict[str, Any] = {
            "ledger_name": ledger_name,
            "tenants": tenant_store(self.stack),
            "state": SyncStateReader(dynamodb, table),
            "records": RecordStore(dynamodb, table),
            "snapshots": SnapshotStore(dynamodb, table),
            "parking": ParkingLot(dynamodb, table),
            "audit": AuditTrail(dynamodb, table),
            "budgets": BudgetStore(dynamodb, table),
            "acuity_budget": GENEROUS,
            "ledger_for": lambda _profile, _settings, _pace: self.ledger,
            "acuity_for": acuity_for,
        }
        return SyncService(**(arguments | overrides))

    def book(self, **fields: Any) -> int:
        appointment = self.acuity.book_appointment(USER, booking(**fields))
        return int(appointment["id"])


@pytest.fixture
def world(stack: ProvisionedStack) -> Iterator[World]:
    with FakeAcuity() as acuity:
        acuity.add_account(USER, KEY)
        add_tenant(
            stack,
            TenantProfile(
                TENANT,
                "Studio",
                str(USER),
                Secret(KEY),
                acuity_base_url=acuity.url,
                currency="USD",
                ledgers=(LedgerName.QUICKBOOKS, LedgerName.XERO),
            ),
        )
        yield World(stack, acuity, MemoryLedger(), [])


def request(
    object_id: int, *, kind: EventKind = EventKind.APPOINTMENT, received: datetime | None = None
) -> SyncRequest:
    moment = received or datetime.now(UTC)
    return SyncRequest(TENANT, kind, object_id, "changed", moment.isoformat(timespec="milliseconds"), f"r-{object_id}")


def audit(world: World, object_id: int, ledger: LedgerName = LedgerName.QUICKBOOKS) -> list[dict[str, str]]:
    trail = AuditTrail(boto3.client("dynamodb", region_name=world.stack.region), world.stack.table_name)
    return trail.entries(TENANT, ledger, EventKind.APPOINTMENT, object_id)


def test_a_booking_is_synced_once_and_again_is_in_step(world: World) -> None:
    appointment = world.book(amountPaid="80.00")
    service = world.service()
    assert service.sync(request(appointment)).outcome is Outcome.SYNCED
    assert (len(world.ledger.customers), len(world.ledger.invoices), len(world.ledger.payments)) == (1, 1, 1)
    result = service.sync(request(appointment))
    assert result.outcome is Outcome.SYNCED
    assert result.detail == "already in step with Acuity"
    assert (len(world.ledger.customers), len(world.ledger.invoices), len(world.ledger.payments)) == (1, 1, 1)
    assert [entry["decision"] for entry in audit(world, appointment)].count("written") == 3


def test_a_snapshot_fetched_after_the_webhook_is_reused_by_the_other_ledger(world: World) -> None:
    appointment = world.book(amountPaid="20.00")
    arrived = datetime.now(UTC) - timedelta(seconds=5)
    world.service().sync(request(appointment, received=arrived))
    fetched = len(world.acuity_requests)
    assert fetched == 2  # the appointment and its payments
    world.service(LedgerName.XERO, ledger_for=lambda *_: MemoryLedger(name=LedgerName.XERO)).sync(
        request(appointment, received=arrived)
    )
    assert len(world.acuity_requests) == fetched  # nothing read from Acuity again
    later = datetime.now(UTC) + timedelta(seconds=5)  # a webhook that arrived after the snapshot was taken
    world.service().sync(request(appointment, received=later))
    assert len(world.acuity_requests) == fetched + 2


def test_an_unpaid_appointment_costs_one_acuity_call(world: World) -> None:
    world.service().sync(request(world.book()))
    assert len(world.acuity_requests) == 1  # the appointment; nothing paid, so no payments to read


def test_an_appointment_acuity_does_not_have_is_skipped_and_explained(world: World) -> None:
    result = world.service().sync(request(999999))
    assert result.outcome is Outcome.SKIPPED
    assert "999999" in result.detail
    assert audit(world, 999999)[0]["rule"] == "not_in_acuity"


def test_a_rejection_is_parked_in_the_ledgers_words_and_cleared_once_synced(world: World) -> None:
    appointment = world.book()
    world.ledger.refuse_with = Rejected("6000", "A business validation error has occurred")
    result = world.service().sync(request(appointment))
    assert result.outcome is Outcome.PARKED
    parked = ParkingLot(boto3.client("dynamodb", region_name="us-east-1"), world.stack.table_name).get(
        request(appointment), LedgerName.QUICKBOOKS
    )
    assert parked is not None
    assert parked.resume_on is ResumeOn.SETTINGS_CHANGE
    assert "A business validation error has occurred" in parked.detail
    assert world.service().sync(request(appointment)).outcome is Outcome.SYNCED
    assert (
        ParkingLot(boto3.client("dynamodb", region_name="us-east-1"), world.stack.table_name).get(
            request(appointment), LedgerName.QUICKBOOKS
        )
        is None
    )


def test_a_connection_that_needs_reauth_parks_until_reconnect(world: World) -> None:
    appointment = world.book()
    world.ledger.refuse_with = NeedsReauth("QuickBooks refused the connection: reconnect it")
    result = world.service().sync(request(appointment))
    assert result.outcome is Outcome.PARKED
    assert audit(world, appointment)[-1]["rule"] == "needs_reauth"


def test_a_park_for_reauth_is_undone_when_a_peer_restored_the_connection_meanwhile(world: World) -> None:
    """A peer's late store of fresh tokens ended the needs_reauth this sync was refused with (auth/tokens.py): the
    service parks, reads the connection again, finds it usable, clears its own park and retries soon."""
    appointment = world.book()
    world.ledger.refuse_with = NeedsReauth("FreshBooks needs to be reconnected")
    reads: list[str] = []

    def connected_again(tenant_id: str) -> bool:
        parked = ParkingLot(boto3.client("dynamodb", region_name="us-east-1"), world.stack.table_name).get(
            request(appointment), LedgerName.QUICKBOOKS
        )
        reads.append("parked" if parked is not None else "not parked")  # read after the park, not before
        return tenant_id == TENANT

    result = world.service(is_connected=connected_again).sync(request(appointment))
    assert (result.outcome, result.retry_after) == (Outcome.RETRY, 1.0)
    assert reads == ["parked"]
    lot = ParkingLot(boto3.client("dynamodb", region_name="us-east-1"), world.stack.table_name)
    assert lot.get(request(appointment), LedgerName.QUICKBOOKS) is None
    assert [entry["decision"] for entry in audit(world, appointment)][-2:] == ["parked", "retry later"]
    # Still refused for good: it stays parked.
    world.ledger.refuse_with = NeedsReauth("FreshBooks needs to be reconnected")
    result = world.service(is_connected=lambda _tenant: False).sync(request(appointment))
    assert result.outcome is Outcome.PARKED
    assert lot.get(request(appointment), LedgerName.QUICKBOOKS) is not None


def test_rate_limits_back_off_and_long_waits_park_with_a_resume_time(world: World) -> None:
    appointment = world.book()
    world.ledger.refuse_with = RateLimited(60)
    result = world.service().sync(request(appointment))
    assert (result.outcome, result.retry_after) == (Outcome.RETRY, 60)
    world.ledger.refuse_with = RateLimited(6 * 3600, "the daily limit is reached")
    parked = world.service().sync(request(appointment))
    assert parked.outcome is Outcome.PARKED
    assert "resumes at" in parked.detail


def test_a_currency_the_ledger_does_not_keep_is_parked_not_invoiced(world: World) -> None:
    appointment = world.book()

    world.ledger.info = replace(world.ledger.info, home_currency="EUR")
    result = world.service().sync(request(appointment))
    assert result.outcome is Outcome.PARKED
    assert "EUR" in result.detail
    assert not world.ledger.invoices


def test_a_ledger_that_is_not_connected_is_skipped(world: World) -> None:
    appointment = world.book()
    result = world.service(LedgerName.FRESHBOOKS).sync(request(appointment))
    assert result.outcome is Outcome.SKIPPED
    assert not world.ledger.invoices


def test_a_tenant_with_all_its_ledger_slots_in_use_retries_later_and_says_so(world: World) -> None:
    appointment = world.book()
    one_at_a_time = Budget(rate_per_second=1000, burst=1000, max_concurrent=1)
    budgets = BudgetStore(boto3.client("dynamodb", region_name=world.stack.region), world.stack.table_name)
    held = budgets.acquire_slot(f"{TENANT}#quickbooks", one_at_a_time)  # another sync of this tenant is running
    result = world.service(ledger_budget=one_at_a_time).sync(request(appointment))
    assert result.outcome is Outcome.RETRY
    assert not world.ledger.invoices
    assert audit(world, appointment)[-1]["decision"] == "retry later"
    assert not isinstance(held, Wait)
    budgets.release_slot(held.lease)
    assert world.service(ledger_budget=one_at_a_time).sync(request(appointment)).outcome is Outcome.SYNCED
    assert budgets.slots(f"{TENANT}#quickbooks") == {}  # released after the sync


def test_the_slot_is_held_for_the_lease_the_service_is_given(world: World) -> None:
    """The local stack gives the service a lease scaled as its timeouts are: a worker killed while holding a slot
    keeps it that long, not Lambda's full minute (a drain at time scale 0.2 waited five of its minutes per kill)."""
    budget = Budget(rate_per_second=1000, burst=1000, max_concurrent=1)
    budgets = BudgetStore(boto3.client("dynamodb", region_name=world.stack.region), world.stack.table_name)
    leases: list[float] = []

    def ledger_for(_profile: TenantProfile, _settings: object, pace: Callable[[], None]) -> MemoryLedger:
        pace()  # as an adapter does before its first request: the slot is taken with its token
        leases.extend(until - time.time() for until in budgets.slots(f"{TENANT}#quickbooks").values())
        return world.ledger

    result = world.service(ledger_budget=budget, slot_lease=7.0, ledger_for=ledger_for).sync(request(world.book()))
    assert result.outcome is Outcome.SYNCED
    assert len(leases) == 1
    assert 0 < leases[0] <= 7.0


def test_every_outcome_has_an_audit_entry_even_when_nothing_was_written(world: World) -> None:
    appointment = world.book()
    world.service().sync(request(appointment))
    world.service().sync(request(appointment))
    decisions = [entry["decision"] for entry in audit(world, appointment)]
    assert decisions[-1] == "in step"


# --------------------------------------------------------------------------------------------- issue 9: money
def parked(world: World, object_id: int) -> ParkedEvent | None:
    lot = ParkingLot(boto3.client("dynamodb", region_name=world.stack.region), world.stack.table_name)
    return lot.get(request(object_id), LedgerName.QUICKBOOKS)


@pytest.mark.parametrize(
    ("served", "words"),
    [
        ({"price": "-5.00"}, "a negative amount is not expected from Acuity"),
        ({"price": "80.005"}, "more precision than a cent"),
        ({"price": OMIT}, "price: Field required"),
    ],
)
def test_bad_data_from_acuity_is_parked_with_its_reason_not_retried(
    world: World, served: dict[str, Any], words: str
) -> None:
    appointment = world.book()
    world.acuity.serve_raw(USER, appointment, served)
    result = world.service().sync(request(appointment))
    assert result.outcome is Outcome.PARKED  # not RETRY: reading it again 25 times reads the same
    event = parked(world, appointment)
    assert event is not None
    assert (event.reason, event.resume_on) == ("acuity_bad_data", ResumeOn.ACUITY_CHANGE)
    assert words in event.detail
    assert "it syncs again when the appointment changes in Acuity" in event.detail
    assert not world.ledger.invoices
    world.acuity.serve_raw(USER, appointment, {"price": "80.00"})  # the owner fixes it: Acuity's next webhook
    later = request(appointment, received=datetime.now(UTC) + timedelta(seconds=1))
    assert world.service().sync(later).outcome is Outcome.SYNCED
    assert parked(world, appointment) is None


def test_a_profile_without_a_currency_reads_it_from_acuity_once(world: World) -> None:
    tenants = tenant_store(world.stack)
    tenants.set_currency(TENANT, "")  # stored before the currency was read at onboarding
    world.ledger.info = replace(world.ledger.info, home_currency="EUR")
    first, second = world.book(), world.book()
    result = world.service().sync(request(first))
    assert result.outcome is Outcome.PARKED  # USD (Acuity's GET /me) against EUR: checked, not skipped
    assert "Acuity charges in USD" in result.detail
    assert world.acuity_requests.count("/api/v1/me") == 1
    profile = tenants.get(TENANT)
    assert profile is not None
    assert profile.currency == "USD"  # kept: the next sync, in any container, reads no /me
    world.service().sync(request(second))
    assert world.acuity_requests.count("/api/v1/me") == 1
    assert not world.ledger.invoices


@pytest.mark.parametrize("kind", ["package", "gift", "subscription"])
def test_a_prepaid_code_bills_zero_and_is_looked_up_once_per_tenant(world: World, kind: str) -> None:
    world.acuity.add_certificate(
        USER, {"certificate": "CODE-1", "type": kind, "email": "jane@example.com", "remainingCounts": 5}
    )
    codes = CodeBook(boto3.client("dynamodb", region_name=world.stack.region), world.stack.table_name)
    first, second = world.book(certificate="CODE-1"), world.book(certificate="code-1")
    assert world.service(codes=codes).sync(request(first)).outcome is Outcome.SYNCED
    xero = MemoryLedger(name=LedgerName.XERO)
    fresh_container = CodeBook(boto3.client("dynamodb", region_name=world.stack.region), world.stack.table_name)
    world.service(LedgerName.XERO, ledger_for=lambda _p, _s, _pace: xero, codes=fresh_container).sync(request(first))
    world.service(codes=codes).sync(request(second))
    assert [invoice.total for invoice in world.ledger.invoices.values()] == [Decimal("0.00"), Decimal("0.00")]
    assert [invoice.total for invoice in xero.invoices.values()] == [Decimal("0.00")]
    lookups = [path for path in world.acuity_requests if path.startswith("/api/v1/certificates")]
    assert lookups == ["/api/v1/certificates/check"]  # once for the tenant: not per ledger, not per booking
    rules = [entry["rule"] for entry in audit(world, first)]
    assert "prepaid_code_billed_at_zero" in rules


def test_a_package_whose_last_use_this_booking_took_is_found_among_the_certificates(world: World) -> None:
    world.acuity.add_certificate(
        USER, {"certificate": "LAST-1", "type": "package", "email": "jane@example.com", "remainingCounts": 1}
    )
    codes = CodeBook(boto3.client("dynamodb", region_name=world.stack.region), world.stack.table_name)
    appointment = world.book(certificate="LAST-1")
    assert world.service(codes=codes).sync(request(appointment)).outcome is Outcome.SYNCED
    assert [invoice.total for invoice in world.ledger.invoices.values()] == [Decimal("0.00")]
    lookups = [path for path in world.acuity_requests if path.startswith("/api/v1/certificates")]
    assert lookups == ["/api/v1/certificates/check", "/api/v1/certificates"]  # used up: the check refuses it


def test_a_coupon_bills_the_discounted_price(world: World) -> None:
    world.acuity.add_certificate(
        USER, {"certificate": "SPRING20", "type": "coupon", "discountType": "percentage", "discountAmount": "20"}
    )
    codes = CodeBook(boto3.client("dynamodb", region_name=world.stack.region), world.stack.table_name)
    appointment = world.book(certificate="SPRING20", price="80.00")
    assert world.service(codes=codes).sync(request(appointment)).outcome is Outcome.SYNCED
    assert [invoice.total for invoice in world.ledger.invoices.values()] == [Decimal("64.00")]


def test_booked_before_the_connection_is_skipped_unless_backfilled(world: World) -> None:
    connected = datetime.now(UTC)
    before = world.book(datetimeCreated=(connected - timedelta(days=3)).isoformat())
    service = world.service(connected_at=lambda _tenant: connected)
    result = service.sync(request(before))
    assert result.outcome is Outcome.SKIPPED
    assert audit(world, before)[-1]["rule"] == "booked_before_connection"
    assert not world.ledger.invoices
    backfill = request(before).requeued(Origin.BACKFILL, "backfill-1", datetime.now(UTC).isoformat())
    assert service.sync(backfill).outcome is Outcome.SYNCED
    assert len(world.ledger.invoices) == 1
    after = world.book()
    assert service.sync(request(after)).outcome is Outcome.SYNCED
    assert len(world.ledger.invoices) == 2


# ------------------------------------------------------------------------------------------------ Acuity's budget
# Budgets that barely refill during a test, so that what was taken is what is missing.
NO_REFILL = 0.0001


def bucket_tokens(world: World, name: str, budget: Budget) -> float:
    budgets = BudgetStore(boto3.client("dynamodb", region_name=world.stack.region), world.stack.table_name)
    return budgets.bucket(name, budget).tokens


def a_tenant(world: World, tenant_id: str, ledgers: tuple[LedgerName, ...]) -> None:
    add_tenant(
        world.stack,
        TenantProfile(
            tenant_id,
            "Studio",
            str(USER),
            Secret(KEY),
            acuity_base_url=world.acuity.url,
            currency="USD",
            ledgers=ledgers,
        ),
    )


@pytest.mark.usefixtures("atomic_moto")
def test_three_ledgers_of_one_webhook_spend_one_token_per_acuity_call(world: World) -> None:
    """The three sync functions get the webhook at the same moment: one claims the snapshot and fetches, the others
    wait for it. Three ledgers, one Acuity read (two calls for a paid booking), two tokens."""
    tenant = "6666666666666666aaaaaaaaaaaaaaaa"
    a_tenant(world, tenant, ALL_LEDGERS)
    appointment = world.book(amountPaid="20.00")
    webhook = replace(request(appointment), tenant_id=tenant)
    budget = Budget(rate_per_second=NO_REFILL, burst=10)
    start = threading.Barrier(len(ALL_LEDGERS))
    results: dict[LedgerName, Outcome] = {}

    def sync(ledger: LedgerName) -> None:
        service = world.service(
            ledger,
            acuity_budget=budget,
            ledger_for=lambda _profile, _settings, _pace: MemoryLedger(name=ledger),
            snapshot_wait=30.0,  # a loaded machine may take its time to fetch: this test counts tokens
        )
        start.wait()
        results[ledger] = service.sync(webhook).outcome

    threads = [threading.Thread(target=sync, args=(ledger,)) for ledger in ALL_LEDGERS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == dict.fromkeys(ALL_LEDGERS, Outcome.SYNCED)
    assert sorted(world.acuity_requests) == sorted(
        [f"/api/v1/appointments/{appointment}", f"/api/v1/appointments/{appointment}/payments"]
    )
    assert bucket_tokens(world, ACUITY_BUDGET_NAME, budget) == pytest.approx(8, abs=0.01)


def test_a_snapshot_already_stored_costs_no_token(world: World) -> None:
    webhook = request(world.book())  # one webhook, queued for both ledgers
    budget = Budget(rate_per_second=NO_REFILL, burst=10)
    world.service(acuity_budget=budget).sync(webhook)
    world.service(LedgerName.XERO, acuity_budget=budget, ledger_for=lambda *_: MemoryLedger(name=LedgerName.XERO)).sync(
        webhook
    )
    assert bucket_tokens(world, ACUITY_BUDGET_NAME, budget) == pytest.approx(9, abs=0.01)  # one read, one token


def test_an_appointment_acuity_does_not_have_is_asked_for_once_for_every_ledger(world: World) -> None:
    webhook = request(999998)
    assert world.service().sync(webhook).outcome is Outcome.SKIPPED
    xero = world.service(LedgerName.XERO, ledger_for=lambda *_: MemoryLedger(name=LedgerName.XERO))
    result = xero.sync(webhook)
    assert result.outcome is Outcome.SKIPPED
    assert "999998" in result.detail
    assert world.acuity_requests == ["/api/v1/appointments/999998"]


def test_one_tenant_spends_its_own_share_of_acuitys_budget_not_the_others(world: World) -> None:
    """A tenant flooding us with signed webhooks (it knows its key) waits on its own share; another tenant's sync
    still reads Acuity at once."""
    flooder = "7777777777777777aaaaaaaaaaaaaaaa"
    a_tenant(world, flooder, (LedgerName.QUICKBOOKS,))
    global_budget = Budget(rate_per_second=NO_REFILL, burst=6)
    share = Budget(rate_per_second=NO_REFILL, burst=2)
    service = world.service(acuity_budget=global_budget, acuity_share=share)
    flood = [service.sync(replace(request(900000 + n), tenant_id=flooder)) for n in range(8)]
    assert [result.outcome for result in flood] == [Outcome.SKIPPED] * 2 + [Outcome.RETRY] * 6
    assert all(result.waiting for result in flood[2:])
    assert "share of Acuity's request budget" in flood[-1].detail
    assert bucket_tokens(world, ACUITY_BUDGET_NAME, global_budget) == pytest.approx(4, abs=0.01)

    innocent = service.sync(request(world.book()))
    assert innocent.outcome is Outcome.SYNCED


def test_waits_are_marked_waiting_and_failures_are_not(world: World) -> None:
    appointment = world.book()
    spent = Budget(rate_per_second=NO_REFILL, burst=1)
    BudgetStore(boto3.client("dynamodb", region_name=world.stack.region), world.stack.table_name).take(
        ACUITY_BUDGET_NAME, spent
    )
    waiting = world.service(acuity_budget=spent).sync(request(appointment))
    assert (waiting.outcome, waiting.waiting) == (Outcome.RETRY, True)
    world.ledger.refuse_with = RateLimited(30)
    assert world.service().sync(request(appointment)).waiting is True
    world.ledger.refuse_with = Transient("QuickBooks did not answer")
    failed = world.service().sync(request(appointment))
    assert (failed.outcome, failed.waiting) == (Outcome.RETRY, False)


# ------------------------------------------------------------------------------------------------ the worker
# Between the queue and the service, against moto's SQS with the template's queues: a message that waits backs off
# longer the more often it was received, and one that waited close to the receive count is queued afresh instead of
# reaching the DLQ; a message that fails still does.
# Spent and, on a clock that stands still, never refilled: a token is always 1 s away.
SPENT = Budget(rate_per_second=1.0, burst=1)
MAX_RECEIVES = 25


class Visibility:
    """The visibility timeouts the worker asks SQS for, as SQS receives them."""

    def __init__(self, sqs: Any) -> None:
        self.asked: list[int] = []
        sqs.meta.events.register("provide-client-params.sqs.ChangeMessageVisibilityBatch", self._record)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.asked.extend(int(entry["VisibilityTimeout"]) for entry in params["Entries"])


def queued(world: World, *, spend: bool = True) -> tuple[Any, str, SyncRequest]:
    """A webhook's message on the QuickBooks queue, received once; the Acuity budget spent, so that it must wait."""
    sqs = boto3.client("sqs", region_name=world.stack.region)
    url = world.stack.queue_urls["QuickBooksQueue"]
    message = request(world.book())
    sqs.send_message(
        QueueUrl=url, MessageBody=message.to_json(), MessageGroupId=message.group_id, MessageDeduplicationId="m1"
    )
    (received,) = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    if spend:
        frozen_budgets(world).take(ACUITY_BUDGET_NAME, SPENT)
    return sqs, received["ReceiptHandle"], message


def frozen_budgets(world: World) -> BudgetStore:
    dynamodb = boto3.client("dynamodb", region_name=world.stack.region)
    return BudgetStore(dynamodb, world.stack.table_name, clock=lambda: 1_800_000_000.0)


def worker(world: World, sqs: Any, **overrides: Any) -> SyncWorker:
    arguments: dict[str, Any] = {"acuity_budget": SPENT, "budgets": frozen_budgets(world)} | overrides
    service = world.service(**arguments)
    url = world.stack.queue_urls["QuickBooksQueue"]
    return SyncWorker(service, LedgerName.QUICKBOOKS, sqs, url, max_receive_count=MAX_RECEIVES, rng=random.Random(7))


def test_a_waiting_message_backs_off_longer_the_more_often_it_was_received(world: World) -> None:
    sqs, receipt, message = queued(world)
    visibility = Visibility(sqs)
    sync = worker(world, sqs)
    for receives in (1, 2, 4, 6, 8, 12):
        with pytest.raises(RetryLater, match="budget is spent"):
            sync.handle(message.to_json(), receipt, receive_count=receives)
    # The budget's own wait (1 s) at first, then 2**(receives - 1) s with jitter (half to all of it), at most 120 s.
    assert visibility.asked[:2] == [1, 1]
    for receives, wait in zip((4, 6, 8, 12), visibility.asked[2:], strict=True):
        growth = min(120, 2 ** (receives - 1))
        assert growth / 2 - 1 <= wait <= growth, (receives, wait)


def test_a_message_that_waited_near_the_receive_count_is_queued_afresh_not_dead_lettered(world: World) -> None:
    sqs, receipt, message = queued(world)
    url = world.stack.queue_urls["QuickBooksQueue"]
    result = worker(world, sqs).handle(message.to_json(), receipt, receive_count=MAX_RECEIVES - 3)
    assert result.waiting  # handled: the batch deletes this one
    sqs.delete_message(QueueUrl=url, ReceiptHandle=receipt)
    (copy,) = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert copy["Attributes"]["ApproximateReceiveCount"] == "1"
    assert copy["Attributes"]["MessageGroupId"] == message.group_id
    body = json.loads(copy["Body"])
    assert body["request_id"] != message.request_id  # a new deduplication id
    assert (body["object_id"], body["received_at"]) == (message.object_id, message.received_at)


def test_a_message_that_keeps_failing_still_reaches_the_dlq(world: World) -> None:
    sqs, receipt, message = queued(world, spend=False)
    world.ledger.refuse_with = Transient("QuickBooks did not answer")
    sync = worker(world, sqs, acuity_budget=Budget(rate_per_second=1000, burst=1000))
    with pytest.raises(RetryLater):
        sync.handle(message.to_json(), receipt, receive_count=MAX_RECEIVES - 1)
    url = world.stack.queue_urls["QuickBooksQueue"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"  # no copy: a failure is not a wait


def test_the_adapter_is_built_only_when_the_plan_writes(world: World) -> None:
    """Building the adapter reads the connection and decrypts its tokens: a message that finds the ledger in step
    with Acuity (the company known in this container) builds none."""
    built: list[str] = []

    def ledger_for(_profile: TenantProfile, _settings: Any, _pace: Any) -> MemoryLedger:
        built.append("adapter")
        return world.ledger

    appointment = world.book(amountPaid="80.00")
    service = world.service(ledger_for=ledger_for)
    assert service.sync(request(appointment)).outcome is Outcome.SYNCED
    assert built == ["adapter"]
    again = service.sync(request(appointment))
    assert (again.outcome, again.detail) == (Outcome.SYNCED, "already in step with Acuity")
    assert built == ["adapter"]  # not built again: nothing to write
    world.acuity.change_appointment(USER, appointment, {"datetime": "2026-12-17T10:00:00-0500"})
    assert service.sync(request(appointment)).outcome is Outcome.SYNCED
    assert built == ["adapter", "adapter"]
    assert world.ledger.calls[-1] == "update_invoice"


def test_writes_to_an_invoice_say_what_the_record_knows_of_it(world: World) -> None:
    """The update, e-mail and void of an invoice carry the record's view of it (status, e-mailed, what was paid,
    the ledger's version), so that the adapter need not read it first."""
    appointment = world.book()
    service = world.service()
    service.sync(request(appointment))
    world.acuity.change_appointment(USER, appointment, {"datetime": "2026-12-17T10:00:00-0500"})
    service.sync(request(appointment))
    world.acuity.change_appointment(USER, appointment, {"canceled": True})
    service.sync(request(appointment))
    assert world.ledger.calls[-2:] == ["update_invoice", "void_invoice"]
    update, void = world.ledger.known
    assert update is not None
    assert void is not None
    invoice_id = next(iter(world.ledger.invoices))
    assert (update.id, update.status, update.emailed, update.balance) == (
        invoice_id,
        InvoiceStatus.DRAFT,
        False,
        Decimal("80.00"),
    )
    assert (void.id, void.txn_date.isoformat()) == (invoice_id, "2026-12-17")


SOLO = "6666666666666666aaaaaaaaaaaaaaaa"  # a tenant with QuickBooks alone connected


def test_a_tenant_on_one_ledger_shares_no_snapshot_until_its_message_comes_back(world: World) -> None:
    """No other ledger's function reads a one-ledger tenant's snapshot: the first attempt neither claims nor stores
    it (two DynamoDB writes saved). A message that is retried keeps it, so that its next attempt does not read
    Acuity again."""
    add_tenant(
        world.stack,
        TenantProfile(
            SOLO,
            "Solo",
            str(USER),
            Secret(KEY),
            acuity_base_url=world.acuity.url,
            currency="USD",
            ledgers=(LedgerName.QUICKBOOKS,),
        ),
    )
    snapshots = SnapshotStore(boto3.client("dynamodb", region_name=world.stack.region), world.stack.table_name)
    appointment = world.book(amountPaid="80.00")
    arrived = datetime.now(UTC) - timedelta(seconds=1)
    message = replace(request(appointment, received=arrived), tenant_id=SOLO)
    service = world.service()
    assert service.sync(message).outcome is Outcome.SYNCED
    assert len(world.acuity_requests) == 2
    assert snapshots.fresh(SOLO, EventKind.APPOINTMENT, appointment, arrived) is None  # nothing stored

    second = world.book(amountPaid="80.00", datetime="2026-12-10T10:00:00-0500")
    message = replace(request(second, received=arrived), tenant_id=SOLO)
    world.ledger.refuse_with = Transient("QuickBooks did not answer")
    assert service.sync(message).outcome is Outcome.RETRY
    assert len(world.acuity_requests) == 4
    assert snapshots.fresh(SOLO, EventKind.APPOINTMENT, second, arrived) is not None  # kept for the retry
    assert service.sync(message, attempt=2).outcome is Outcome.SYNCED
    assert len(world.acuity_requests) == 4  # the retry read the kept snapshot, not Acuity


def test_the_state_a_sync_read_is_marked_once_and_again_only_when_acuity_changed_it(world: World) -> None:
    """The reconciliation marker is read with the record (one BatchGetItem) and not written again for the same
    state: a duplicate delivery or a retry writes one item fewer."""
    dynamodb = boto3.client("dynamodb", region_name=world.stack.region)
    seen = SeenStore(dynamodb, world.stack.table_name)
    service = world.service(seen=seen)
    appointment = world.book()

    def marked() -> dict[str, Any]:
        item = dynamodb.get_item(
            TableName=world.stack.table_name,
            Key={"pk": {"S": f"TENANT#{TENANT}#quickbooks"}, "sk": {"S": f"SEEN#appointment#{appointment}"}},
        )["Item"]
        return {name: value["S"] for name, value in item.items() if name in ("fingerprint", "at")}

    assert service.sync(request(appointment)).outcome is Outcome.SYNCED
    first = marked()
    assert service.sync(request(appointment)).outcome is Outcome.SYNCED  # the same state again
    assert marked() == first
    world.acuity.change_appointment(USER, appointment, {"datetime": "2026-12-17T10:00:00-0500"})
    assert service.sync(request(appointment)).outcome is Outcome.SYNCED
    assert marked()["fingerprint"] != first["fingerprint"]


class CountingTenants(TenantStore):
    """The table's tenant store, counting its profile reads."""

    reads = 0

    def get(self, tenant_id: str) -> TenantProfile | None:
        self.reads += 1
        return super().get(tenant_id)


def counting_tenants(world: World) -> CountingTenants:
    box = SecretBox(boto3.client("kms", region_name=world.stack.region), world.stack.kms_key_arn)
    return CountingTenants(boto3.client("dynamodb", region_name=world.stack.region), world.stack.table_name, box)


def test_a_warm_container_reads_a_tenants_profile_once_a_minute(world: World) -> None:
    tenants = counting_tenants(world)
    now = [datetime.now(UTC)]
    service = world.service(tenants=tenants, clock=lambda: now[0])
    for _ in range(3):
        assert service.sync(request(world.book())).outcome is Outcome.SYNCED
    assert tenants.reads == 1
    now[0] += PROFILE_KEEP
    assert service.sync(request(world.book())).outcome is Outcome.SYNCED
    assert tenants.reads == 2


def test_a_key_changed_within_the_minute_is_read_afresh_not_parked(world: World) -> None:
    tenants = counting_tenants(world)
    service = world.service(tenants=tenants)
    assert service.sync(request(world.book())).outcome is Outcome.SYNCED
    world.acuity.add_account(USER, "acuity-key-rotated")  # the owner rotates the key, and saves it on our page
    tenants.set_api_key(TENANT, Secret("acuity-key-rotated"))
    appointment = world.book()
    assert service.sync(request(appointment)).outcome is Outcome.SYNCED
    assert tenants.reads == 2
    assert [entry["decision"] for entry in audit(world, appointment)].count("parked") == 0


def test_a_ledger_disconnected_or_connected_within_the_minute_is_seen_at_once(world: World) -> None:
    tenants = counting_tenants(world)
    gone = [False]

    def ledger_for(_profile: TenantProfile, _settings: object, _pace: object) -> MemoryLedger:
        if gone[0]:  # what the token keeper answers once the connection is removed
            raise NeedsReauth("QuickBooks is not connected")
        return world.ledger

    service = world.service(tenants=tenants, ledger_for=ledger_for)
    assert service.sync(request(world.book())).outcome is Outcome.SYNCED
    gone[0] = True
    tenants.set_ledgers(TENANT, (LedgerName.XERO,))  # disconnected on the page: not parked for a reconnect
    result = service.sync(request(world.book()))
    assert (result.outcome, result.detail) == (Outcome.SKIPPED, "quickbooks is not connected any more")
    gone[0] = False
    tenants.set_ledgers(TENANT, (LedgerName.QUICKBOOKS, LedgerName.XERO))  # and connected again: not skipped
    assert service.sync(request(world.book())).outcome is Outcome.SYNCED
