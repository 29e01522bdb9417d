"""A ledger company's books read back through the ledger's own API into one neutral shape, as an accountant would
see them: for `make demo` (each appointment's documents in each ledger, side by side) and the end-to-end
scenarios (one suite, every ledger). The readers know nothing of the engine.

Each reader takes a function that returns an access token (the dev stack's read token, or one the in-process
fake issues, so that moving a fake's clock never leaves a reader with an expired token) and, optionally, one that
lists the invoice ids the ledger e-mailed (one entry per e-mail: what the client's inbox would show). A voided
or deleted invoice counts for nothing in the books: it reads as status "voided", total and balance 0.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

import httpx

from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.registry import ledger_declaration

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
TokenSource = Callable[[], str]
EmailLog = Callable[[], Sequence[str]]


def cents(value: object) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


# ------------------------------------------------------------------------------------------ the neutral shape
@dataclass(frozen=True, slots=True)
class Line:
    description: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    display_name: str
    email: str  # "" when none


@dataclass(frozen=True, slots=True)
class CustomerDetails:
    """What a customer record holds beyond its name and e-mail, where the ledger keeps it."""

    phone: str  # "" when none
    notes: str  # the customer's notes (Xero: its history notes, one per line); "" when none


@dataclass(frozen=True, slots=True)
class Invoice:
    id: str
    customer_id: str
    number: str
    date: str  # YYYY-MM-DD
    total: Decimal
    balance: Decimal
    status: str  # "open" (something due), "paid" (nothing due), "voided" (voided or deleted)
    lines: tuple[Line, ...]
    emailed: bool
    emails_sent: int  # e-mails the ledger sent for it (0 when the reader has no e-mail log)
    reference: str  # our marker, where the adapter put it


@dataclass(frozen=True, slots=True)
class Payment:
    id: str
    customer_id: str
    amount: Decimal
    invoice_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CreditNote:
    id: str
    customer_id: str
    total: Decimal


@dataclass(frozen=True, slots=True)
class Books:
    customers: tuple[Customer, ...] = field(default=())
    invoices: tuple[Invoice, ...] = field(default=())
    payments: tuple[Payment, ...] = field(default=())
    credit_notes: tuple[CreditNote, ...] = field(default=())

    def customers_with_email(self, email: str) -> list[Customer]:
        return [c for c in self.customers if c.email.lower() == email.lower()]

    def customers_named(self, base: str) -> list[Customer]:
        """Customers whose display name is `base`, or `base` with a disambiguating suffix."""
        return [c for c in self.customers if c.display_name == base or c.display_name.startswith(base + " ")]

    def customer(self, customer_id: str) -> Customer | None:
        return next((c for c in self.customers if c.id == customer_id), None)

    def invoices_of(self, customer_id: str) -> list[Invoice]:
        return [i for i in self.invoices if i.customer_id == customer_id]

    def payments_of(self, customer_id: str) -> list[Payment]:
        return [p for p in self.payments if p.customer_id == customer_id]

    def payments_to(self, invoice_id: str) -> list[Payment]:
        return [p for p in self.payments if invoice_id in p.invoice_ids]

    def credit_notes_of(self, customer_id: str) -> list[CreditNote]:
        return [c for c in self.credit_notes if c.customer_id == customer_id]


class LedgerReader(Protocol):
    """Reads one ledger company's books through the ledger's own API."""

    def read(self) -> Books: ...

    def details(self, customer_id: str) -> CustomerDetails: ...

    def close(self) -> None: ...


def _status(total: Decimal, balance: Decimal, voided: bool) -> tuple[str, Decimal, Decimal]:
    if voided:
        return "voided", ZERO, ZERO
    return ("open" if balance > 0 else "paid"), total, balance


def _counts(emails: EmailLog | None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for invoice_id in emails() if emails else ():
        counts[invoice_id] = counts.get(invoice_id, 0) + 1
    return counts


class _Reader:
    """The HTTP part every reader shares: a GET with the current token, waiting out a fault a test planned."""

    ledger_label = ""

    def __init__(self, token: TokenSource, emails: EmailLog | None) -> None:
        self._token = token
        self._emails = emails
        self._http = httpx.Client(timeout=15, trust_env=False)

    def close(self) -> None:
        self._http.close()

    def _get(self, url: str, params: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Any:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # a planned 429 or 5xx, or the ledger's own rate limit, is waited out
            answer = self._http.get(
                url,
                params=params,
                headers={"Authorization": f"Bearer {self._token()}", "Accept": "application/json", **(headers or {})},
            )
            if answer.status_code in (429, 500, 503):
                time.sleep(0.5)
                continue
            answer.raise_for_status()
            return answer.json()
        raise AssertionError(f"{self.ledger_label} kept refusing to answer {url}")


# ------------------------------------------------------------------------------------------ QuickBooks
class QuickBooksBooks(_Reader):
    """QuickBooks Online through its v3 query API."""

    ledger_label = ledger_declaration(LedgerName.QUICKBOOKS).display_name

    def __init__(self, url: str, realm_id: str, token: TokenSource, emails: EmailLog | None = None) -> None:
        super().__init__(token, emails)
        self._base = f"{url.rstrip('/')}/v3/company/{realm_id}"

    PAGE = 1000  # QuickBooks' largest MAXRESULTS

    def _all(self, entity: str) -> list[dict[str, Any]]:
        """Every row, a page of 1,000 at a time (STARTPOSITION counts from 1)."""
        found: list[dict[str, Any]] = []
        while True:
            statement = f"SELECT * FROM {entity} STARTPOSITION {len(found) + 1} MAXRESULTS {self.PAGE}"  # noqa: S608 - fixed entity names, no input
            document = self._get(f"{self._base}/query", {"query": statement, "minorversion": "75"})
            page: list[dict[str, Any]] = document["QueryResponse"].get(entity, [])
            found.extend(page)
            if len(page) < self.PAGE:
                return found

    def read(self) -> Books:
        emails = _counts(self._emails)
        customers = tuple(
            Customer(str(c["Id"]), str(c.get("DisplayName", "")), str(c.get("PrimaryEmailAddr", {}).get("Address", "")))
            for c in self._all("Customer")
        )
        invoices = tuple(self._invoice(i, emails) for i in self._all("Invoice"))
        payments = tuple(
            Payment(
                str(p["Id"]),
                str(p["CustomerRef"]["value"]),
                cents(p["TotalAmt"]),
                tuple(
                    str(linked["TxnId"])
                    for line in p.get("Line", [])
                    for linked in line.get("LinkedTxn", [])
                    if linked.get("TxnType") == "Invoice"
                ),
            )
            for p in self._all("Payment")
        )
        credit_notes = tuple(
            CreditNote(str(m["Id"]), str(m["CustomerRef"]["value"]), cents(m["TotalAmt"]))
            for m in self._all("CreditMemo")
        )
        return Books(customers, invoices, payments, credit_notes)

    def details(self, customer_id: str) -> CustomerDetails:
        customer = self._get(f"{self._base}/customer/{customer_id}", {"minorversion": "75"})["Customer"]
        phone = str((customer.get("PrimaryPhone") or {}).get("FreeFormNumber") or "")
        return CustomerDetails(phone, str(customer.get("Notes") or ""))

    @staticmethod
    def _invoice(invoice: dict[str, Any], emails: dict[str, int]) -> Invoice:
        note = str(invoice.get("PrivateNote", ""))
        # QuickBooks marks a voided invoice in its note and zeroes it.
        status, total, balance = _status(
            cents(invoice["TotalAmt"]), cents(invoice["Balance"]), note.startswith("Voided")
        )
        return Invoice(
            id=str(invoice["Id"]),
            customer_id=str(invoice["CustomerRef"]["value"]),
            number=str(invoice.get("DocNumber", "")),
            date=str(invoice["TxnDate"]),
            total=total,
            balance=balance,
            status=status,
            lines=tuple(
                Line(str(line.get("Description", "")), cents(line["Amount"]))
                for line in invoice.get("Line", [])
                if line.get("DetailType") == "SalesItemLineDetail"
            ),
            emailed=invoice.get("EmailStatus") == "EmailSent",
            emails_sent=emails.get(str(invoice["Id"]), 0),
            reference=note,
        )


# ------------------------------------------------------------------------------------------ Xero
_MS_DATE = re.compile(r"/Date\((-?\d+)")
_XERO_IDS = {"Contacts": "ContactID", "Invoices": "InvoiceID", "Payments": "PaymentID", "CreditNotes": "CreditNoteID"}


def xero_day(value: str) -> str:
    """Xero's JSON dates are `/Date(1765324800000+0000)/`: milliseconds since the epoch, UTC."""
    match = _MS_DATE.match(value)
    if match is None:
        return value[:10]
    return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).date().isoformat()


class XeroBooks(_Reader):
    """A Xero organisation through the Accounting API. Lists are read with `page` so that invoices come with their
    line items (Xero leaves them out of unpaged lists); pages hold 100."""

    ledger_label = ledger_declaration(LedgerName.XERO).display_name

    def __init__(self, url: str, tenant_id: str, token: TokenSource, emails: EmailLog | None = None) -> None:
        super().__init__(token, emails)
        self._base = f"{url.rstrip('/')}/api.xro/2.0"
        self._tenant = {"xero-tenant-id": tenant_id}

    def _all(self, collection: str, where: str = "") -> Iterator[dict[str, Any]]:
        key = _XERO_IDS[collection]
        seen: set[str] = set()
        for page in range(1, 1000):
            params = {"page": str(page), **({"where": where} if where else {})}
            found = self._get(f"{self._base}/{collection}", params, self._tenant)[collection]
            fresh = [item for item in found if item[key] not in seen]
            seen.update(item[key] for item in fresh)
            yield from fresh
            if len(found) < 100 or not fresh:
                return

    def read(self) -> Books:
        emails = _counts(self._emails)
        customers = tuple(
            Customer(str(c["ContactID"]), str(c.get("Name", "")), str(c.get("EmailAddress", "")))
            for c in self._all("Contacts")
        )
        # Deleted invoices (a draft "voided") are listed only when asked for by status.
        listed = [*self._all("Invoices"), *self._all("Invoices", where='Status=="DELETED"')]
        invoices = tuple(self._invoice(i, emails) for i in {i["InvoiceID"]: i for i in listed}.values())
        owner = {invoice.id: invoice.customer_id for invoice in invoices}
        payments = tuple(
            Payment(
                str(p["PaymentID"]),
                owner.get(str(p["Invoice"]["InvoiceID"]), ""),
                cents(p["Amount"]),
                (str(p["Invoice"]["InvoiceID"]),),
            )
            for p in self._all("Payments")
            if p.get("Status") != "DELETED"
        )
        credit_notes = tuple(
            CreditNote(str(c["CreditNoteID"]), str(c["Contact"]["ContactID"]), cents(c["Total"]))
            for c in self._all("CreditNotes")
            if c.get("Status") not in ("VOIDED", "DELETED")
        )
        return Books(customers, invoices, payments, credit_notes)

    def details(self, customer_id: str) -> CustomerDetails:
        (contact,) = self._get(f"{self._base}/Contacts/{customer_id}", None, self._tenant)["Contacts"]
        phones = [str(phone.get("PhoneNumber") or "") for phone in contact.get("Phones") or []]
        history = self._get(f"{self._base}/Contacts/{customer_id}/History", None, self._tenant)["HistoryRecords"]
        notes = "\n".join(str(record.get("Details") or "") for record in history)
        return CustomerDetails(next((phone for phone in phones if phone), ""), notes)

    @staticmethod
    def _invoice(invoice: dict[str, Any], emails: dict[str, int]) -> Invoice:
        voided = invoice.get("Status") in ("VOIDED", "DELETED")
        status, total, balance = _status(cents(invoice["Total"]), cents(invoice["AmountDue"]), voided)
        return Invoice(
            id=str(invoice["InvoiceID"]),
            customer_id=str(invoice["Contact"]["ContactID"]),
            number=str(invoice.get("InvoiceNumber", "")),
            date=xero_day(str(invoice["Date"])),
            total=total,
            balance=balance,
            status=status,
            lines=tuple(
                Line(str(line.get("Description", "")), cents(line["LineAmount"]))
                for line in invoice.get("LineItems", [])
            ),
            emailed=bool(invoice.get("SentToContact")),
            emails_sent=emails.get(str(invoice["InvoiceID"]), 0),
            reference=str(invoice.get("Reference", "")),
        )


# ------------------------------------------------------------------------------------------ FreshBooks
class FreshBooksBooks(_Reader):
    """A FreshBooks business through the accounting API; deleted invoices (vis_state 1) are listed on request."""

    ledger_label = ledger_declaration(LedgerName.FRESHBOOKS).display_name
    PER_PAGE = 100

    def __init__(self, url: str, account_id: str, token: TokenSource, emails: EmailLog | None = None) -> None:
        super().__init__(token, emails)
        self._base = f"{url.rstrip('/')}/accounting/account/{account_id}"

    def _all(self, path: str, plural: str, **search: str) -> Iterator[dict[str, Any]]:
        page, pages = 1, 1
        while page <= pages:
            params = {"page": str(page), "per_page": str(self.PER_PAGE)}
            params.update({f"search[{key}]": value for key, value in search.items()})
            result = self._get(f"{self._base}/{path}", params)["response"]["result"]
            yield from result[plural]
            page, pages = page + 1, int(result.get("pages", 1))

    def read(self) -> Books:
        emails = _counts(self._emails)
        customers = tuple(
            Customer(str(c["id"]), f"{c.get('fname', '')} {c.get('lname', '')}".strip(), str(c.get("email") or ""))
            for c in self._all("users/clients", "clients")
        )
        listed = [
            *self._all("invoices/invoices", "invoices"),
            *self._all("invoices/invoices", "invoices", vis_state="1"),
        ]
        invoices = tuple(self._invoice(i, emails) for i in listed)
        payments = tuple(
            Payment(str(p["id"]), str(p.get("clientid", "")), cents(p["amount"]["amount"]), (str(p["invoiceid"]),))
            for p in self._all("payments/payments", "payments")
        )
        credit_notes = tuple(
            CreditNote(str(c["id"]), str(c["clientid"]), cents(c["amount"]["amount"]))
            for c in self._all("credit_notes/credit_notes", "credit_notes")
        )
        return Books(customers, invoices, payments, credit_notes)

    def details(self, customer_id: str) -> CustomerDetails:
        client = self._get(f"{self._base}/users/clients/{customer_id}")["response"]["result"]["client"]
        phones = [str(client.get(name) or "") for name in ("mob_phone", "bus_phone", "home_phone")]
        return CustomerDetails(next((phone for phone in phones if phone), ""), str(client.get("note") or ""))

    @staticmethod
    def _invoice(invoice: dict[str, Any], emails: dict[str, int]) -> Invoice:
        total, balance = cents(invoice["amount"]["amount"]), cents(invoice["outstanding"]["amount"])
        status, total, balance = _status(total, balance, invoice.get("vis_state") == 1)
        return Invoice(
            id=str(invoice["id"]),
            customer_id=str(invoice["customerid"]),
            number=str(invoice.get("invoice_number", "")),
            date=str(invoice["create_date"]),
            total=total,
            balance=balance,
            status=status,
            lines=tuple(
                Line(str(line.get("description") or line.get("name") or ""), cents(line["amount"]["amount"]))
                for line in invoice.get("lines", [])
            ),
            emailed=emails.get(str(invoice["id"]), 0) > 0 or invoice.get("v3_status") in ("sent", "viewed"),
            emails_sent=emails.get(str(invoice["id"]), 0),
            reference=str(invoice.get("po_number") or ""),
        )


READERS: dict[LedgerName, type[QuickBooksBooks | XeroBooks | FreshBooksBooks]] = {
    LedgerName.QUICKBOOKS: QuickBooksBooks,
    LedgerName.XERO: XeroBooks,
    LedgerName.FRESHBOOKS: FreshBooksBooks,
}
COMPANY_KEYS = {LedgerName.QUICKBOOKS: "realm_id", LedgerName.XERO: "tenant_id", LedgerName.FRESHBOOKS: "account_id"}


def reader(
    ledger: LedgerName, access: dict[str, str], token: TokenSource | None = None, emails: EmailLog | None = None
) -> LedgerReader:
    """The reader of `ledger` from dev.json's `ledgers` entry (url, company id, access token)."""
    return READERS[ledger](
        access["url"], access[COMPANY_KEYS[ledger]], token or (lambda: access["access_token"]), emails
    )
