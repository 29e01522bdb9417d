"""Xero behind the ledger interface (../shared/research/xero_freshbooks.md, Part A; Xero's OpenAPI spec in
../shared/reference/xero/xero_accounting.yaml).

Xero facts this adapter relies on:
- `{api}/api.xro/2.0`, the organisation in the `xero-tenant-id` header, JSON only with `Accept: application/json`
  (A1). Every PUT/POST carries an `Idempotency-Key` (at most 128 characters, kept 6 minutes; A3) that hashes the
  exact payload, so a retried write is answered with the first answer instead of writing twice.
- A contact's Name is unique among active contacts (A1.1): a taken name becomes "Name (2)", "Name (3)"...
  Contacts are found with `searchTerm`, which the spec documents as case-insensitive over Name, FirstName,
  LastName, ContactNumber and EmailAddress; the e-mail is then compared on our side. Xero answers a page of 100
  contacts at a time (`page`), so every page is read. A contact has no notes field: notes go in its history.
- Sales invoices are `ACCREC`, created `DRAFT` and found again by our marker in `Reference` (A1.2). Lines name
  their account by `AccountID`, so accounts without a Code work. Xero e-mails only approved invoices and pays
  only AUTHORISED ones (A1.4, A1.5), and `PUT /Invoices` takes the status to create with: an invoice paid or
  e-mailed at once is created `AUTHORISED`. A draft is `DELETED`, an approved invoice `VOIDED` (A1.3).
- Payments go to a BANK account or one with `EnablePaymentsToAccount` (A1.5, A1.6); our payment reference is the
  payment's `Reference` (which accounts qualify, and the chart kept per container: accounts.py). Credit notes
  are `ACCRECCREDIT`, allocated to the invoice while it has an amount due.
- Limits (A2, limits.py): 60 calls a minute and 5,000 a day per organisation; every answer says what is left
  (`X-MinLimit-Remaining`, `X-DayLimit-Remaining`) and a 429 says which limit (`X-Rate-Limit-Problem`) and for
  how long (`Retry-After`). Once a count is spent, our next call waits instead of spending a request on a 429
  (RateGate).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
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
from acuity_sync.domain.errors import NeedsReauth, RateLimited, Rejected
from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers.base import AccessToken, Pace
from acuity_sync.ledgers.jsonmoney import money, to_decimal
from acuity_sync.ledgers.transport import (
    LedgerTransport,
    json_document,
    payload_key,
    raise_for_server_error,
    retry_after,
)
from acuity_sync.ledgers.xero.accounts import (
    AccountCharts,
    account_problems,
    default_invoice_account,
    default_payment_account,
)
from acuity_sync.ledgers.xero.limits import MINUTE, RateGate
from acuity_sync.ledgers.xero.options import DISPLAY_NAME
from acuity_sync.observability import redact

API_PATH = "/api.xro/2.0"
NAME_TAKEN = "already assigned to another contact"  # "...The contact name must be unique across all active contacts."
ACCOUNT_NOT_ALLOWED = "account_not_allowed"
LINE_AMOUNT_TYPES = {TaxMode.INCLUSIVE: "Inclusive", TaxMode.NON_TAXABLE: "NoTax"}  # otherwise the org's default
STATUSES = {
    "DRAFT": InvoiceStatus.DRAFT,
    "SUBMITTED": InvoiceStatus.DRAFT,  # awaiting approval
    "AUTHORISED": InvoiceStatus.OPEN,
    "PAID": InvoiceStatus.PAID,
    "VOIDED": InvoiceStatus.VOIDED,
    "DELETED": InvoiceStatus.DELETED,
}
UNAPPROVED = ("DRAFT", "SUBMITTED")
PAGE_SIZE = 100  # Xero's default page of contacts
MAX_CONTACT_PAGES = 50  # a search term that matches more than 5,000 contacts is not one client's
# A history note's Details: Xero's history-and-notes page limits its length (reported as 2,500 characters;
# UNCONFIRMED here), so longer notes are cut rather than refused.
HISTORY_NOTE_LIMIT = 2500
GONE = ("VOIDED", "DELETED")
_MS_DATE = re.compile(r"/Date\((-?\d+)")


# --------------------------------------------------------------------------------------------- Xero's JSON
def where_equals(field: str, value: str) -> str:
    """One clause of Xero's `where` filter: a C#-like string literal."""
    return field + '=="' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def xero_date(value: Any) -> date:
    """A date as Xero answers it: MS-JSON `/Date(1796256000000+0000)/` (midnight UTC) or `2026-12-03T00:00:00`."""
    text = str(value or "")
    match = _MS_DATE.match(text)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).date()
    return date.fromisoformat(text[:10]) if text else date.min


def _messages(document: Mapping[str, Any]) -> str:
    """The ValidationErrors of a ValidationException, else the problem's own words."""
    found: list[str] = []
    for element in document.get("Elements") or []:
        for error in element.get("ValidationErrors") or []:
            if error.get("Message") and error["Message"] not in found:
                found.append(str(error["Message"]))
    return "; ".join(found) or str(document.get("Detail") or document.get("Message") or document.get("Title") or "")


# --------------------------------------------------------------------------------------------- the adapter
class XeroLedger:
    name = LedgerName.XERO

    def __init__(
        self,
        *,
        http: httpx.Client,
        tenant_id: str,
        access_token: AccessToken,
        api_url: str,
        invoice_account_id: str | None = None,
        payment_account_id: str | None = None,
        tax_type: str | None = None,
        pace: Pace = lambda: None,
        charts: AccountCharts | None = None,
    ) -> None:
        self._transport = LedgerTransport(
            ledger=self.name,
            app_name=DISPLAY_NAME,
            http=http,
            access_token=access_token,
            pace=pace,
            trace_header="Xero-Correlation-Id",  # Xero support asks for it
        )
        self._tenant_id = tenant_id
        self._base = f"{api_url.rstrip('/')}{API_PATH}"
        self._invoice_account_id = invoice_account_id
        self._payment_account_id = payment_account_id
        self._tax_type = tax_type
        self._charts = charts or AccountCharts()
        self._chart: list[Choice] | None = self._charts.get(tenant_id)
        self._gate = RateGate()

    # ------------------------------------------------------------------------------------------- company
    def company(self) -> CompanyInfo:
        organisation = self._get("/Organisation")["Organisations"][0]
        return CompanyInfo(
            name=str(organisation.get("Name", "")),
            home_currency=str(organisation.get("BaseCurrency", "")),
            default_tax=TaxMode.INCLUSIVE,
            can_email_invoices=True,  # POST /Invoices/{id}/Email
            payments_need_approved_invoice=True,
            can_edit_paid_invoices=False,
        )

    def list_accounts(self) -> list[Choice]:
        if self._chart is None:
            self._chart = [
                Choice(
                    id=str(account["AccountID"]),
                    name=str(account.get("Name", "")),
                    kind=str(account.get("Type", "")),
                    code=str(account.get("Code") or ""),
                    extra={
                        "payments_enabled": "true" if account.get("EnablePaymentsToAccount") else "false",
                        "status": str(account.get("Status", "")),
                    },
                )
                for account in self._get("/Accounts")["Accounts"]
            ]
            self._charts.put(self._tenant_id, self._chart)
        return list(self._chart)

    def list_items(self) -> list[Choice]:
        return []  # lines name an account, not an item; the fake Xero has no GET /Items to test one against

    def list_tax_rates(self) -> list[Choice]:
        """The organisation's active sales tax rates (`GET /TaxRates`): a Choice per TaxType, its rate as `code`."""
        rates = self._get("/TaxRates")["TaxRates"]
        return [
            Choice(
                id=str(rate["TaxType"]),
                name=str(rate.get("Name", "")),
                kind="TaxRate",
                code=str(rate.get("EffectiveRate", rate.get("DisplayTaxRate", ""))),
            )
            for rate in rates
            if rate.get("Status", "ACTIVE") == "ACTIVE" and rate.get("CanApplyToRevenue", True) and rate.get("TaxType")
        ]

    # ------------------------------------------------------------------------------------------- contacts
    def find_customer(self, draft: CustomerDraft) -> str | None:
        """By e-mail; without one, never by name alone: the same Name (or a numbered variant, as create_customer
        makes them) and the same phone number, or, for a client kept apart, its own Name. Every page of the search
        is read: Xero answers a page of at most PAGE_SIZE contacts, also when no page is asked for."""
        names = set(draft.display_names())
        for contact in self._search_contacts(draft.email or draft.display_name):
            if draft.email:
                if str(contact.get("EmailAddress") or "").lower() == draft.email.lower():
                    return str(contact["ContactID"])
            elif contact.get("Name") in names and (
                draft.name_suffix or any(draft.same_phone(phone) for phone in _phones(contact))
            ):
                return str(contact["ContactID"])
        return None

    def create_customer(self, draft: CustomerDraft) -> str:
        """The phone as a MOBILE phone. Xero's contacts have no notes field: the notes and intake-form answers,
        when the settings let them through, are a note in the contact's history (PUT /Contacts/{id}/History),
        which Xero shows under the contact's "History and notes"."""
        body: dict[str, Any] = {"FirstName": draft.first_name[:255], "LastName": draft.last_name[:255]}
        body = {key: value for key, value in body.items() if value}
        if draft.email:
            body["EmailAddress"] = draft.email
        if draft.phone:
            body["Phones"] = [{"PhoneType": "MOBILE", "PhoneNumber": draft.phone}]
        for name in draft.display_names():
            try:
                created = self._write("PUT", "/Contacts", {"Contacts": [{"Name": name[:255], **body}]})
            except Rejected as error:
                if NAME_TAKEN not in error.message:
                    raise
                continue
            contact_id = str(created["Contacts"][0]["ContactID"])
            if details := draft.details_text():
                note = {"HistoryRecords": [{"Details": details[:HISTORY_NOTE_LIMIT]}]}
                self._write("PUT", f"/Contacts/{contact_id}/History", note)
            return contact_id
        raise Rejected("name_taken", f"the name {draft.display_name!r} and its numbered variants are all taken in Xero")

    def _search_contacts(self, term: str) -> Iterator[dict[str, Any]]:
        for page in range(1, MAX_CONTACT_PAGES + 1):
            answer = self._get("/Contacts", {"searchTerm": term, "page": str(page), "pageSize": str(PAGE_SIZE)})
            contacts: list[dict[str, Any]] = answer.get("Contacts") or []
            yield from contacts
            page_count = (answer.get("pagination") or {}).get("pageCount")
            if len(contacts) < PAGE_SIZE or (isinstance(page_count, int) and page >= page_count):
                return

    # ------------------------------------------------------------------------------------------- invoices
    def find_invoice(self, reference: str, draft: InvoiceDraft | None = None) -> LedgerInvoice | None:  # noqa: ARG002
        found = self._get("/Invoices", {"where": where_equals("Reference", reference)})["Invoices"]
        ours = [i for i in found if i.get("Reference") == reference and i.get("Type") == "ACCREC"]
        ours.sort(key=lambda invoice: invoice.get("Status") == "DELETED")  # a live one first
        return self._invoice(ours[0]) if ours else None

    def create_invoice(self, draft: InvoiceDraft) -> LedgerInvoice:
        body: dict[str, Any] = {
            "Type": "ACCREC",
            "Contact": {"ContactID": draft.customer_id},  # only the id: other fields would edit the contact
            # PUT /Invoices takes the status to create with: one paid or e-mailed at once is approved in the same
            # call (Xero pays and e-mails only approved invoices), any other stays a draft.
            "Status": "AUTHORISED" if draft.approved else "DRAFT",
            "Reference": draft.reference,
            **self._invoice_content(draft),
        }
        if draft.currency:
            body["CurrencyCode"] = draft.currency
        if draft.number:
            body["InvoiceNumber"] = draft.number
        invoice = self._invoice(self._write_lines("PUT", "/Invoices", {"Invoices": [body]})["Invoices"][0])
        if draft.tax is not TaxMode.LEDGER_DEFAULT and invoice.total != draft.total:
            raise Rejected(
                "total_mismatch",
                f"Xero made invoice {invoice.number} total {invoice.total}, not Acuity's {draft.total}: "
                "check the tax rate of the invoice account",
            )
        return invoice

    def update_invoice(
        self,
        invoice_id: str,
        draft: InvoiceDraft,
        *,
        known: LedgerInvoice | None = None,  # noqa: ARG002 - Xero asks for no version
    ) -> LedgerInvoice:
        # A fresh key for each update: Xero keeps a key 6 minutes, so an update back to content sent minutes ago
        # (a reschedule undone) would be answered from that store and not written. Writing an update twice is
        # harmless; missing one is not.
        body = {"Invoices": [{"InvoiceID": invoice_id, **self._invoice_content(draft)}]}
        answer = self._write_lines("POST", f"/Invoices/{invoice_id}", body, uuid.uuid4().hex)
        return self._invoice(answer["Invoices"][0])

    def approve_invoice(self, invoice_id: str) -> LedgerInvoice:
        try:
            return self._invoice(self._set_status(invoice_id, "AUTHORISED"))
        except Rejected:
            current = self._invoice(self._get_invoice(invoice_id))
            if current.status in (InvoiceStatus.OPEN, InvoiceStatus.PAID):
                return current  # approved already (e.g. by the owner, or paid since)
            raise

    def send_invoice(
        self,
        invoice_id: str,
        email: str,  # noqa: ARG002 - Xero e-mails the contact's own address
        *,
        known: LedgerInvoice | None = None,
    ) -> LedgerInvoice:
        """Xero e-mails the contact's own address, with the organisation's template; a draft is approved first,
        as Xero e-mails only approved invoices. With `known` (our record: its status, not e-mailed) nothing is
        read: an approved invoice is one call (`Email`); without, the invoice is read first."""
        if known is not None:
            if known.emailed:
                return known
            if known.status is InvoiceStatus.DRAFT:
                known = replace(known, status=self.approve_invoice(invoice_id).status)
            self._write("POST", f"/Invoices/{invoice_id}/Email", {})
            return replace(known, emailed=True)
        current = self._get_invoice(invoice_id)
        if current.get("SentToContact"):
            return self._invoice(current)
        if current.get("Status") in UNAPPROVED:
            current = self._set_status(invoice_id, "AUTHORISED")
        self._write("POST", f"/Invoices/{invoice_id}/Email", {})
        return replace(self._invoice(current), emailed=True)

    def void_invoice(self, invoice_id: str, *, known: LedgerInvoice | None = None) -> LedgerInvoice:
        """Xero deletes drafts and voids approved invoices; a paid one is refused in Xero's words. With `known`
        the status is chosen from our record and written at once; only when Xero refuses it (the invoice changed
        meanwhile: approved or voided by the owner) is it read, and the status chosen again from what it is."""
        tried: tuple[str, Rejected] | None = None
        if known is not None and known.status is not InvoiceStatus.VOIDED:
            status = "DELETED" if known.status is InvoiceStatus.DRAFT else "VOIDED"
            try:
                return self._invoice(self._set_status(invoice_id, status))
            except Rejected as refused:
                tried = (status, refused)  # read below, and decide from what Xero says now
        current = self._get_invoice(invoice_id)
        if current.get("Status") in GONE:
            return self._invoice(current)
        status = "DELETED" if current.get("Status") in UNAPPROVED else "VOIDED"
        if tried is not None and tried[0] == status:
            raise tried[1]  # e.g. paid meanwhile: refused again would say the same
        return self._invoice(self._set_status(invoice_id, status))

    # ------------------------------------------------------------------------------------------- payments
    def find_payment(self, invoice_id: str, reference: str) -> LedgerPayment | None:
        for payment in self._get("/Payments", {"where": where_equals("Reference", reference)})["Payments"]:
            paid_to = payment.get("Invoice", {}).get("InvoiceID")
            if payment.get("Reference") == reference and paid_to == invoice_id and payment.get("Status") != "DELETED":
                return LedgerPayment(str(payment["PaymentID"]), invoice_id, to_decimal(payment["Amount"]), reference)
        return None

    def record_payment(self, draft: PaymentDraft) -> LedgerPayment:
        body = {
            "Payments": [
                {
                    "Invoice": {"InvoiceID": draft.invoice_id},
                    "Account": {"AccountID": self._payment_account()},
                    "Date": draft.paid_on.isoformat(),
                    "Amount": money(draft.amount),
                    "Reference": draft.reference,
                }
            ]
        }
        try:
            payment = self._write("PUT", "/Payments", body)["Payments"][0]
        except Rejected as refused:
            self._explain_account(refused, payment=True)
            # Xero pays only approved invoices. The engine approves drafts before paying them in draft mode; in
            # send mode an invoice that was not e-mailed (no address) is still a draft: approve it, then pay.
            if self._get_invoice(draft.invoice_id).get("Status") not in UNAPPROVED:
                raise
            self._set_status(draft.invoice_id, "AUTHORISED")
            payment = self._write("PUT", "/Payments", body, "after approval")["Payments"][0]
        return LedgerPayment(
            str(payment["PaymentID"]), draft.invoice_id, to_decimal(payment["Amount"]), draft.reference
        )

    # ------------------------------------------------------------------------------------------- credit notes
    def find_credit_note(self, reference: str) -> LedgerCreditNote | None:
        for note in self._get("/CreditNotes", {"where": where_equals("Reference", reference)})["CreditNotes"]:
            if note.get("Reference") == reference and note.get("Status") not in GONE:
                return LedgerCreditNote(str(note["CreditNoteID"]), to_decimal(note.get("Total", 0)), reference)
        return None

    def create_credit_note(self, draft: CreditNoteDraft) -> LedgerCreditNote:
        invoice = self._get_invoice(draft.invoice_id)
        body: dict[str, Any] = {
            "Type": "ACCRECCREDIT",
            "Contact": {"ContactID": draft.customer_id},
            "Date": draft.issued_on.isoformat(),
            "Status": "AUTHORISED",  # only an approved credit note can be allocated
            "Reference": draft.reference,
            "LineItems": self._lines((InvoiceLine(draft.reason, draft.amount),), draft.tax),
        }
        if draft.tax in LINE_AMOUNT_TYPES:
            body["LineAmountTypes"] = LINE_AMOUNT_TYPES[draft.tax]
        if draft.currency:
            body["CurrencyCode"] = draft.currency
        note = self._write_lines("PUT", "/CreditNotes", {"CreditNotes": [body]})["CreditNotes"][0]
        total, due = to_decimal(note.get("Total", 0)), to_decimal(invoice.get("AmountDue", 0))
        # Allocated while the invoice has something due; on a paid invoice the credit stays on the contact.
        if invoice.get("Status") == "AUTHORISED" and due > 0:
            allocation = {"Invoice": {"InvoiceID": draft.invoice_id}, "Amount": min(total, due)}
            allocation["Date"] = draft.issued_on.isoformat()
            self._write("PUT", f"/CreditNotes/{note['CreditNoteID']}/Allocations", {"Allocations": [allocation]})
        return LedgerCreditNote(str(note["CreditNoteID"]), total, draft.reference)

    # ------------------------------------------------------------------------------------------- shapes
    def _invoice_content(self, draft: InvoiceDraft) -> dict[str, Any]:
        """What an update may change: date, lines and tax treatment. DueDate is the service date (due on the
        day), as Xero refuses to approve an invoice without one unless the organisation sets payment terms."""
        content: dict[str, Any] = {
            "Date": draft.txn_date.isoformat(),
            "DueDate": draft.txn_date.isoformat(),
            "LineItems": self._lines(draft.lines, draft.tax),
        }
        if draft.tax in LINE_AMOUNT_TYPES:
            content["LineAmountTypes"] = LINE_AMOUNT_TYPES[draft.tax]
        return content

    def _lines(self, lines: Sequence[InvoiceLine], tax: TaxMode) -> list[dict[str, Any]]:
        account_id = self._invoice_account()
        shaped = []
        for line in lines:
            item: dict[str, Any] = {
                "Description": line.description[:4000] or "Appointment",  # Xero requires one on item-less lines
                "Quantity": 1,
                "UnitAmount": money(line.amount),
                "AccountID": account_id,
            }
            if self._tax_type and tax is not TaxMode.NON_TAXABLE:
                item["TaxType"] = self._tax_type
            shaped.append(item)
        return shaped

    @staticmethod
    def _invoice(invoice: Mapping[str, Any]) -> LedgerInvoice:
        total, balance = to_decimal(invoice.get("Total", 0)), to_decimal(invoice.get("AmountDue", 0))
        status = STATUSES.get(str(invoice.get("Status")), InvoiceStatus.DRAFT)
        if status is InvoiceStatus.OPEN and balance <= 0:
            status = InvoiceStatus.PAID  # settled by credit notes, or a zero invoice
        return LedgerInvoice(
            id=str(invoice["InvoiceID"]),
            number=str(invoice.get("InvoiceNumber", "")),
            total=total,
            balance=balance,
            status=status,
            emailed=bool(invoice.get("SentToContact")),
            txn_date=xero_date(invoice.get("DateString") or invoice.get("Date")),
            customer_id=str(invoice.get("Contact", {}).get("ContactID", "")),
        )

    # ------------------------------------------------------------------------------------------- accounts
    def _invoice_account(self) -> str:
        if self._invoice_account_id is None:
            chosen = default_invoice_account(self.list_accounts())
            if chosen is None:
                raise Rejected(ACCOUNT_NOT_ALLOWED, "Xero has no active revenue or sales account for invoice lines")
            self._invoice_account_id = chosen.id
        return self._invoice_account_id

    def _payment_account(self) -> str:
        if self._payment_account_id is None:
            chosen = default_payment_account(self.list_accounts())
            if chosen is None:
                raise Rejected(ACCOUNT_NOT_ALLOWED, "Xero has no active bank account (or one taking payments)")
            self._payment_account_id = chosen.id
        return self._payment_account_id

    def _explain_account(self, refused: Rejected, *, payment: bool) -> None:
        """When Xero refuses a write over its account, say which accounts would do (the chart is read only now:
        a write Xero accepts costs no call to check its account)."""
        if "account" not in refused.message.lower():
            return
        self._chart = None  # a kept chart may be what is out of date
        self._charts.forget(self._tenant_id)
        accounts = self.list_accounts()
        if payment:
            problems = account_problems(None, self._payment_account_id, accounts)
        else:
            problems = account_problems(self._invoice_account_id, None, accounts)
        if problems:
            raise Rejected(ACCOUNT_NOT_ALLOWED, problems[0]) from refused

    # ------------------------------------------------------------------------------------------- HTTP
    def _get_invoice(self, invoice_id: str) -> dict[str, Any]:
        invoice: dict[str, Any] = self._get(f"/Invoices/{invoice_id}")["Invoices"][0]
        return invoice

    def _set_status(self, invoice_id: str, status: str) -> dict[str, Any]:
        body = {"Invoices": [{"InvoiceID": invoice_id, "Status": status}]}
        invoice: dict[str, Any] = self._write("POST", f"/Invoices/{invoice_id}", body)["Invoices"][0]
        return invoice

    def _write_lines(self, method: str, path: str, body: Mapping[str, Any], salt: str = "") -> dict[str, Any]:
        """A write whose lines name the invoice account: a refusal over that account is explained."""
        try:
            return self._write(method, path, body, salt)
        except Rejected as refused:
            self._explain_account(refused, payment=False)
            raise

    def _write(self, method: str, path: str, body: Mapping[str, Any], salt: str = "") -> dict[str, Any]:
        """A PUT or POST whose Idempotency-Key hashes its payload (and `salt`: a write that must not be answered
        as an earlier identical one). The tenant is in the key too: Xero keeps keys per app, and two
        organisations may get the very same body."""
        key = payload_key(method, f"{self._tenant_id} {path} {salt}", body)
        return self._request(method, path, body=body, headers={"Idempotency-Key": key})

    def _get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        return self._request("GET", path, params=params)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        self._gate.check()
        sent_headers = {"xero-tenant-id": self._tenant_id, **(headers or {})}
        response = self._transport.send(method, self._base + path, params=params, body=body, headers=sent_headers)
        self._gate.observe(response)
        return self._answer(response)

    @staticmethod
    def _answer(response: httpx.Response) -> dict[str, Any]:
        status = response.status_code
        if status == 429:
            problem = response.headers.get("X-Rate-Limit-Problem") or "minute"
            wait = retry_after(response, MINUTE)
            raise RateLimited(wait, f"Xero's {problem} limit for this organisation is reached (429)")
        if status == 403:
            raise NeedsReauth("Xero no longer lets us into this organisation; reconnect Xero")
        raise_for_server_error(response, DISPLAY_NAME)
        if not response.content:
            return {}  # 204: e-mailed
        document = json_document(response, DISPLAY_NAME)
        if status == 404:
            raise Rejected("not_found", redact(_messages(document) or "Xero could not find it"))
        if status >= 400:
            code = str(document.get("Type") or status)  # e.g. ValidationException
            raise Rejected(code, redact(_messages(document) or f"Xero answered {status}"))
        return document


def _phones(contact: Mapping[str, Any]) -> set[str]:
    return {str(phone.get("PhoneNumber") or "") for phone in contact.get("Phones") or []}
