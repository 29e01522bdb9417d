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
    payments_need_approved_invoice: bool = False  # Xero pays only AUTHORISED invoices
    can_edit_paid_invoices: bool = False


@dataclass(frozen=True, slots=True)
class CustomerDraft:
    first_name: str
    last_name: str
    email: str | None
    phone: str = ""
    notes: str = ""

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or (self.email or "Acuity client")

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
