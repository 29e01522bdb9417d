"""Apply against the table (moto): intents before writes, record and audit together, and a crash after any
ledger write resolved on the next run without a second document."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import boto3
import pytest

from acuity_sync.domain.billable import Billable, Client, ReceivedPayment
from acuity_sync.domain.documents import TaxMode
from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.domain.record import SyncRecord
from acuity_sync.domain.settings import Mode
from acuity_sync.store.audit import AuditTrail
from acuity_sync.store.records import RecordConflict, RecordKey, RecordStore
from acuity_sync.sync.apply import Applier, Context
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
    assert record.version == 8  # four steps, each an intent and a commit
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
    assert store_of(stack).load(KEY).pending is not None  # the intent survived the crash
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


def test_a_returning_client_costs_no_lookup_when_cached(stack: ProvisionedStack) -> None:
    class Cache:
        def __init__(self) -> None:
            self.ids: dict[str, str] = {}

        def get(self, email: str) -> str | None:
            return self.ids.get(email.lower())

        def put(self, email: str, customer_id: str) -> None:
            self.ids[email.lower()] = customer_id

    cache, ledger = Cache(), MemoryLedger()
    store = store_of(stack)
    for object_id in (1, 2):
        key = replace(KEY, object_id=object_id)
        billable = replace(BOOKING, source_id=object_id)
        applier = Applier(ledger, store, key, TaxMode.NON_TAXABLE, Context("webhook", "r"), customers=cache)
        applier.apply(plan(billable, RULES, ledger.company(), SyncRecord()), billable, SyncRecord())
    assert len(ledger.customers) == 1
    assert ledger.calls.count("find_customer") == 1
