"""A ledger in memory for the plan's tests: it keeps the documents a plan writes, so that tests can count
them and check their amounts. The engine's own code (plan, advance) is what is under test, not this."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from acuity_sync.domain.billable import ZERO, Billable
from acuity_sync.domain.documents import (
    InvoiceLine,
    InvoiceStatus,
    LedgerCreditNote,
    LedgerInvoice,
    LedgerPayment,
    LineKind,
)
from acuity_sync.domain.record import SyncRecord
from acuity_sync.domain.steps import (
    ApproveInvoice,
    CreateInvoice,
    EnsureCustomer,
    IssueCreditNote,
    RecordPayment,
    SendInvoice,
    UpdateInvoice,
    VoidInvoice,
)
from acuity_sync.sync.plan import Plan
from acuity_sync.sync.progress import StepResult, advance

ANSWER_DATE = date(2026, 1, 1)  # the plan never reads the ledger's own date back


@dataclass
class Invoice:
    id: str
    lines: tuple[InvoiceLine, ...]
    voided: bool = False
    emails: int = 0
    approved: bool = False

    @property
    def total(self) -> Decimal:
        return ZERO if self.voided else sum((line.amount for line in self.lines), ZERO)

    @property
    def service_total(self) -> Decimal:
        if self.voided:
            return ZERO
        return sum((line.amount for line in self.lines if line.kind is LineKind.SERVICE), ZERO)


@dataclass
class SimulatedLedger:
    customers: list[str] = field(default_factory=list)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    payments: dict[str, Decimal] = field(default_factory=dict)  # by Acuity transaction id
    payment_writes: int = 0
    credit_notes: dict[str, Decimal] = field(default_factory=dict)

    def apply(self, plan: Plan, billable: Billable, record: SyncRecord) -> SyncRecord:
        for step in plan.steps:
            record = advance(record, billable, step, self._write(step, record))
        return record

    def _write(self, step: object, record: SyncRecord) -> StepResult:
        match step:
            case EnsureCustomer():
                self.customers.append(f"C{len(self.customers) + 1}")
                return self.customers[-1]
            case CreateInvoice(lines=lines, approved=approved):
                invoice = Invoice(f"I{len(self.invoices) + 1}", lines, approved=approved)
                self.invoices[invoice.id] = invoice
                return self._answer(invoice)
            case UpdateInvoice(lines=lines):
                invoice = self._invoice(record)
                invoice.lines = lines
                return self._answer(invoice)
            case ApproveInvoice():
                invoice = self._invoice(record)
                invoice.approved = True
                return self._answer(invoice)
            case SendInvoice():
                invoice = self._invoice(record)
                invoice.emails += 1
                return self._answer(invoice)
            case VoidInvoice():
                invoice = self._invoice(record)
                assert not record.payments, "voided an invoice with payments"
                invoice.voided = True
                return self._answer(invoice)
            case RecordPayment(payment=payment, amount=amount):
                self.payment_writes += 1
                self.payments[payment.transaction_id] = self.payments.get(payment.transaction_id, ZERO) + amount
                invoice = self._invoice(record)
                return LedgerPayment(f"P{self.payment_writes}", invoice.id, amount, payment.transaction_id)
            case IssueCreditNote(reference=reference, amount=amount):
                assert reference not in self.credit_notes, "a second credit note with the same reference"
                self.credit_notes[reference] = amount
                return LedgerCreditNote(f"N{len(self.credit_notes)}", amount, reference)
        raise AssertionError(step)

    def _invoice(self, record: SyncRecord) -> Invoice:
        assert record.invoice is not None
        return self.invoices[record.invoice.invoice_id]

    @staticmethod
    def _answer(invoice: Invoice) -> LedgerInvoice:
        status = InvoiceStatus.VOIDED if invoice.voided else InvoiceStatus.OPEN
        return LedgerInvoice(
            invoice.id, invoice.id, invoice.total, invoice.total, status, invoice.emails > 0, ANSWER_DATE, "C1"
        )

    @property
    def live_invoices(self) -> list[Invoice]:
        return [invoice for invoice in self.invoices.values() if not invoice.voided]

    @property
    def net(self) -> Decimal:
        """What the live invoices net to: service lines less credit notes."""
        return sum((invoice.service_total for invoice in self.live_invoices), ZERO) - sum(
            self.credit_notes.values(), ZERO
        )
