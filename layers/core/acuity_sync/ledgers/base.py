"""The ledger interface: one shape for QuickBooks Online, Xero and FreshBooks. The engine speaks only this;
each adapter (ledgers/quickbooks.py, ...) translates the domain's documents (domain/documents.py) to its app's
JSON and maps its faults to the domain's errors (domain/errors.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from acuity_sync.domain.documents import (
    Choice,
    CompanyInfo,
    CreditNoteDraft,
    CustomerDraft,
    InvoiceDraft,
    LedgerCreditNote,
    LedgerInvoice,
    LedgerPayment,
    PaymentDraft,
)
from acuity_sync.domain.names import LedgerName
from acuity_sync.secret import Secret

# What an adapter is given to make its calls with (ledgers/transport.py uses both).
Pace = Callable[[], None]  # called before each request: waits for the tenant's budget, or raises RateLimited
AccessToken = Callable[[bool], Secret]  # the connection's access token; True asks for a fresh one (a 401)


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
