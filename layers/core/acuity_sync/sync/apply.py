"""Apply: run a plan's steps through a ledger exactly once.

Before each ledger write the step is saved as the record's intent; after it, the record (advanced by what the
ledger answered) and an audit entry are saved together. A crash between the two leaves the intent: the next
run resolves it first by finding the document by our reference (DESIGN.md principle 3) and only then plans
again, so no crash ever makes a second customer, invoice, payment, credit note or e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from acuity_sync.domain.billable import ZERO, Billable
from acuity_sync.domain.documents import InvoiceDraft, InvoiceStatus, LedgerInvoice, TaxMode
from acuity_sync.domain.record import SyncRecord
from acuity_sync.domain.settings import CustomerFields
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
from acuity_sync.ledgers.registry import ledger_declaration
from acuity_sync.store.audit import AuditEntry
from acuity_sync.store.records import RecordKey, RecordStore
from acuity_sync.sync.customers import OneCustomer
from acuity_sync.sync.drafts import credit_note_draft, customer_draft, customer_key, invoice_draft, payment_draft
from acuity_sync.sync.plan import Plan, money
from acuity_sync.sync.progress import StepResult, advance


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
        customers: OneCustomer | None = None,
        fields: CustomerFields | None = None,
    ) -> None:
        self._ledger = ledger
        self._store = store
        self._key = key
        self._tax = tax
        self._context = context
        self._customers = customers  # one customer per client across concurrent syncs, and returning clients cached
        self._fields = fields or CustomerFields()  # the tenant's customer_fields

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
        carried: list[tuple[AuditEntry, datetime]] = []
        for index, planned in enumerate(plan.steps):
            step = self._as_sent(planned, billable, record)
            last = index == len(plan.steps) - 1
            if isinstance(step, EnsureCustomer) and not last:
                # No intent for the customer step: it finds the client by e-mail (or name and phone) before it
                # creates one, under the claim of store/customers.py, so running it again after a crash finds what
                # it made, exactly as resolving an intent would. Its id is saved with the next step's intent, and
                # its audit entry with that step's commit (two requests and their write units saved).
                result = self._write(step, billable, record)
                record = advance(record, billable, step, result)
                carried.append((self._entry("written", describe(step, result)), datetime.now(UTC)))
                continue
            record = self._store.begin(self._key, record, step)
            result = self._write(step, billable, record)
            record = advance(record, billable, step, result)
            entry = self._entry("written", describe(step, result))
            # The tenant's "last sync" is the message's last step (one item less in the others' transactions).
            record = self._store.commit(self._key, record, entry, last_sync=last, earlier=carried)
            carried = []
        return record

    def _as_sent(self, step: Step, billable: Billable, record: SyncRecord) -> Step:
        """The step with what will be sent for it, so that the intent saved before the write says it: a create
        keeps its date, customer and memo (found and recorded as written after a crash, whatever Acuity says by
        then)."""
        if isinstance(step, CreateInvoice) and record.customer_id is not None:
            draft = invoice_draft(billable, record, step.lines, step.number, self._tax)
            return replace(step, txn_date=draft.txn_date, customer_id=draft.customer_id, memo=draft.memo)
        return step

    # ----------------------------------------------------------------------------------- ledger writes
    def _write(self, step: Step, billable: Billable, record: SyncRecord) -> StepResult:
        ledger = self._ledger
        match step:
            case EnsureCustomer():
                return self._ensure_customer(billable)
            case CreateInvoice():
                return ledger.create_invoice(self._create_draft(step, billable, record))
            case UpdateInvoice(lines=lines):
                draft = invoice_draft(billable, record, lines, None, self._tax)
                return ledger.update_invoice(_invoice_id(record), draft, known=known_invoice(record))
            case ApproveInvoice():
                return ledger.approve_invoice(_invoice_id(record))
            case SendInvoice(email=email):
                return ledger.send_invoice(_invoice_id(record), email, known=known_invoice(record))
            case VoidInvoice():
                return ledger.void_invoice(_invoice_id(record), known=known_invoice(record))
            case RecordPayment():
                return ledger.record_payment(payment_draft(billable, record, step))
            case IssueCreditNote():
                return ledger.create_credit_note(credit_note_draft(billable, record, step, self._tax))
        raise AssertionError(f"unknown step {step!r}")

    def _ensure_customer(self, billable: Billable) -> str:
        draft = customer_draft(billable, self._fields)
        key = customer_key(draft)

        def find_or_create() -> str:
            return self._ledger.find_customer(draft) or self._ledger.create_customer(draft)

        if key is None or self._customers is None:
            return find_or_create()
        # A returning client costs one write that fails its condition and answers with the kept id (no read before
        # it, no ledger lookup); a new client's claim is granted at once.
        return self._customers.ensure(key, find_or_create, ledger_declaration(self._ledger.name).display_name)

    # ----------------------------------------------------------------------------------- finding again
    def _find(self, billable: Billable, record: SyncRecord, step: Step) -> StepResult | None:
        ledger = self._ledger
        match step:
            case EnsureCustomer():
                return ledger.find_customer(customer_draft(billable, self._fields))
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
        if isinstance(step, CreateInvoice):
            return self._create_draft(step, billable, record) if record.customer_id or step.customer_id else None
        if record.customer_id is None or record.invoice is None:
            return None
        written = record.invoice
        draft = invoice_draft(billable, record, written.lines, written.number or None, self._tax)
        return replace(draft, txn_date=written.txn_date)

    def _create_draft(self, step: CreateInvoice, billable: Billable, record: SyncRecord) -> InvoiceDraft:
        """The invoice a create sends, or sent: the date, customer and memo its intent kept, when it kept them."""
        if step.customer_id is not None:
            record = replace(record, customer_id=step.customer_id)
        draft = invoice_draft(billable, record, step.lines, step.number, self._tax)
        return replace(
            draft,
            txn_date=step.txn_date if step.txn_date is not None else draft.txn_date,
            memo=step.memo if step.memo is not None else draft.memo,
            approved=step.approved,
        )

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


def known_invoice(record: SyncRecord) -> LedgerInvoice:
    """The invoice as our record says we last left it (its status, whether it was e-mailed, what was paid and
    the ledger's version), so that an adapter writes to it without reading it first. An adapter that finds the
    ledger moved on meanwhile (the owner edits invoices too) reads it when the ledger refuses the write."""
    written = record.invoice
    assert written is not None, "an invoice step before the invoice was written"
    balance = written.total - record.paid_total - record.credited_total
    if written.voided:
        status = InvoiceStatus.VOIDED
    elif not written.approved and not written.emailed:
        status = InvoiceStatus.DRAFT
    else:
        status = InvoiceStatus.PAID if balance <= ZERO and written.total > ZERO else InvoiceStatus.OPEN
    return LedgerInvoice(
        id=written.invoice_id,
        number=written.number,
        total=written.total,
        balance=balance,
        status=status,
        emailed=written.emailed,
        txn_date=written.txn_date,
        customer_id=record.customer_id or "",
        version=written.ledger_version,
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
