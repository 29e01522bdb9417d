"""The ledger interface: one shape for QuickBooks Online, Xero and FreshBooks. The engine speaks only this;
each adapter (ledgers/quickbooks.py, ...) translates it to its app's JSON and maps its faults to the errors
below. Money is Decimal, always tax-inclusive as Acuity states it; the adapter applies the tenant's tax mode."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from acuity_sync.ledgers import LedgerName


# --------------------------------------------------------------------------------------------- errors
class LedgerError(Exception):
    """A ledger call failed; `message` is said to a business owner as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RateLimited(LedgerError):
    def __init__(self, retry_after: float, message: str = "the accounting app asked us to slow down") -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Transient(LedgerError):
    """5xx, a timeout, a dropped connection: the same call may succeed later."""


class AuthExpired(LedgerError):
    """The access token is no longer accepted: refresh it and retry."""


class NeedsReauth(LedgerError):
    """The connection is refused for good (refresh refused, app disconnected): a person must reconnect."""


class Rejected(LedgerError):
    """The ledger refused the request on its merits; `code` and `message` are its own words."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------------------------- shapes
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


# --------------------------------------------------------------------------------------------- interface
class Ledger(Protocol):
    """What the engine needs from an accounting app. Every write is findable again by its reference, so that
    the engine can resolve an intent left by a crash before writing again."""

    name: LedgerName

    def company(self) -> CompanyInfo: ...

    def list_accounts(self) -> list[Choice]: ...

    def list_items(self) -> list[Choice]: ...

    def find_customer(self, draft: CustomerDraft) -> str | None:
        """By e-mail (case-insensitive), or by name and phone when there is no e-mail."""
        ...

    def create_customer(self, draft: CustomerDraft) -> str:
        """A name already taken by another record is resolved (e.g. a suffix), not failed."""
        ...

    def find_invoice(self, reference: str, draft: InvoiceDraft | None = None) -> LedgerInvoice | None: ...

    def create_invoice(self, draft: InvoiceDraft) -> LedgerInvoice: ...

    def update_invoice(self, invoice_id: str, draft: InvoiceDraft) -> LedgerInvoice: ...

    def approve_invoice(self, invoice_id: str) -> LedgerInvoice: ...

    def send_invoice(self, invoice_id: str, email: str) -> LedgerInvoice:
        """Only when the ledger says it was not sent yet: a second call sends nothing."""
        ...

    def void_invoice(self, invoice_id: str) -> LedgerInvoice: ...

    def find_payment(self, invoice_id: str, reference: str) -> LedgerPayment | None: ...

    def record_payment(self, draft: PaymentDraft) -> LedgerPayment: ...

    def find_credit_note(self, reference: str) -> LedgerCreditNote | None: ...

    def create_credit_note(self, draft: CreditNoteDraft) -> LedgerCreditNote: ...
