"""The steps a plan is made of: each one write to the ledger (or a lookup that may become one). The engine plans
them (sync/plan.py), saves the one in progress as the sync record's intent (store/codec.py) and applies them
(sync/apply.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from acuity_sync.domain.billable import ReceivedPayment
from acuity_sync.domain.documents import InvoiceLine


@dataclass(frozen=True, slots=True)
class EnsureCustomer:
    pass


@dataclass(frozen=True, slots=True)
class CreateInvoice:
    lines: tuple[InvoiceLine, ...]
    number: str | None
    # What was sent, filled in as the intent is saved (sync/apply.py): after a crash, the invoice is looked up and
    # recorded as it was written, not as the appointment is now (it may have been rescheduled meanwhile).
    txn_date: date | None = None
    customer_id: str | None = None
    memo: str | None = None
    approved: bool = False  # created approved (Xero: AUTHORISED) because it is paid or e-mailed at once


@dataclass(frozen=True, slots=True)
class UpdateInvoice:
    lines: tuple[InvoiceLine, ...]


@dataclass(frozen=True, slots=True)
class ApproveInvoice:
    pass


@dataclass(frozen=True, slots=True)
class SendInvoice:
    email: str


@dataclass(frozen=True, slots=True)
class VoidInvoice:
    pass


@dataclass(frozen=True, slots=True)
class RecordPayment:
    payment: ReceivedPayment
    amount: Decimal  # what is applied: up to the invoice's balance


@dataclass(frozen=True, slots=True)
class IssueCreditNote:
    reference: str
    amount: Decimal
    reason: str


Step = (
    EnsureCustomer
    | CreateInvoice
    | UpdateInvoice
    | ApproveInvoice
    | SendInvoice
    | VoidInvoice
    | RecordPayment
    | IssueCreditNote
)
