"""How the sync record changes when a step has been written: the same function for the engine (after each
ledger write) and for the plan's property tests (which write to a simulated ledger)."""

from __future__ import annotations

from dataclasses import replace

from acuity_sync.domain.billable import Billable
from acuity_sync.domain.documents import LedgerCreditNote, LedgerInvoice, LedgerPayment
from acuity_sync.domain.record import SyncRecord, WrittenCreditNote, WrittenInvoice, WrittenPayment
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

StepResult = str | LedgerInvoice | LedgerPayment | LedgerCreditNote


def advance(record: SyncRecord, billable: Billable, step: Step, result: StepResult) -> SyncRecord:
    """The record once `step` is in the ledger; `result` is what the ledger answered."""
    match step:
        case EnsureCustomer():
            assert isinstance(result, str)
            return replace(record, customer_id=result)
        case CreateInvoice(lines=lines, txn_date=txn_date, memo=memo, approved=approved):
            assert isinstance(result, LedgerInvoice)
            # As it was sent (the intent keeps it): after a crash the appointment may have moved since, and the
            # next plan must see the difference and update the invoice.
            sent_on = txn_date if txn_date is not None else billable.service_date
            sent_memo = memo if memo is not None else billable.description
            invoice = WrittenInvoice(
                result.id, result.number, sent_on, sent_memo, lines, approved=approved, ledger_version=result.version
            )
            return replace(record, invoice=invoice)
        case UpdateInvoice(lines=lines):
            return _with_invoice(
                record,
                lines=lines,
                txn_date=billable.service_date,
                memo=billable.description,
                ledger_version=_version(result),
            )
        case ApproveInvoice():
            return _with_invoice(record, approved=True, ledger_version=_version(result))
        case SendInvoice():
            return _with_invoice(record, emailed=True, approved=True, ledger_version=_version(result))
        case VoidInvoice():
            return _with_invoice(record, voided=True, ledger_version=_version(result))
        case RecordPayment(payment=payment, amount=amount):
            assert isinstance(result, LedgerPayment)
            written = WrittenPayment(payment.transaction_id, result.id, amount)
            # A payment applied to the invoice changes it in the ledger (QuickBooks moves its SyncToken): the
            # version we kept is no longer the invoice's, and the next write to it reads it first.
            return _stale(replace(record, payments=(*record.payments, written)))
        case IssueCreditNote(reference=reference, amount=amount):
            assert isinstance(result, LedgerCreditNote)
            note = WrittenCreditNote(reference, result.id, amount)
            return _stale(replace(record, credit_notes=(*record.credit_notes, note)))  # allocated to the invoice
    raise AssertionError(f"unknown step {step!r}")


def _version(result: StepResult) -> str:
    return result.version if isinstance(result, LedgerInvoice) else ""


def _stale(record: SyncRecord) -> SyncRecord:
    return record if record.invoice is None else _with_invoice(record, ledger_version="")


def _with_invoice(record: SyncRecord, **changes: object) -> SyncRecord:
    assert record.invoice is not None, "a step on an invoice that was never written"
    return replace(record, invoice=replace(record.invoice, **changes))  # type: ignore[arg-type]
