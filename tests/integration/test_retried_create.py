"""A create retried after a crash finds what it created, in each ledger (issue 9, item 5): the invoice was
written, the process died before the sync record was, and the appointment was rescheduled before the retry. The
retry looks the invoice up as it was written (the intent kept its date, customer and memo), records it as
written, and the plan then moves it to the new date: one invoice, on the new date. Each adapter runs against its
fake over HTTP; the sync record is in the table (moto)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

import boto3
import httpx
import pytest

from acuity_sync.domain.billable import Billable, Client
from acuity_sync.domain.documents import InvoiceDraft, LedgerInvoice, TaxMode
from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.domain.record import SyncRecord
from acuity_sync.ledgers.base import Ledger
from acuity_sync.ledgers.freshbooks.adapter import FreshBooksLedger
from acuity_sync.ledgers.quickbooks.adapter import QuickBooksLedger
from acuity_sync.ledgers.xero.adapter import XeroLedger, xero_date
from acuity_sync.secret import Secret
from acuity_sync.store.records import RecordKey, RecordStore
from acuity_sync.sync.apply import Applier, Context
from acuity_sync.sync.plan import Rules, plan
from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.freshbooks import FakeFreshBooks
from acuity_sync_toolkit.fakes.quickbooks import FakeQuickBooks
from acuity_sync_toolkit.fakes.xero import FakeXero
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack
from tests.support.memory_ledger import Crash

TENANT = "0123456789abcdef0123456789abcdef"
BOOKED = Billable(
    kind=EventKind.APPOINTMENT,
    source_id=12,
    client=Client("Jane", "Doe", "jane.doe@example.com"),
    service_date=date(2026, 12, 3),
    description="Massage (60 min), Thu Dec 3 2026 3:00pm",
    item_key="7",
    price=Decimal("80.00"),
    currency="USD",
)
MOVED = replace(BOOKED, service_date=date(2026, 12, 10), description="Massage (60 min), Thu Dec 10 2026 3:00pm")


@dataclass
class Books:
    """A ledger adapter at its fake, and the fake's invoices of one appointment (by our marker), as (date, total)."""

    ledger: Ledger
    invoices: Callable[[str], list[tuple[str, Decimal]]]


class CrashAfterCreate:
    """The adapter, but the process dies right after the ledger stored the invoice (its answer is lost)."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def __getattr__(self, name: str) -> object:
        return getattr(self._ledger, name)

    def create_invoice(self, draft: InvoiceDraft) -> LedgerInvoice:
        self._ledger.create_invoice(draft)
        raise Crash("killed after the invoice was written")


@pytest.fixture(params=list(LedgerName))
def books(request: pytest.FixtureRequest) -> Iterator[Books]:
    ledger = LedgerName(request.param)
    with httpx.Client(timeout=10) as http:
        if ledger is LedgerName.QUICKBOOKS:
            with FakeQuickBooks() as qbo:
                qbo.add_company("9130350000000001", country="US", currency="USD")
                token = qbo.issue_tokens("9130350000000001").access_token
                adapter = QuickBooksLedger(
                    http=http, realm_id="9130350000000001", access_token=lambda _r: Secret(token), api_url=qbo.url
                )

                def qbo_invoices(marker: str) -> list[tuple[str, Decimal]]:
                    found = qbo.state("9130350000000001").get("Invoice", [])
                    return [(i["TxnDate"], Decimal(str(i["TotalAmt"]))) for i in found if i["PrivateNote"] == marker]

                yield Books(adapter, qbo_invoices)
        elif ledger is LedgerName.XERO:
            tenant = str(uuid.uuid4())
            with FakeXero(clock=FakeClock(frozen=True), per_minute=1000) as xero:
                xero.add_organisation(tenant, base_currency="USD")
                token = xero.issue_tokens(tenant).access_token
                adapter_x = XeroLedger(
                    http=http, tenant_id=tenant, access_token=lambda _r: Secret(token), api_url=xero.url
                )

                def xero_invoices(marker: str) -> list[tuple[str, Decimal]]:
                    found = [i for i in xero.state(tenant)["Invoices"] if i["Reference"] == marker]
                    return [(xero_date(i["Date"]).isoformat(), Decimal(str(i["Total"]))) for i in found]

                yield Books(adapter_x, xero_invoices)
        else:
            with FakeFreshBooks(clock=FakeClock(frozen=True)) as freshbooks:
                freshbooks.add_business("ABC123", currency="USD")
                token = freshbooks.issue_tokens("ABC123").access_token
                adapter_f = FreshBooksLedger(
                    http=http, account_id="ABC123", access_token=lambda _r: Secret(token), api_url=freshbooks.url
                )

                def freshbooks_invoices(marker: str) -> list[tuple[str, Decimal]]:
                    found = freshbooks.state("ABC123")["invoices"]
                    return [
                        (i["create_date"], Decimal(i["amount"]["amount"])) for i in found if i["po_number"] == marker
                    ]

                yield Books(adapter_f, freshbooks_invoices)


def sync_once(stack: ProvisionedStack, ledger: Ledger, billable: Billable) -> SyncRecord:
    """One run of the sync for one message: load, resolve an interrupted write, plan, apply."""
    store = RecordStore(boto3.client("dynamodb", region_name=stack.region), stack.table_name)
    key = RecordKey(TENANT, ledger.name, EventKind.APPOINTMENT, billable.source_id)
    stored = store.load(key)
    applier = Applier(ledger, store, key, TaxMode.NON_TAXABLE, Context("webhook changed", "req-1"))
    record = applier.resolve(billable, stored.record, stored.pending)
    return applier.apply(plan(billable, Rules(), ledger.company(), record), billable, record)


def test_crash_after_the_create_then_a_reschedule_then_the_retry_makes_one_invoice(
    stack: ProvisionedStack, books: Books
) -> None:
    with pytest.raises(Crash):
        sync_once(stack, CrashAfterCreate(books.ledger), BOOKED)  # type: ignore[arg-type]
    assert books.invoices("acuity:appointment:12") == [("2026-12-03", Decimal("80.00"))]
    record = sync_once(stack, books.ledger, MOVED)
    assert books.invoices("acuity:appointment:12") == [("2026-12-10", Decimal("80.00"))]
    assert record.invoice is not None
    assert record.invoice.txn_date == date(2026, 12, 10)
