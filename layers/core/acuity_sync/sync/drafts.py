"""From the plan's steps to the ledger interface's drafts: what exactly is sent for one step (pure)."""

from __future__ import annotations

from acuity_sync.domain.billable import Billable
from acuity_sync.domain.documents import (
    CreditNoteDraft,
    CustomerDraft,
    InvoiceDraft,
    InvoiceLine,
    PaymentDraft,
    TaxMode,
)
from acuity_sync.domain.record import SyncRecord
from acuity_sync.domain.steps import IssueCreditNote, RecordPayment


def customer_draft(billable: Billable) -> CustomerDraft:
    client = billable.client
    return CustomerDraft(client.first_name, client.last_name, client.email, client.phone, client.notes)


def invoice_draft(
    billable: Billable, record: SyncRecord, lines: tuple[InvoiceLine, ...], number: str | None, tax: TaxMode
) -> InvoiceDraft:
    assert record.customer_id is not None, "the customer step comes first"
    return InvoiceDraft(
        reference=billable.reference,
        customer_id=record.customer_id,
        txn_date=billable.service_date,
        lines=lines,
        currency=billable.currency,
        number=number,
        bill_email=billable.client.email,
        memo=billable.description,
        tax=tax,
    )


def payment_draft(billable: Billable, record: SyncRecord, step: RecordPayment) -> PaymentDraft:
    assert record.customer_id is not None
    assert record.invoice is not None
    return PaymentDraft(
        reference=step.payment.transaction_id,
        invoice_id=record.invoice.invoice_id,
        customer_id=record.customer_id,
        amount=step.amount,
        paid_on=step.payment.paid_on,
        currency=billable.currency,
    )


def credit_note_draft(billable: Billable, record: SyncRecord, step: IssueCreditNote, tax: TaxMode) -> CreditNoteDraft:
    assert record.customer_id is not None
    assert record.invoice is not None
    return CreditNoteDraft(
        reference=step.reference,
        invoice_id=record.invoice.invoice_id,
        customer_id=record.customer_id,
        amount=step.amount,
        reason=step.reason,
        issued_on=billable.service_date,
        currency=billable.currency,
        tax=tax,
    )
