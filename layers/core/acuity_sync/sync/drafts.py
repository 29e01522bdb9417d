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
    phone_digits,
)
from acuity_sync.domain.record import SyncRecord
from acuity_sync.domain.settings import CustomerFields
from acuity_sync.domain.steps import IssueCreditNote, RecordPayment
from acuity_sync.sync.plan import customer_details, customer_identity


def customer_draft(billable: Billable, fields: CustomerFields) -> CustomerDraft:
    """First name, last name and e-mail always; phone, notes and intake-form answers as `fields` (the tenant's
    customer_fields) allow; a client with neither e-mail nor a stored phone gets a name of its own (plan.py)."""
    client = billable.client
    details = customer_details(billable, fields)
    identity, _note = customer_identity(billable, fields)
    return CustomerDraft(
        client.first_name,
        client.last_name,
        client.email,
        phone=details.phone,
        notes=details.notes,
        form_answers=details.form_answers,
        name_suffix=identity.name_suffix,
    )


def customer_key(draft: CustomerDraft) -> str | None:
    """What identifies the client among the tenant's customers in one ledger (hashed before it is a table key):
    the e-mail, lower-cased; or, without one, the name and the phone's digits. None for a client kept apart: its
    customer is its booking's own, and that booking's syncs run one at a time (its FIFO group)."""
    if draft.email:
        return draft.email.strip().lower()
    if draft.matches_by_phone:
        name = f"{draft.first_name} {draft.last_name}".strip().lower()
        return f"name-and-phone:{name}:{phone_digits(draft.phone)}"
    return None


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
