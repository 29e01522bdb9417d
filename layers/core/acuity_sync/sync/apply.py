"""Apply: run a plan's steps through a ledger exactly once.

Before each ledger write the step is saved as the record's intent; after it, the record (advanced by what the
ledger answered) and an audit entry are saved together. A crash between the two leaves the intent: the next
run resolves it first by finding the document by our reference (DESIGN.md principle 3) and only then plans
again, so no crash ever makes a second customer, invoice, payment, credit note or e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from acuity_sync.domain.billable import ZERO, Billable
from acuity_sync.domain.documents import InvoiceDraft, InvoiceStatus, LedgerInvoice, TaxMode
from acuity_sync.domain.record import SyncRecord
from acuity_sync.domain.steps import (
    ApproveInvoice,
    CreateInvoice,
    EnsureCustomer,
    IssueCreditNote,
    RecordPayment,
    SendInvoice,
    Step,
    UpdateInvoice,
    VoidInvoice,
)
from acuity_sync.ledgers.base import Ledger
from acuity_sync.store.audit import AuditEntry
from acuity_sync.store.records import RecordKey, RecordStore
from acuity_sync.sync.drafts import credit_note_draft, customer_draft, invoice_draft, payment_draft
from acuity_sync.sync.plan import Plan, money
from acuity_sync.sync.progress import StepResult, advance


class CustomerCache(Protocol):
    """Ledger customer ids by client e-mail, so that a returning client costs no ledger lookup."""

    def get(self, email: str) -> str | None: ...
    def put(self, email: str, customer_id: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Context:
    """Who asked: the webhook (or replay, backfill) that led to this run, for the audit trail."""

    event: str  # e.g. "webhook changed"
    request_id: str


class Applier:
    def __init__(
        self,
        ledger: Ledger,
        store: RecordStore,
        key: RecordKey,
        tax: TaxMode,
        context: Context,
        customers: CustomerCache | None = None,
    ) -> None:
        self._ledger = ledger
        self._store = store
        self._key = key
        self._tax = tax
        self._context = context
        self._customers = customers

    def resolve(self, billable: Billable, record: SyncRecord, pending: Step | None) -> SyncRecord:
        """Settle a write that was started but whose result was never saved."""
        if pending is None:
            return record
        result = self._find(billable, record, pending)
        if result is None:
            detail = f"{describe(pending)}: not found in the ledger after an interruption, so it will be written"
            return self._store.commit(self._key, record, self._entry("intent not written", detail))
        record = advance(record, billable, pending, result)
        detail = f"{describe(pending)}: found in the ledger after an interruption (not written twice)"
        return self._store.commit(self._key, record, self._entry("intent resolved", detail))

    def apply(self, plan: Plan, billable: Billable, record: SyncRecord) -> SyncRecord:
        for step in plan.steps:
            record = self._store.begin(self._key, record, step)
            result = self._write(step, billable, record)
            record = advance(record, billable, step, result)
            record = self._store.commit(self._key, record, self._entry("written", describe(step, result)))
        return record

    # ----------------------------------------------------------------------------------- ledger writes
    def _write(self, step: Step, billable: Billable, record: SyncRecord) -> StepResult:
        ledger = self._ledger
        match step:
            case EnsureCustomer():
                return self._ensure_customer(billable)
            case CreateInvoice(lines=lines, number=number):
                return ledger.create_invoice(invoice_draft(billable, record, lines, number, self._tax))
            case UpdateInvoice(lines=lines):
                draft = invoice_draft(billable, record, lines, None, self._tax)
                return ledger.update_invoice(_invoice_id(record), draft)
            case ApproveInvoice():
                return ledger.approve_invoice(_invoice_id(record))
            case SendInvoice(email=email):
                return ledger.send_invoice(_invoice_id(record), email)
            case VoidInvoice():
                return ledger.void_invoice(_invoice_id(record))
            case RecordPayment():
                return ledger.record_payment(payment_draft(billable, record, step))
            case IssueCreditNote():
                return ledger.create_credit_note(credit_note_draft(billable, record, step, self._tax))
        raise AssertionError(f"unknown step {step!r}")

    def _ensure_customer(self, billable: Billable) -> str:
        email = billable.client.email
        if email and self._customers is not None and (cached := self._customers.get(email)) is not None:
            return cached
        draft = customer_draft(billable)
        customer_id = self._ledger.find_customer(draft) or self._ledger.create_customer(draft)
        if email and self._customers is not None:
            self._customers.put(email, customer_id)
        return customer_id

    # ----------------------------------------------------------------------------------- finding again
    def _find(self, billable: Billable, record: SyncRecord, step: Step) -> StepResult | None:
        ledger = self._ledger
        match step:
            case EnsureCustomer():
                return ledger.find_customer(customer_draft(billable))
            case RecordPayment(payment=payment):
                return ledger.find_payment(_invoice_id(record), payment.transaction_id)
            case IssueCreditNote(reference=reference):
                return ledger.find_credit_note(reference)
            case UpdateInvoice():
                return None  # writing the same lines again is harmless
        invoice = ledger.find_invoice(billable.reference, self._draft_to_find(step, billable, record))
        if invoice is None or not _shows(step, invoice):
            return None
        return invoice

    def _draft_to_find(self, step: Step, billable: Billable, record: SyncRecord) -> InvoiceDraft | None:
        """What the invoice was (or was about to be) written as: some ledgers find it by its customer and date,
        or by its number."""
        if record.customer_id is None:
            return None
        if isinstance(step, CreateInvoice):
            return invoice_draft(billable, record, step.lines, step.number, self._tax)
        if record.invoice is None:
            return None
        written = record.invoice
        draft = invoice_draft(billable, record, written.lines, written.number or None, self._tax)
        return replace(draft, txn_date=written.txn_date)

    def _entry(self, decision: str, detail: str) -> AuditEntry:
        key = self._key
        return AuditEntry(
            tenant_id=key.tenant_id,
            ledger=key.ledger,
            kind=key.kind,
            object_id=key.object_id,
            event=self._context.event,
            decision=decision,
            rule="sync",
            detail=detail,
            request_id=self._context.request_id,
        )


def _invoice_id(record: SyncRecord) -> str:
    assert record.invoice is not None, "an invoice step before the invoice was written"
    return record.invoice.invoice_id


def _shows(step: Step, invoice: LedgerInvoice) -> bool:
    """Whether the ledger's invoice already shows the effect of `step`."""
    match step:
        case CreateInvoice():
            return True
        case SendInvoice():
            return invoice.emailed
        case VoidInvoice():
            return invoice.status in (InvoiceStatus.VOIDED, InvoiceStatus.DELETED)
        case ApproveInvoice():
            return invoice.status is not InvoiceStatus.DRAFT
    return False


def describe(step: Step, result: StepResult | None = None) -> str:
    """A step in words, for the audit trail."""
    number = f" {result.number}" if isinstance(result, LedgerInvoice) else ""
    match step:
        case EnsureCustomer():
            return "customer ready" + (f" ({result})" if isinstance(result, str) else "")
        case CreateInvoice(lines=lines):
            return f"invoice{number} created for {money(sum((line.amount for line in lines), ZERO))}"
        case UpdateInvoice(lines=lines):
            return f"invoice{number} updated to {money(sum((line.amount for line in lines), ZERO))}"
        case ApproveInvoice():
            return f"invoice{number} approved"
        case SendInvoice():
            return f"invoice{number} e-mailed to the client"
        case VoidInvoice():
            return f"invoice{number} voided"
        case RecordPayment(payment=payment, amount=amount):
            return f"payment of {money(amount)} recorded (Acuity transaction {payment.transaction_id})"
        case IssueCreditNote(amount=amount, reason=reason):
            return f"credit note of {money(amount)} issued: {reason}"
    raise AssertionError(f"unknown step {step!r}")
