"""A ledger in memory that implements the ledger interface, with find-by-reference, for the apply tests; it
can crash right after a chosen write, as a killed process would (the write is in, its answer is lost)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from acuity_sync.domain.documents import (
    Choice,
    CompanyInfo,
    CreditNoteDraft,
    CustomerDraft,
    InvoiceDraft,
    InvoiceStatus,
    LedgerCreditNote,
    LedgerInvoice,
    LedgerPayment,
    PaymentDraft,
    TaxMode,
)
from acuity_sync.domain.errors import LedgerError
from acuity_sync.domain.names import LedgerName


class Crash(BaseException):
    """The process died after the ledger write: nothing after it runs (BaseException: no handler catches it)."""


@dataclass
class MemoryLedger:
    name: LedgerName = LedgerName.QUICKBOOKS
    info: CompanyInfo = field(
        default_factory=lambda: CompanyInfo("Studio", "USD", TaxMode.NON_TAXABLE, can_edit_paid_invoices=True)
    )
    customers: dict[str, CustomerDraft] = field(default_factory=dict)
    invoices: dict[str, LedgerInvoice] = field(default_factory=dict)
    references: dict[str, str] = field(default_factory=dict)  # our reference -> invoice id
    payments: dict[str, LedgerPayment] = field(default_factory=dict)
    credit_notes: dict[str, LedgerCreditNote] = field(default_factory=dict)
    emails: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    known: list[LedgerInvoice | None] = field(default_factory=list)  # what the engine said it knew, per write
    crash_after: str | None = None  # the name of the write after which to crash, once
    finds_by_date: bool = False  # find_invoice as QuickBooks can: by our marker on the customer's invoices of a day
    refuse_with: LedgerError | None = None  # raised instead of the next create, once

    def _refuse(self) -> None:
        error, self.refuse_with = self.refuse_with, None
        if error is not None:
            raise error

    def _done(self, call: str) -> None:
        self.calls.append(call)
        if self.crash_after == call:
            self.crash_after = None
            raise Crash(call)

    def company(self) -> CompanyInfo:
        return self.info

    def list_accounts(self) -> list[Choice]:
        return []

    def list_items(self) -> list[Choice]:
        return []

    def find_customer(self, draft: CustomerDraft) -> str | None:
        self.calls.append("find_customer")
        for customer_id, known in self.customers.items():
            if draft.email and known.email and known.email.lower() == draft.email.lower():
                return customer_id
        return None

    def create_customer(self, draft: CustomerDraft) -> str:
        self._refuse()
        customer_id = f"C{len(self.customers) + 1}"
        self.customers[customer_id] = draft
        self._done("create_customer")
        return customer_id

    def find_invoice(self, reference: str, draft: InvoiceDraft | None = None) -> LedgerInvoice | None:
        self.calls.append("find_invoice")
        invoice_id = self.references.get(reference)
        if invoice_id is None:
            return None
        invoice = self.invoices[invoice_id]
        if self.finds_by_date and (
            draft is None or (draft.customer_id, draft.txn_date) != (invoice.customer_id, invoice.txn_date)
        ):
            return None
        return invoice

    def create_invoice(self, draft: InvoiceDraft) -> LedgerInvoice:
        self._refuse()
        invoice_id = f"I{len(self.invoices) + 1}"
        invoice = LedgerInvoice(
            invoice_id,
            draft.number or str(1000 + len(self.invoices)),
            draft.total,
            draft.total,
            InvoiceStatus.OPEN if draft.approved else InvoiceStatus.DRAFT,
            False,
            draft.txn_date,
            draft.customer_id,
        )
        self.invoices[invoice_id] = invoice
        self.references[draft.reference] = invoice_id
        self._done("create_invoice")
        return invoice

    def update_invoice(
        self, invoice_id: str, draft: InvoiceDraft, *, known: LedgerInvoice | None = None
    ) -> LedgerInvoice:
        self.known.append(known)
        paid = self.invoices[invoice_id].total - self.invoices[invoice_id].balance
        invoice = replace(
            self.invoices[invoice_id], total=draft.total, balance=draft.total - paid, txn_date=draft.txn_date
        )
        self.invoices[invoice_id] = invoice
        self._done("update_invoice")
        return invoice

    def approve_invoice(self, invoice_id: str) -> LedgerInvoice:
        self.invoices[invoice_id] = replace(self.invoices[invoice_id], status=InvoiceStatus.OPEN)
        self._done("approve_invoice")
        return self.invoices[invoice_id]

    def send_invoice(self, invoice_id: str, email: str, *, known: LedgerInvoice | None = None) -> LedgerInvoice:
        self.known.append(known)
        if not self.invoices[invoice_id].emailed:
            self.emails.append(email)
        self.invoices[invoice_id] = replace(self.invoices[invoice_id], emailed=True, status=InvoiceStatus.OPEN)
        self._done("send_invoice")
        return self.invoices[invoice_id]

    def void_invoice(self, invoice_id: str, *, known: LedgerInvoice | None = None) -> LedgerInvoice:
        self.known.append(known)
        zero = Decimal("0.00")
        self.invoices[invoice_id] = replace(
            self.invoices[invoice_id], status=InvoiceStatus.VOIDED, total=zero, balance=zero
        )
        self._done("void_invoice")
        return self.invoices[invoice_id]

    def find_payment(self, invoice_id: str, reference: str) -> LedgerPayment | None:
        self.calls.append("find_payment")
        return next(
            (p for p in self.payments.values() if p.invoice_id == invoice_id and p.reference == reference), None
        )

    def record_payment(self, draft: PaymentDraft) -> LedgerPayment:
        payment = LedgerPayment(f"P{len(self.payments) + 1}", draft.invoice_id, draft.amount, draft.reference)
        self.payments[payment.id] = payment
        invoice = self.invoices[draft.invoice_id]
        self.invoices[draft.invoice_id] = replace(invoice, balance=invoice.balance - draft.amount)
        self._done("record_payment")
        return payment

    def find_credit_note(self, reference: str) -> LedgerCreditNote | None:
        self.calls.append("find_credit_note")
        return self.credit_notes.get(reference)

    def create_credit_note(self, draft: CreditNoteDraft) -> LedgerCreditNote:
        note = LedgerCreditNote(f"N{len(self.credit_notes) + 1}", draft.amount, draft.reference)
        self.credit_notes[draft.reference] = note
        self._done("create_credit_note")
        return note
