"""The sync record: what we last wrote to one ledger for one appointment or order. The plan is the difference
between what Acuity says now and this record; after each write the record says what was written."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from acuity_sync.domain.billable import ZERO
from acuity_sync.domain.documents import InvoiceLine, LineKind


@dataclass(frozen=True, slots=True)
class WrittenInvoice:
    invoice_id: str
    number: str
    txn_date: date
    memo: str
    lines: tuple[InvoiceLine, ...]
    emailed: bool = False
    approved: bool = False
    voided: bool = False
    # The ledger's version as our last write left it (QuickBooks' SyncToken), so that the next write need not read
    # it first; "" when unknown (a payment changed the invoice since, or the ledger keeps none).
    ledger_version: str = ""

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def service_total(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.kind is LineKind.SERVICE), ZERO)


@dataclass(frozen=True, slots=True)
class WrittenPayment:
    transaction_id: str
    payment_id: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class WrittenCreditNote:
    reference: str
    credit_note_id: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class SyncRecord:
    customer_id: str | None = None
    invoice: WrittenInvoice | None = None
    payments: tuple[WrittenPayment, ...] = field(default=())
    credit_notes: tuple[WrittenCreditNote, ...] = field(default=())
    version: int = 0

    @property
    def paid_total(self) -> Decimal:
        return sum((payment.amount for payment in self.payments), ZERO)

    @property
    def credited_total(self) -> Decimal:
        return sum((note.amount for note in self.credit_notes), ZERO)

    def payment_for(self, transaction_id: str) -> WrittenPayment | None:
        return next((payment for payment in self.payments if payment.transaction_id == transaction_id), None)

    def with_invoice(self, invoice: WrittenInvoice) -> SyncRecord:
        return replace(self, invoice=invoice)
