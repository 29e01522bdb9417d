"""QuickBooks Online behind the ledger interface (../shared/research/quickbooks.md).

Every call sends `minorversion=75`; every write sends a `requestid` that hashes its exact payload, so that QBO
answers a retried write with the first answer instead of writing twice. Our marker goes into `PrivateNote`
(not queryable: invoices are found again by CustomerRef + TxnDate and the marker, or by DocNumber when a number
template is set); payments carry it in their note and are found through the invoice's `LinkedTxn`; credit memos
get a DocNumber derived from their reference. Faults map to the ledger interface's errors, a throttling
answer even when it comes as XML. The `intuit_tid` of each answer is logged, with e-mails redacted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import httpx

from acuity_sync.domain.documents import (
    Choice,
    CompanyInfo,
    CreditNoteDraft,
    CustomerDraft,
    InvoiceDraft,
    InvoiceLine,
    InvoiceStatus,
    LedgerCreditNote,
    LedgerInvoice,
    LedgerPayment,
    PaymentDraft,
    TaxMode,
)
from acuity_sync.domain.errors import RateLimited, Rejected
from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.base import AccessToken, Pace
from acuity_sync.ledgers.jsonmoney import money, to_decimal
from acuity_sync.ledgers.quickbooks.options import DISPLAY_NAME
from acuity_sync.ledgers.transport import LedgerTransport, json_document, payload_key, raise_for_server_error
from acuity_sync.observability import redact

MINOR_VERSION = "75"
THROTTLE_WAIT_SECONDS = 60.0  # "If you see this, wait 60 seconds before retrying the request."
DEFAULT_ITEM_ID = "1"  # the "Services" item every QBO company starts with
NAME_CLASH = "6240"  # Duplicate Name Exists Error
STALE_OBJECT = "5010"  # Stale Object Error: re-read the SyncToken and try again
PAYMENT_MARK = "acuity-payment:"
NOTES_LIMIT = 2000  # a customer's Notes


def quote(value: str) -> str:
    """A string literal of QBO's query language: single quotes, escaped with a backslash."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def has_marker(note: str, reference: str) -> bool:
    """Whether our marker is in a PrivateNote as a whole word: "acuity:appointment:12" is not in a note that says
    "acuity:appointment:123" (QuickBooks keeps the note when it voids, after "Voided - ")."""
    return reference in note.split()


def _phones(customer: Mapping[str, Any]) -> list[str]:
    return [str((customer.get(field) or {}).get("FreeFormNumber") or "") for field in ("PrimaryPhone", "Mobile")]


def credit_memo_number(reference: str) -> str:
    """A DocNumber (21 characters at most) that finds our credit memo again."""
    return "CN-" + hashlib.sha256(reference.encode()).hexdigest()[:16]


class QuickBooksLedger:
    name = LedgerName.QUICKBOOKS

    def __init__(
        self,
        *,
        http: httpx.Client,
        realm_id: str,
        access_token: AccessToken,
        api_url: str,
        item_for: Callable[[str], str | None] = lambda _key: None,
        tax_code_id: str | None = None,
        pace: Pace = lambda: None,
    ) -> None:
        self._transport = LedgerTransport(
            ledger=self.name,
            app_name=DISPLAY_NAME,
            http=http,
            access_token=access_token,
            pace=pace,
            trace_header="intuit_tid",  # Intuit support asks for it
        )
        self._realm_id = realm_id
        self._base = f"{api_url.rstrip('/')}/v3/company/{realm_id}"
        self._item_for = item_for
        self._tax_code_id = tax_code_id

    # ------------------------------------------------------------------------------------------- company
    def company(self) -> CompanyInfo:
        info = self._get(f"companyinfo/{self._realm_id}")["CompanyInfo"]
        preferences = self._get("preferences")["Preferences"]
        currency = preferences.get("CurrencyPrefs", {}).get("HomeCurrency", {}).get("value", "")
        country = info.get("Country", "")
        return CompanyInfo(
            name=info.get("CompanyName", ""),
            home_currency=currency or ("USD" if country == "US" else ""),
            # US companies compute sales tax themselves (automated sales tax): Acuity's amounts go in as
            # non-taxable lines. Elsewhere lines are tax-inclusive (DESIGN.md principle 4).
            default_tax=TaxMode.NON_TAXABLE if country == "US" else TaxMode.INCLUSIVE,
            can_edit_paid_invoices=True,
        )

    def list_accounts(self) -> list[Choice]:
        accounts = self._query("SELECT * FROM Account MAXRESULTS 1000").get("Account", [])
        return [Choice(a["Id"], a.get("Name", ""), a.get("AccountType", ""), a.get("AcctNum", "")) for a in accounts]

    def list_items(self) -> list[Choice]:
        items = self._query("SELECT * FROM Item WHERE Type = 'Service' MAXRESULTS 1000").get("Item", [])
        return [Choice(item["Id"], item.get("Name", ""), item.get("Type", "")) for item in items]

    def list_tax_codes(self) -> list[Choice]:
        """Active tax codes with a numeric id (the ones `quickbooks.tax_code_id` takes; a US company's automated
        sales tax has only its TAX/NON pseudo-codes, so none)."""
        codes = self._query("SELECT * FROM TaxCode WHERE Active = true MAXRESULTS 1000").get("TaxCode", [])
        return [
            Choice(code["Id"], code.get("Name", ""), "TaxCode", extra={"description": code.get("Description", "")})
            for code in codes
            if str(code.get("Id", "")).isdigit()
        ]

    # ------------------------------------------------------------------------------------------- customers
    def find_customer(self, draft: CustomerDraft) -> str | None:
        """By e-mail; without one, never by name alone: by DisplayName (or a numbered variant of it, as
        create_customer makes them) and the same phone number, or, for a client kept apart, by its own name."""
        if draft.email:
            where = f"PrimaryEmailAddr = {quote(draft.email)}"
        else:
            where = f"DisplayName LIKE {quote(draft.display_name + '%')}"
        found = self._query(f"SELECT * FROM Customer WHERE {where} AND Active IN (true, false)").get("Customer", [])
        names = set(draft.display_names())
        for customer in sorted(found, key=lambda c: not c.get("Active", True)):
            email = customer.get("PrimaryEmailAddr", {}).get("Address", "")
            if draft.email:
                if email.lower() == draft.email.lower():
                    return str(customer["Id"])
                continue
            if customer.get("DisplayName") not in names:
                continue
            if draft.name_suffix or any(draft.same_phone(phone) for phone in _phones(customer)):
                return str(customer["Id"])
        return None

    def create_customer(self, draft: CustomerDraft) -> str:
        """DisplayName is unique across customers, vendors and employees (6240): add a number until it is free.
        The phone goes to PrimaryPhone; the notes and intake-form answers, when the settings let them through,
        to the customer's Notes (QuickBooks keeps at most 2,000 characters there)."""
        body: dict[str, Any] = {"GivenName": draft.first_name, "FamilyName": draft.last_name}
        if draft.email:
            body["PrimaryEmailAddr"] = {"Address": draft.email}
        if draft.phone:
            body["PrimaryPhone"] = {"FreeFormNumber": draft.phone}
        if details := draft.details_text():
            body["Notes"] = details[:NOTES_LIMIT]
        for name in draft.display_names():
            body["DisplayName"] = name
            try:
                return str(self._post("customer", body)["Customer"]["Id"])
            except Rejected as error:
                if error.code != NAME_CLASH:
                    raise
        raise Rejected(
            NAME_CLASH, f"the name {draft.display_name!r} and its numbered variants are all taken in QuickBooks"
        )

    # ------------------------------------------------------------------------------------------- invoices
    def find_invoice(self, reference: str, draft: InvoiceDraft | None = None) -> LedgerInvoice | None:
        if draft is None:
            return None
        if draft.number:
            where = f"DocNumber = {quote(draft.number)}"
        else:
            where = f"CustomerRef = {quote(draft.customer_id)} AND TxnDate = {quote(draft.txn_date.isoformat())}"
        for invoice in self._query(f"SELECT * FROM Invoice WHERE {where}").get("Invoice", []):
            if has_marker(invoice.get("PrivateNote", ""), reference):
                return self._invoice(invoice)
        return None

    def create_invoice(self, draft: InvoiceDraft) -> LedgerInvoice:
        body = self._invoice_body(draft)
        invoice = self._invoice(self._post("invoice", body)["Invoice"])
        if draft.tax is not TaxMode.LEDGER_DEFAULT and invoice.total != draft.total:
            raise Rejected(
                "total_mismatch",
                f"QuickBooks made invoice {invoice.number} total {invoice.total}, not Acuity's {draft.total}: "
                "check the service item's tax settings",
            )
        return invoice

    def update_invoice(
        self, invoice_id: str, draft: InvoiceDraft, *, known: LedgerInvoice | None = None
    ) -> LedgerInvoice:
        changes = {
            "TxnDate": draft.txn_date.isoformat(),
            "CustomerMemo": {"value": draft.memo[:1000]},
            "Line": self._lines(draft.lines, draft.tax),
        }
        token = known.version if known is not None else ""
        return self._invoice(self._sparse_update("invoice", "Invoice", invoice_id, changes, token))

    def approve_invoice(self, invoice_id: str) -> LedgerInvoice:
        return self._invoice(self._get(f"invoice/{invoice_id}")["Invoice"])  # QBO invoices need no approval

    def send_invoice(self, invoice_id: str, email: str, *, known: LedgerInvoice | None = None) -> LedgerInvoice:
        """QuickBooks never e-mails on create, and `send` takes no SyncToken: with `known` (not e-mailed, as our
        record says) it is one call; without, the invoice is read first to see whether it was sent."""
        if known is None:
            current = self._get(f"invoice/{invoice_id}")["Invoice"]
            if current.get("EmailStatus") == "EmailSent":
                return self._invoice(current)
        elif known.emailed:
            return known
        sent = self._post(
            f"invoice/{invoice_id}/send", None, params={"sendTo": email}, content_type="application/octet-stream"
        )
        return self._invoice(sent["Invoice"])

    def void_invoice(self, invoice_id: str, *, known: LedgerInvoice | None = None) -> LedgerInvoice:
        token = known.version if known is not None else ""
        voided = self._with_sync_token("invoice", "Invoice", invoice_id, {}, token, params={"operation": "void"})
        return self._invoice(voided)

    # ------------------------------------------------------------------------------------------- payments
    def find_payment(self, invoice_id: str, reference: str) -> LedgerPayment | None:
        invoice = self._get(f"invoice/{invoice_id}")["Invoice"]
        for linked in invoice.get("LinkedTxn", []):
            if linked.get("TxnType") != "Payment":
                continue
            payment = self._get(f"payment/{linked['TxnId']}")["Payment"]
            if payment.get("PrivateNote", "") == PAYMENT_MARK + reference:
                return LedgerPayment(str(payment["Id"]), invoice_id, to_decimal(payment["TotalAmt"]), reference)
        return None

    def record_payment(self, draft: PaymentDraft) -> LedgerPayment:
        body = {
            "TotalAmt": money(draft.amount),
            "CustomerRef": {"value": draft.customer_id},
            "TxnDate": draft.paid_on.isoformat(),
            "PaymentRefNum": draft.reference[:21],
            "PrivateNote": PAYMENT_MARK + draft.reference,
            "Line": [{"Amount": money(draft.amount), "LinkedTxn": [{"TxnId": draft.invoice_id, "TxnType": "Invoice"}]}],
        }
        payment = self._post("payment", body)["Payment"]
        return LedgerPayment(str(payment["Id"]), draft.invoice_id, to_decimal(payment["TotalAmt"]), draft.reference)

    def find_credit_note(self, reference: str) -> LedgerCreditNote | None:
        number = credit_memo_number(reference)
        for memo in self._query(f"SELECT * FROM CreditMemo WHERE DocNumber = {quote(number)}").get("CreditMemo", []):
            return LedgerCreditNote(str(memo["Id"]), to_decimal(memo["TotalAmt"]), reference)
        return None

    def create_credit_note(self, draft: CreditNoteDraft) -> LedgerCreditNote:
        line = InvoiceLine(draft.reason, draft.amount)
        body = {
            "CustomerRef": {"value": draft.customer_id},
            "TxnDate": draft.issued_on.isoformat(),
            "DocNumber": credit_memo_number(draft.reference),
            "PrivateNote": f"{draft.reference} — {draft.reason}"[:4000],
            "Line": self._lines((line,), draft.tax),
        }
        memo = self._post("creditmemo", body)["CreditMemo"]
        return LedgerCreditNote(str(memo["Id"]), to_decimal(memo["TotalAmt"]), draft.reference)

    # ------------------------------------------------------------------------------------------- shapes
    def _invoice_body(self, draft: InvoiceDraft) -> dict[str, Any]:
        body: dict[str, Any] = {
            "CustomerRef": {"value": draft.customer_id},
            "TxnDate": draft.txn_date.isoformat(),
            "PrivateNote": draft.reference,
            "CustomerMemo": {"value": draft.memo[:1000]},
            "Line": self._lines(draft.lines, draft.tax),
        }
        if draft.tax is TaxMode.INCLUSIVE:
            body["GlobalTaxCalculation"] = "TaxInclusive"
        elif draft.tax is TaxMode.NON_TAXABLE:
            body["GlobalTaxCalculation"] = "NotApplicable"
        if draft.number:
            body["DocNumber"] = draft.number
        if draft.bill_email:
            body["BillEmail"] = {"Address": draft.bill_email}
        return body

    def _lines(self, lines: tuple[InvoiceLine, ...], tax: TaxMode) -> list[dict[str, Any]]:
        shaped = []
        for line in lines:
            detail: dict[str, Any] = {
                "ItemRef": {"value": self._item_for(line.item_key) or DEFAULT_ITEM_ID},
                "Qty": 1,
                "UnitPrice": money(line.amount),
            }
            if tax is TaxMode.NON_TAXABLE:
                detail["TaxCodeRef"] = {"value": "NON"}
            elif tax is TaxMode.INCLUSIVE and self._tax_code_id:
                detail["TaxCodeRef"] = {"value": self._tax_code_id}
            shaped.append(
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": money(line.amount),
                    "Description": line.description[:4000],
                    "SalesItemLineDetail": detail,
                }
            )
        return shaped

    def _invoice(self, invoice: Mapping[str, Any]) -> LedgerInvoice:
        total = to_decimal(invoice.get("TotalAmt", 0))
        balance = to_decimal(invoice.get("Balance", 0))
        note = invoice.get("PrivateNote", "")
        if invoice.get("status") == "Deleted":
            status = InvoiceStatus.DELETED
        elif note.startswith("Voided"):
            status = InvoiceStatus.VOIDED
        elif balance == 0 and total > 0:
            status = InvoiceStatus.PAID
        else:
            status = InvoiceStatus.OPEN
        return LedgerInvoice(
            id=str(invoice["Id"]),
            number=str(invoice.get("DocNumber", "")),
            total=total,
            balance=balance,
            status=status,
            emailed=invoice.get("EmailStatus") == "EmailSent",
            txn_date=date.fromisoformat(invoice["TxnDate"]) if invoice.get("TxnDate") else date.min,
            customer_id=str(invoice.get("CustomerRef", {}).get("value", "")),
            version=str(invoice.get("SyncToken", "")),
        )

    # ------------------------------------------------------------------------------------------- HTTP
    def _sparse_update(
        self, path: str, entity: str, entity_id: str, changes: Mapping[str, Any], token: str = ""
    ) -> dict[str, Any]:
        """A sparse update: with the SyncToken kept from our last write when there is one, else read first."""
        return self._with_sync_token(path, entity, entity_id, {"sparse": True, **changes}, token)

    def _with_sync_token(
        self,
        path: str,
        entity: str,
        entity_id: str,
        changes: Mapping[str, Any],
        token: str,
        *,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """A write that names the entity's SyncToken: the one kept from our last write as it is, else (none kept)
        the one read just before. When QuickBooks says the token is stale (5010: the entity was written since, by
        the owner or a payment), the entity is read for its current token and the write made once more."""
        for attempt in range(2):
            if not token:
                token = str(self._get(f"{path}/{entity_id}")[entity]["SyncToken"])
            body = {"Id": entity_id, "SyncToken": token, **changes}
            try:
                result: dict[str, Any] = self._post(path, body, params=params)[entity]
            except Rejected as error:
                if error.code != STALE_OBJECT or attempt > 0:
                    raise
                token = ""
                continue
            return result
        raise AssertionError("unreachable")

    def _query(self, statement: str) -> dict[str, Any]:
        response: dict[str, Any] = self._request("GET", "query", params={"query": statement})["QueryResponse"]
        return response

    def _get(self, path: str) -> dict[str, Any]:
        return self._request("GET", path)

    def _post(
        self,
        path: str,
        body: Mapping[str, Any] | None,
        *,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        query = {
            **(params or {}),
            "requestid": payload_key("POST", path + json.dumps(params or {}, sort_keys=True), body),
        }
        return self._request("POST", path, params=query, body=body, content_type=content_type)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        query = {"minorversion": MINOR_VERSION, **(params or {})}
        url = f"{self._base}/{path}"
        return self._answer(self._transport.send(method, url, params=query, body=body, content_type=content_type))

    @staticmethod
    def _answer(response: httpx.Response) -> dict[str, Any]:
        status = response.status_code
        if status == 429 or (status == 403 and b"ThrottleExceeded" in response.content):
            raise RateLimited(THROTTLE_WAIT_SECONDS, "QuickBooks asked us to slow down (429)")
        raise_for_server_error(response, DISPLAY_NAME)
        document = json_document(response, DISPLAY_NAME)
        fault = document.get("Fault")
        if status >= 400 or fault:
            errors = (fault or {}).get("Error") or [{}]
            first = errors[0]
            code = str(first.get("code", status))
            words = ": ".join(part for part in (first.get("Message"), first.get("Detail")) if part)
            raise Rejected(code, redact(words or f"QuickBooks answered {status}"))
        return document
