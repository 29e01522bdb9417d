"""Helpers for the end-to-end scenarios (tests/e2e/test_scenarios.py): a ledger's books read back through the
ledger's own API into one neutral shape, so that the same scenarios check QuickBooks now and Xero and FreshBooks
next; waiting for a ledger's queue to drain; changing a tenant's settings for one scenario.

The readers know nothing of the engine: they read what an accountant would see."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import boto3
import httpx

from acuity_sync.ledgers import LedgerName
from acuity_sync.local import demo_run
from acuity_sync.local.devstack import REGION, DevInfo
from acuity_sync.store.settings import SettingsStore
from acuity_sync.sync.settings import parse_settings

CENT = Decimal("0.01")


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
class Invoice:
    id: str
    customer_id: str
    number: str
    date: str  # YYYY-MM-DD
    total: Decimal
    balance: Decimal
    status: str  # "open" (something due), "paid" (nothing due), "voided"
    lines: tuple[Line, ...]
    emailed: bool
    emails_sent: int  # e-mails the ledger sent for it


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

    def invoices_of(self, customer_id: str) -> list[Invoice]:
        return [i for i in self.invoices if i.customer_id == customer_id]

    def payments_of(self, customer_id: str) -> list[Payment]:
        return [p for p in self.payments if p.customer_id == customer_id]

    def credit_notes_of(self, customer_id: str) -> list[CreditNote]:
        return [c for c in self.credit_notes if c.customer_id == customer_id]


class LedgerReader(Protocol):
    """Reads one ledger company's books through the ledger's own API."""

    def read(self) -> Books: ...

    def close(self) -> None: ...


# ------------------------------------------------------------------------------------------ QuickBooks
LIST_QUERIES = {
    entity: f"SELECT * FROM {entity} MAXRESULTS 1000"  # noqa: S608 - fixed entity names, no input
    for entity in ("Customer", "Invoice", "Payment", "CreditMemo")
}


class QuickBooksReader:
    """QuickBooks Online through its v3 API, with a grant of its own (the fake's admin route issues one, so that
    moving the fake's clock never leaves the reader with an expired token)."""

    def __init__(self, url: str, realm_id: str) -> None:
        self._url = url.rstrip("/")
        self._realm = realm_id
        self._http = httpx.Client(timeout=15, trust_env=False)

    def close(self) -> None:
        self._http.close()

    def _token(self) -> str:
        answer = self._http.post(f"{self._url}/_admin/companies/{self._realm}/tokens")
        answer.raise_for_status()
        token: str = answer.json()["access_token"]
        return token

    def _query(self, token: str, entity: str) -> list[dict[str, Any]]:
        for _ in range(20):  # a fault a scenario planned may still be pending: 429s are waited out
            answer = self._http.get(
                f"{self._url}/v3/company/{self._realm}/query",
                params={"query": LIST_QUERIES[entity], "minorversion": "75"},
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            )
            if answer.status_code in (429, 500, 503):
                time.sleep(0.2)
                continue
            answer.raise_for_status()
            found: list[dict[str, Any]] = answer.json()["QueryResponse"].get(entity, [])
            return found
        raise AssertionError(f"QuickBooks kept refusing to list {entity}")

    def emails(self) -> dict[str, int]:
        """E-mails the fake QuickBooks sent, by invoice id (what the client's inbox would show)."""
        answer = self._http.get(f"{self._url}/_admin/companies/{self._realm}/state")
        answer.raise_for_status()
        counts: dict[str, int] = {}
        for email in answer.json()["emails"]:
            counts[str(email["invoice_id"])] = counts.get(str(email["invoice_id"]), 0) + 1
        return counts

    def read(self) -> Books:
        token = self._token()
        emails = self.emails()
        customers = tuple(
            Customer(
                str(c["Id"]),
                str(c.get("DisplayName", "")),
                str(c.get("PrimaryEmailAddr", {}).get("Address", "")),
            )
            for c in self._query(token, "Customer")
        )
        invoices = tuple(self._invoice(i, emails) for i in self._query(token, "Invoice"))
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
            for p in self._query(token, "Payment")
        )
        credit_notes = tuple(
            CreditNote(str(m["Id"]), str(m["CustomerRef"]["value"]), cents(m["TotalAmt"]))
            for m in self._query(token, "CreditMemo")
        )
        return Books(customers, invoices, payments, credit_notes)

    @staticmethod
    def _invoice(invoice: dict[str, Any], emails: dict[str, int]) -> Invoice:
        total, balance = cents(invoice["TotalAmt"]), cents(invoice["Balance"])
        if str(invoice.get("PrivateNote", "")).startswith("Voided"):  # how QuickBooks marks a voided invoice
            status = "voided"
        else:
            status = "open" if balance > 0 else "paid"
        lines = tuple(
            Line(str(line.get("Description", "")), cents(line["Amount"]))
            for line in invoice.get("Line", [])
            if line.get("DetailType") == "SalesItemLineDetail"
        )
        return Invoice(
            id=str(invoice["Id"]),
            customer_id=str(invoice["CustomerRef"]["value"]),
            number=str(invoice.get("DocNumber", "")),
            date=str(invoice["TxnDate"]),
            total=total,
            balance=balance,
            status=status,
            lines=lines,
            emailed=invoice.get("EmailStatus") == "EmailSent",
            emails_sent=emails.get(str(invoice["Id"]), 0),
        )


def reader_for(info: DevInfo, ledger: str) -> LedgerReader:
    """The reader of `ledger` in the running stack (Xero and FreshBooks come with their sync functions)."""
    if ledger == LedgerName.QUICKBOOKS:
        quickbooks = info.ledgers["quickbooks"]
        return QuickBooksReader(quickbooks["url"], quickbooks["realm_id"])
    raise NotImplementedError(f"no reader for {ledger} yet")


# ------------------------------------------------------------------------------------------ the queues
QUEUE_COUNTS: list[Any] = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]


def queue_depth(info: DevInfo, url: str) -> int:
    sqs = boto3.client("sqs", endpoint_url=info.aws_endpoint_url, region_name=REGION)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=QUEUE_COUNTS)["Attributes"]
    return sum(int(attributes[name]) for name in QUEUE_COUNTS)


def wait_until_drained(info: DevInfo, ledger: str, timeout: float = 60.0) -> None:
    """Returns once the ledger's queue shows nothing visible and nothing in flight, twice in a row."""
    if not demo_run.wait_until_drained(info, ledger, timeout):
        raise AssertionError(f"the {ledger} queue did not drain in {timeout:.0f} s")


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


# ------------------------------------------------------------------------------------------ settings
@contextmanager
def changed_settings(info: DevInfo, ledger: str, **changes: Any) -> Iterator[None]:
    """The demo tenant's settings for `ledger` with `changes`, for the duration of the block; then the settings
    as they were (saved again, as the owner would put them back)."""
    store = SettingsStore(
        boto3.client("dynamodb", endpoint_url=info.aws_endpoint_url, region_name=REGION), info.table_name
    )
    tenant, name = info.demo_tenant["id"], LedgerName(ledger)
    before = store.get(tenant, name)
    original = before.settings.model_dump(mode="json")
    version = store.put(tenant, name, parse_settings(name, {**original, **changes}), before.version)
    try:
        yield
    finally:
        store.put(tenant, name, parse_settings(name, original), version)
