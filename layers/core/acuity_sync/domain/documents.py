"""The documents the engine and a ledger exchange, in neither's JSON: customers, invoices, payments and credit
notes, drafted by the engine and answered by the ledger. Money is Decimal, always tax-inclusive as Acuity states
it; the adapter applies the tenant's tax mode (DESIGN.md principle 4)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum


class TaxMode(StrEnum):
    """How Acuity's tax-inclusive prices reach the ledger (DESIGN.md principle 4)."""

    INCLUSIVE = "inclusive"  # the ledger splits the tax out of the price; the total stays Acuity's price
    NON_TAXABLE = "non_taxable"  # lines carry no tax (US QuickBooks automated sales tax, FreshBooks)
    LEDGER_DEFAULT = "ledger_default"  # the ledger's own tax rules


class LineKind(StrEnum):
    SERVICE = "service"
    TIP = "tip"


@dataclass(frozen=True, slots=True)
class CompanyInfo:
    name: str
    home_currency: str
    default_tax: TaxMode
    can_email_invoices: bool = True
    payments_need_approved_invoice: bool = False  # Xero pays (and e-mails) only AUTHORISED invoices
    can_edit_paid_invoices: bool = False


def phone_digits(phone: str) -> str:
    """A phone number as its digits alone, so that "(555) 010-0100" and "555-010-0100" are the same number."""
    return "".join(character for character in phone if character.isdigit())


@dataclass(frozen=True, slots=True)
class CustomerDraft:
    """What goes to the ledger's customer: only the fields the tenant's settings let through (sync/drafts.py)."""

    first_name: str
    last_name: str
    email: str | None
    phone: str = ""
    notes: str = ""
    form_answers: tuple[tuple[str, str], ...] = field(default=())  # intake-form (question, answer) pairs
    # Said after the name, so that a client with neither e-mail nor phone is never merged with another client of
    # the same name (sync/plan.py, rule no_email_customer_kept_apart): e.g. "Acuity appointment 1000123".
    name_suffix: str = ""

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip() or (self.email or "Acuity client")
        return f"{name} ({self.name_suffix})" if self.name_suffix else name

    @property
    def matches_by_phone(self) -> bool:
        """Without an e-mail, a customer is the same client only with the same name and phone."""
        return not self.email and bool(phone_digits(self.phone))

    def same_phone(self, other: str) -> bool:
        return bool(phone_digits(self.phone)) and phone_digits(self.phone) == phone_digits(other)

    def details_text(self) -> str:
        """The notes and intake-form answers as one text, for a ledger that keeps one note per customer."""
        parts = [self.notes.strip()] if self.notes.strip() else []
        if self.form_answers:
            answers = "\n".join(f"{question}: {answer}" for question, answer in self.form_answers)
            parts.append(f"Intake form answers:\n{answers}")
        return "\n\n".join(parts)

    def display_names(self, tries: int = 9) -> Iterator[str]:
        """The name, then "Name (2)", "Name (3)"...: for ledgers whose customer names must be unique."""
        yield self.display_name
        for number in range(2, tries + 1):
            yield f"{self.display_name} ({number})"


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    description: str
    amount: Decimal
    kind: LineKind = LineKind.SERVICE
    item_key: str = ""  # the appointment type id (QuickBooks maps it to a service item), or "order"


@dataclass(frozen=True, slots=True)
class InvoiceDraft:
    reference: str  # our marker: finds the invoice again after a crash (DESIGN.md principle 3)
    customer_id: str
    txn_date: date
    lines: tuple[InvoiceLine, ...]
    currency: str
    number: str | None = None  # None: the ledger numbers it
    bill_email: str | None = None
    memo: str = ""
    tax: TaxMode = TaxMode.NON_TAXABLE
    # Created approved where the ledger has a status for it (Xero's AUTHORISED): the plan asks for it when the
    # invoice is paid or e-mailed at once, which that ledger does only for approved invoices.
    approved: bool = False

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"  # approved / authorised / sent, balance due
    PAID = "paid"
    VOIDED = "voided"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class LedgerInvoice:
    id: str
    number: str
    total: Decimal
    balance: Decimal
    status: InvoiceStatus
    emailed: bool
    txn_date: date
    customer_id: str
    # The ledger's version of the document as it answered (QuickBooks' SyncToken); "" where the ledger has none.
    version: str = ""


@dataclass(frozen=True, slots=True)
class PaymentDraft:
    reference: str  # Acuity's transactionID: one ledger payment per Acuity payment
    invoice_id: str
    customer_id: str
    amount: Decimal
    paid_on: date
    currency: str


@dataclass(frozen=True, slots=True)
class LedgerPayment:
    id: str
    invoice_id: str
    amount: Decimal
    reference: str


@dataclass(frozen=True, slots=True)
class CreditNoteDraft:
    reference: str  # our marker for this credit note
    invoice_id: str
    customer_id: str
    amount: Decimal
    reason: str
    issued_on: date
    currency: str
    tax: TaxMode = TaxMode.NON_TAXABLE


@dataclass(frozen=True, slots=True)
class LedgerCreditNote:
    id: str
    amount: Decimal
    reference: str


@dataclass(frozen=True, slots=True)
class Choice:
    """An account or item a tenant can pick in its settings."""

    id: str
    name: str
    kind: str
    code: str = ""
    extra: dict[str, str] = field(default_factory=dict)
