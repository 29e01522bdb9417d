"""Apply against the table (moto): intents before writes, record and audit together, and a crash after any
ledger write resolved on the next run without a second document."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import boto3
import pytest

from acuity_sync.domain.billable import Billable, Client, ReceivedPayment
from acuity_sync.domain.documents import CustomerDraft, TaxMode
from acuity_sync.domain.errors import Transient
from acuity_sync.domain.message import SyncRequest
from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.domain.record import SyncRecord
from acuity_sync.domain.settings import Mode
from acuity_sync.domain.steps import EnsureCustomer
from acuity_sync.store.audit import AuditTrail
from acuity_sync.store.customers import ClaimAnswer, CustomerCache
from acuity_sync.store.parking import ParkedEvent, ParkingLot, ResumeOn
from acuity_sync.store.records import RecordConflict, RecordKey, RecordStore
from acuity_sync.store.seen import SeenStore
from acuity_sync.store.settings import SettingsStore
from acuity_sync.store.sync_state import SyncStateReader
from acuity_sync.sync.apply import Applier, Context, describe
from acuity_sync.sync.customers import ClaimTiming, OneCustomer
from acuity_sync.sync.plan import Rules, plan
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack
from tests.support.memory_ledger import Crash, MemoryLedger

TENANT = "0123456789abcdef0123456789abcdef"
KEY = RecordKey(TENANT, LedgerName.QUICKBOOKS, EventKind.APPOINTMENT, 1001)
BOOKING = Billable(
    kind=EventKind.APPOINTMENT,
    source_id=1001,
    client=Client("Jane", "Doe", "jane@example.com"),
    service_date=date(2026, 12, 3),
    description="Massage",
    item_key="7",
    price=Decimal("80.00"),
    currency="USD",
    payments=(ReceivedPayment("ch_1", Decimal("80.00"), date(2026, 12, 1)),),
)
RULES = Rules(mode=Mode.SEND)


def store_of(stack: ProvisionedStack) -> RecordStore:
    return RecordStore(boto3.client("dynamodb", region_name=stack.region), stack.table_name)


def sync_once(stack: ProvisionedStack, ledger: MemoryLedger, billable: Billable = BOOKING) -> SyncRecord:
    """One run of the sync for one message: load, resolve an interrupted write, plan, apply."""
    store = store_of(stack)
    stored = store.load(KEY)
    applier = Applier(ledger, store, KEY, TaxMode.NON_TAXABLE, Context("webhook changed", "req-1"))
    record = applier.resolve(billable, stored.record, stored.pending)
    return applier.apply(plan(billable, RULES, ledger.company(), record), billable, record)


def test_a_run_writes_each_document_once_and_a_second_run_writes_nothing(stack: ProvisionedStack) -> None:
    ledger = MemoryLedger()
    record = sync_once(stack, ledger)
    assert (len(ledger.customers), len(ledger.invoices), len(ledger.payments), ledger.emails) == (
        1,
        1,
        1,
        ["jane@example.com"],
    )
    assert record.version == 6  # four steps: the customer step keeps no intent, the other three an intent and a commit
    calls = list(ledger.calls)
    assert sync_once(stack, ledger).version == record.version
    assert ledger.calls == calls  # nothing written, nothing even looked up
    assert store_of(stack).load(KEY).record == record


def test_every_write_has_an_audit_entry_in_words(stack: ProvisionedStack) -> None:
    sync_once(stack, MemoryLedger())
    trail = AuditTrail(boto3.client("dynamodb", region_name=stack.region), stack.table_name)
    details = [entry["detail"] for entry in trail.entries(TENANT, LedgerName.QUICKBOOKS, EventKind.APPOINTMENT, 1001)]
    assert len(details) == 4
    assert any("created for $80.00" in detail for detail in details)
    assert any("payment of $80.00 recorded (Acuity transaction ch_1)" in detail for detail in details)


@pytest.mark.parametrize("crash_after", ["create_customer", "create_invoice", "send_invoice", "record_payment"])
def test_a_crash_right_after_any_ledger_write_never_doubles_it(stack: ProvisionedStack, crash_after: str) -> None:
    ledger = MemoryLedger(crash_after=crash_after)
    with pytest.raises(Crash):
        sync_once(stack, ledger)
    # The intent survived the crash; the customer step keeps none: it finds the client by e-mail before it adds one.
    assert (store_of(stack).load(KEY).pending is None) is (crash_after == "create_customer")
    sync_once(stack, ledger)
    assert (len(ledger.customers), len(ledger.invoices), len(ledger.payments), len(ledger.emails)) == (1, 1, 1, 1)
    stored = store_of(stack).load(KEY)
    assert stored.pending is None
    assert plan(BOOKING, RULES, ledger.company(), stored.record).writes_nothing


def test_a_crash_before_the_ledger_write_writes_it_once_on_the_next_run(stack: ProvisionedStack) -> None:
    store = store_of(stack)
    ledger = MemoryLedger()
    first = plan(BOOKING, RULES, ledger.company(), SyncRecord()).steps[0]
    store.begin(KEY, SyncRecord(), first)  # the intent is saved, then the process dies before the write
    sync_once(stack, ledger)
    assert len(ledger.customers) == 1
    assert ledger.calls.count("find_customer") >= 1  # looked for it first


def test_the_record_is_written_only_on_the_version_that_was_read(stack: ProvisionedStack) -> None:
    store = store_of(stack)
    record = store.commit(KEY, SyncRecord(customer_id="C1"), None)
    store.commit(KEY, record, None)
    with pytest.raises(RecordConflict):
        store.commit(KEY, record, None)  # a stale writer


def test_the_last_sync_is_written_with_the_messages_last_step_only(stack: ProvisionedStack) -> None:
    """Each item in a transaction costs two write units: the steps before the last leave LAST_SYNC alone."""
    dynamodb = boto3.client("dynamodb", region_name=stack.region)
    items_per_transaction: list[int] = []
    dynamodb.meta.events.register(
        "before-parameter-build.dynamodb.TransactWriteItems",
        lambda params, **_: items_per_transaction.append(len(params["TransactItems"])),
    )
    ledger = MemoryLedger()
    store = RecordStore(dynamodb, stack.table_name)
    applier = Applier(ledger, store, KEY, TaxMode.NON_TAXABLE, Context("webhook changed", "req-1"))
    steps = plan(BOOKING, RULES, ledger.company(), SyncRecord())
    applier.apply(steps, BOOKING, SyncRecord())
    assert len(steps.steps) >= 3
    # record + audit (+ LAST_SYNC, last); the invoice's commit also carries the customer step's audit entry
    assert steps.steps[0] == EnsureCustomer()
    assert items_per_transaction == [3] + [2] * (len(steps.steps) - 3) + [3]
    trail = AuditTrail(dynamodb, stack.table_name).entries(TENANT, KEY.ledger, KEY.kind, KEY.object_id)
    assert trail[0]["detail"] == "customer ready (C1)"
    assert len(trail) == len(steps.steps)
    last = store.last_sync(TENANT, LedgerName.QUICKBOOKS)
    assert last is not None
    assert last.detail == describe(steps.steps[-1])


def test_the_settings_the_record_its_park_and_its_marked_state_are_one_request(stack: ProvisionedStack) -> None:
    dynamodb = boto3.client("dynamodb", region_name=stack.region)
    calls: list[str] = []
    dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    store, reader = RecordStore(dynamodb, stack.table_name), SyncStateReader(dynamodb, stack.table_name)
    nothing = reader.read(KEY)
    assert (nothing.stored, nothing.parked, nothing.seen) == (store.load(KEY), False, None)
    assert nothing.settings == SettingsStore(dynamodb, stack.table_name).get(TENANT, KEY.ledger)  # the defaults
    record = store.commit(KEY, SyncRecord(customer_id="C1"), None)
    request = SyncRequest(TENANT, KEY.kind, KEY.object_id, "changed", datetime.now(UTC).isoformat(), "r-1")
    ParkingLot(dynamodb, stack.table_name).park(
        ParkedEvent(request, KEY.ledger, "rejected", "refused", ResumeOn.SETTINGS_CHANGE, None, datetime.now(UTC))
    )
    seen = SeenStore(dynamodb, stack.table_name)
    seen.mark(TENANT, KEY.ledger, KEY.kind, KEY.object_id, "fp-1")
    calls.clear()
    state = reader.read(KEY)
    assert (state.stored.record, state.stored.pending, state.parked, state.seen) == (record, None, True, "fp-1")
    assert calls == ["BatchGetItem"]
    other = replace(KEY, object_id=KEY.object_id + 1)  # another appointment's park and mark are not this one's
    assert (reader.read(other).parked, reader.read(other).seen) == (False, None)
    # Queued by reconciliation for another state since: the next sync marks its state again, whatever it is.
    seen.mark_queued(TENANT, KEY.ledger, KEY.kind, KEY.object_id, "fp-2", datetime.now(UTC))
    assert reader.read(KEY).seen is None


def customers_of(stack: ProvisionedStack, timing: ClaimTiming = ClaimTiming()) -> OneCustomer:  # noqa: B008
    dynamodb = boto3.client("dynamodb", region_name=stack.region)
    return OneCustomer(CustomerCache(dynamodb, stack.table_name, TENANT, LedgerName.QUICKBOOKS), timing)


def test_a_returning_client_costs_no_lookup_when_cached(stack: ProvisionedStack) -> None:
    ledger, store, customers = MemoryLedger(), store_of(stack), customers_of(stack)
    for object_id in (1, 2):
        key = replace(KEY, object_id=object_id)
        billable = replace(BOOKING, source_id=object_id)
        applier = Applier(ledger, store, key, TaxMode.NON_TAXABLE, Context("webhook", "r"), customers=customers)
        applier.apply(plan(billable, RULES, ledger.company(), SyncRecord()), billable, SyncRecord())
    assert len(ledger.customers) == 1
    assert ledger.calls.count("find_customer") == 1


class Rendezvous:
    """Five syncs of one new client, lined up: each is counted once it reaches a point of the ledger's customer
    search, or once it is held back by another's claim on the client (then it never searches). Without the claim,
    every search starts, and answers, before anyone has created the customer (a class series booked at once); with
    it, the holder searches alone while the other four wait for its answer."""

    def __init__(self, parties: int) -> None:
        self._parties = parties
        self._arrived: set[int] = set()
        self._condition = threading.Condition()

    def arrive(self) -> None:
        with self._condition:
            self._arrived.add(threading.get_ident())
            self._condition.notify_all()

    def all_arrived(self) -> bool:
        with self._condition:
            # The deadline only guards the test against a hang; the count decides.
            return self._condition.wait_for(lambda: len(self._arrived) >= self._parties, timeout=60)


class RacingLedger(MemoryLedger):
    def __init__(self, searching: Rendezvous, answered: Rendezvous) -> None:
        super().__init__()
        self.searching, self.answered = searching, answered
        self.lock = threading.Lock()

    def find_customer(self, draft: CustomerDraft) -> str | None:
        self.searching.arrive()
        assert self.searching.all_arrived()
        with self.lock:
            found = super().find_customer(draft)
        self.answered.arrive()
        assert self.answered.all_arrived()
        return found

    def create_customer(self, draft: CustomerDraft) -> str:
        with self.lock:
            return super().create_customer(draft)


class CountedClaims(CustomerCache):
    """The table's customer cache; a sync refused the claim is counted as lined up."""

    def __init__(self, stack: ProvisionedStack, *rendezvous: Rendezvous) -> None:
        super().__init__(
            boto3.client("dynamodb", region_name=stack.region), stack.table_name, TENANT, LedgerName.QUICKBOOKS
        )
        self.rendezvous = rendezvous

    def claim(self, key: str, owner: str, until: datetime, now: datetime) -> ClaimAnswer:
        answer = super().claim(key, owner, until, now)
        if not answer.granted and answer.customer_id is None:
            for point in self.rendezvous:
                point.arrive()
        return answer


def test_five_simultaneous_bookings_of_a_new_client_make_one_customer(
    stack: ProvisionedStack, atomic_moto: None
) -> None:
    searching, answered = Rendezvous(5), Rendezvous(5)
    ledger, store = RacingLedger(searching, answered), store_of(stack)
    timing = ClaimTiming(lease=timedelta(seconds=60), wait=timedelta(seconds=60))
    customers = OneCustomer(CountedClaims(stack, searching, answered), timing)

    def sync(object_id: int) -> SyncRecord:
        key = replace(KEY, object_id=object_id)
        billable = replace(BOOKING, source_id=object_id, payments=())
        applier = Applier(ledger, store, key, TaxMode.NON_TAXABLE, Context("webhook", "r"), customers=customers)
        return applier.apply(plan(billable, RULES, ledger.company(), SyncRecord()), billable, SyncRecord())

    with ThreadPoolExecutor(max_workers=5) as pool:
        records = list(pool.map(sync, range(1, 6)))
    assert len(ledger.customers) == 1
    assert {record.customer_id for record in records} == set(ledger.customers)
    assert ledger.calls.count("find_customer") == 1  # the claim's holder looked; the others reused its answer
    assert len(ledger.invoices) == 5


def test_a_claim_whose_holder_died_lapses_and_the_next_sync_finds_what_it_made(stack: ProvisionedStack) -> None:
    """The holder created the customer and died before publishing it: after the claim's lease the next sync
    claims again, finds the customer in the ledger by e-mail and adds none."""
    ledger, store = MemoryLedger(), store_of(stack)
    clock = [datetime(2026, 12, 1, tzinfo=UTC)]
    dynamodb = boto3.client("dynamodb", region_name=stack.region)
    cache = CustomerCache(dynamodb, stack.table_name, TENANT, LedgerName.QUICKBOOKS)
    timing = ClaimTiming(lease=timedelta(seconds=60), wait=timedelta(0))
    assert cache.claim("jane@example.com", "dead-holder", clock[0] + timing.lease, clock[0]).granted
    ledger.create_customer(CustomerDraft("Jane", "Doe", "jane@example.com"))  # made, never published
    customers = OneCustomer(cache, timing, clock=lambda: clock[0])
    applier = Applier(ledger, store, KEY, TaxMode.NON_TAXABLE, Context("webhook", "r"), customers=customers)
    billable = replace(BOOKING, payments=())
    with pytest.raises(Transient, match="another sync is adding this client"):
        applier.apply(plan(billable, RULES, ledger.company(), SyncRecord()), billable, SyncRecord())
    clock[0] += timedelta(seconds=61)
    stored = store.load(KEY)
    record = applier.resolve(billable, stored.record, stored.pending)
    assert applier.apply(plan(billable, RULES, ledger.company(), record), billable, record).customer_id == "C1"
    second = Applier(ledger, store, replace(KEY, object_id=2), TaxMode.NON_TAXABLE, Context("w", "r"), customers)
    booked_again = replace(billable, source_id=2)
    assert second.apply(plan(booked_again, RULES, ledger.company(), SyncRecord()), booked_again, SyncRecord())
    assert list(ledger.customers) == ["C1"]
    assert cache.get("JANE@example.com") == "C1"  # published by the claim the next booking took


def test_a_create_retried_after_a_reschedule_is_found_and_moved_not_made_twice(stack: ProvisionedStack) -> None:
    """The invoice was written, the process died before the record was, and the appointment was rescheduled
    before the retry: the retry finds the invoice as it was written (the intent kept its date) and then moves it."""
    ledger = MemoryLedger(crash_after="create_invoice", finds_by_date=True)  # as QuickBooks finds invoices
    booked = replace(BOOKING, payments=())
    with pytest.raises(Crash):
        sync_once(stack, ledger, booked)
    moved = replace(booked, service_date=date(2026, 12, 10), description="Massage, moved")
    record = sync_once(stack, ledger, moved)
    (invoice,) = ledger.invoices.values()
    assert invoice.txn_date == date(2026, 12, 10)  # updated to the new date after it was found
    assert record.invoice is not None
    assert (record.invoice.txn_date, record.invoice.memo) == (date(2026, 12, 10), "Massage, moved")
    assert ledger.calls.count("create_invoice") == 1
