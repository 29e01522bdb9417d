"""What the sync record keeps of an invoice so that the next write to it needs no read first: its status (created
approved, e-mailed), what was paid, and the ledger's version (QuickBooks' SyncToken), forgotten when a payment
changes the invoice in the ledger; and all of it saved in the table and read back."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from acuity_sync.domain.billable import Billable, Client, ReceivedPayment
from acuity_sync.domain.documents import InvoiceLine, InvoiceStatus, LedgerInvoice, LedgerPayment
from acuity_sync.domain.names import EventKind
from acuity_sync.domain.record import SyncRecord
from acuity_sync.domain.steps import CreateInvoice, RecordPayment, SendInvoice, UpdateInvoice, VoidInvoice
from acuity_sync.store.codec import (
    record_from_document,
    record_to_document,
    step_from_document,
    step_to_document,
)
from acuity_sync.sync.apply import known_invoice
from acuity_sync.sync.progress import advance

BOOKING = Billable(
    kind=EventKind.APPOINTMENT,
    source_id=1001,
    client=Client("Jane", "Doe", "jane@example.com", "555-0100"),
    service_date=date(2026, 12, 3),
    description="Massage",
    item_key="7",
    price=Decimal("80.00"),
    currency="USD",
)
LINES = (InvoiceLine("Massage", Decimal("80.00")),)
PAYMENT = ReceivedPayment("ch_1", Decimal("30.00"), date(2026, 12, 3))


def answer(version: str, *, emailed: bool = False, status: InvoiceStatus = InvoiceStatus.OPEN) -> LedgerInvoice:
    return LedgerInvoice(
        "I1", "1001", Decimal("80.00"), Decimal("80.00"), status, emailed, date(2026, 12, 3), "C1", version
    )


def created(*, approved: bool = False) -> SyncRecord:
    return advance(SyncRecord(customer_id="C1"), BOOKING, CreateInvoice(LINES, None, approved=approved), answer("0"))


def test_each_write_keeps_the_version_the_ledger_answered() -> None:
    record = created()
    assert record.invoice is not None
    assert record.invoice.ledger_version == "0"
    record = advance(record, BOOKING, UpdateInvoice(LINES), answer("1"))
    assert known_invoice(record).version == "1"
    record = advance(record, BOOKING, SendInvoice("jane@example.com"), answer("2", emailed=True))
    assert (known_invoice(record).version, known_invoice(record).emailed) == ("2", True)
    record = advance(record, BOOKING, VoidInvoice(), answer("3", status=InvoiceStatus.VOIDED))
    assert (known_invoice(record).version, known_invoice(record).status) == ("3", InvoiceStatus.VOIDED)


def test_a_payment_makes_the_version_unknown_and_lowers_the_known_balance() -> None:
    record = advance(
        created(), BOOKING, RecordPayment(PAYMENT, PAYMENT.amount), LedgerPayment("P1", "I1", PAYMENT.amount, "ch_1")
    )
    known = known_invoice(record)
    assert known.version == ""  # the ledger wrote the invoice when it applied the payment: read before writing
    assert (known.total, known.balance) == (Decimal("80.00"), Decimal("50.00"))


def test_the_status_known_is_the_one_we_left_it_in() -> None:
    assert known_invoice(created()).status is InvoiceStatus.DRAFT
    assert known_invoice(created(approved=True)).status is InvoiceStatus.OPEN
    full = RecordPayment(replace(PAYMENT, amount=Decimal("80.00")), Decimal("80.00"))
    paid = advance(created(approved=True), BOOKING, full, LedgerPayment("P1", "I1", Decimal("80.00"), "ch_1"))
    assert known_invoice(paid).status is InvoiceStatus.PAID


def test_the_table_keeps_the_version_and_the_approved_create() -> None:
    record = created(approved=True)
    again = record_from_document(record_to_document(record), record.version)
    assert again == record
    assert again.invoice is not None
    assert (again.invoice.ledger_version, again.invoice.approved) == ("0", True)
    step = CreateInvoice(LINES, None, approved=True)
    assert step_from_document(step_to_document(step)) == step
    assert "approved" not in step_to_document(CreateInvoice(LINES, None))  # intents saved as before


def test_a_record_saved_before_versions_were_kept_reads_as_unknown() -> None:
    document = record_to_document(created())
    assert document["invoice"] is not None
    del document["invoice"]["ledger_version"]
    old = record_from_document(document, 3)
    assert old.invoice is not None
    assert old.invoice.ledger_version == ""
    assert known_invoice(old).version == ""
