"""FreshBooks behind the ledger interface (../shared/research/xero_freshbooks.md Part B, and the recorded answers in
../shared/reference/freshbooks/fixtures/).

- Accounting calls go to /accounting/account/{account_id}/... (§B1); the account id is read once, at connect time,
  from /auth/api/v1/users/me (`account_id_of`). Bodies are wrapped in the singular name (`{"invoice": {...}}`),
  answers come as `{"response": {"result": {...}}}`; money travels as strings: `{"amount": "80.10", "code": "USD"}`.
- FreshBooks has no idempotency key (§B3): before a write is repeated the engine looks for it by our reference.
  Invoices carry it in `po_number` (REFERENCE_FIELD, searched with `search[po_number]`), payments in `note` (listed
  with `search[invoiceid]`), credit notes in `notes` (listed by client).
- Invoices are created as drafts. Sending is a PUT with `action_email`, made only while the invoice is unsent. A PUT
  carrying `vis_state` or an action silently drops every other field (freshbooks.com/api/active_deleted), so those
  PUTs carry nothing else. There is no void: an unpaid invoice is deleted (`vis_state` 1); a paid one is settled
  by a credit note (sync/plan.py).
- Line taxes are a name and a percentage (`taxName1`, `taxAmount1`) that FreshBooks adds on top of the line. The
  tax-inclusive mode backs the tax out of Acuity's price so that line + tax is that price to the cent.
- Errors: `{"response": {"errors": [{"errno", "field", "message", ...}]}}` (fixtures *_not_found.json); 401 is the
  transport's (a fresh token, once), 403 means reconnect, 429 and 5xx are retried.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
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
    LineKind,
    PaymentDraft,
    TaxMode,
)
from acuity_sync.domain.errors import NeedsReauth, RateLimited, Rejected, Transient
from acuity_sync.domain.names import LedgerName
from acuity_sync.ledgers import jsonmoney
from acuity_sync.ledgers.base import AccessToken, Pace
from acuity_sync.ledgers.freshbooks.options import DISPLAY_NAME
from acuity_sync.ledgers.jsonmoney import money, to_decimal
from acuity_sync.ledgers.transport import LedgerTransport, retry_after
from acuity_sync.observability import redact
from acuity_sync.secret import Secret

ME_PATH = "/auth/api/v1/users/me"
REFERENCE_FIELD = "po_number"  # the invoice field that carries our reference; FreshBooks shows it as "Reference"
# FreshBooks documents no length for po_number and refuses an over-long field (errno 1017 MaxLengthExceeded, §B3).
# Our references fit in 30 characters ("acuity:appointment:" and a 10-digit id is 29); a longer one is stored as a
# hash of it, so that it still fits and is still found again by an exact search.
REFERENCE_LIMIT = 30
PAYMENT_MARK = "acuity-payment:"
CREDIT_MARK = "acuity-credit:"
THROTTLE_WAIT_SECONDS = 60.0  # FreshBooks publishes no limits or wait (§B3): wait as long as QuickBooks asks
PER_PAGE = 100  # "per_page is silently capped at 100" (freshbooks.com/api/parameters)
MAX_PAGES = 20
DELETED = 1  # vis_state: 0 active, 1 deleted, 2 archived
UNSENT = frozenset({"draft", "created"})  # v3_status of an invoice nobody was sent
PAID = frozenset({"paid", "autopaid"})
DRAFT_STATUS, PAID_STATUSES = 1, frozenset({4, 5})  # numeric status: 1 Draft, 4 Paid, 5 Auto Paid
CENT = Decimal("0.01")


def reference_marker(reference: str) -> str:
    """What goes into po_number for `reference`: the reference itself, or a hash of it when it is too long."""
    if len(reference) <= REFERENCE_LIMIT:
        return reference
    return "acuity:" + hashlib.sha256(reference.encode()).hexdigest()[: REFERENCE_LIMIT - len("acuity:")]


@dataclass(frozen=True, slots=True)
class TaxSplit:
    net: Decimal  # the line's unit cost
    tax: Decimal  # what FreshBooks adds: net x rate, rounded half-up to the cent
    rounding: Decimal  # a cent on a line of its own (no tax) when no net gives the price exactly; else 0.00


def split_tax(price: Decimal, percent: Decimal) -> TaxSplit:
    """The net amount and tax that FreshBooks will add up to `price`, with the tax rounded half-up to the cent.
    Prices a cent apart can need nets two cents apart, so some prices have no such net (at 13 %, 100.00 is
    88.49 + 11.50 = 99.99 or 88.50 + 11.51 = 100.01): those get the net below and a one-cent rounding line, so the
    invoice still totals Acuity's price to the cent."""
    rate = percent / 100
    guess = money(price / (1 + rate))
    best: TaxSplit | None = None
    for step in (0, -1, 1, -2, 2, -3, 3):
        net = guess + step * CENT
        tax = (net * rate).quantize(CENT, ROUND_HALF_UP)
        if net < 0 or net + tax > price:
            continue
        split = TaxSplit(net, tax, price - net - tax)
        if split.rounding == 0:
            return split
        if best is None or split.rounding < best.rounding:
            best = split
    if best is None:
        raise Rejected("tax_rounding", f"{price} cannot be split into a net amount and {percent}% tax")
    return best


def account_id_of(http: httpx.Client, access_token: str, api_url: str) -> str:
    """The accounting account id (`business.account_id`) of the user's business, read once at connect time. An
    owner's membership is preferred to another role's."""
    transport = _transport(http, lambda _refreshed: Secret(access_token))
    memberships = _me(transport, api_url).get("business_memberships") or []
    for membership in sorted(memberships, key=lambda m: m.get("role") != "owner"):
        account_id = (membership.get("business") or {}).get("account_id")
        if account_id:
            return str(account_id)
    raise Rejected(
        "no_business",
        "this FreshBooks user belongs to no business with an accounting account: "
        "sign in to FreshBooks as the business owner and connect again",
    )


class FreshBooksLedger:
    name = LedgerName.FRESHBOOKS

    def __init__(
        self,
        *,
        http: httpx.Client,
        account_id: str,
        access_token: AccessToken,
        api_url: str,
        tax_name: str | None = None,
        tax_percent: Decimal | None = None,
        pace: Pace = lambda: None,
    ) -> None:
        self._transport = _transport(http, access_token, pace)
        self._api_url = api_url
        self._account_id = account_id
        self._base = f"{api_url.rstrip('/')}/accounting/account/{account_id}"
        self._tax_name = tax_name
        self._tax_percent = tax_percent

    # ------------------------------------------------------------------------------------------- company
    def company(self) -> CompanyInfo:
        memberships = _me(self._transport, self._api_url).get("business_memberships") or []
        for membership in memberships:
            business = membership.get("business") or {}
            if str(business.get("account_id")) == self._account_id:
                # users/me names the business but not its currency (fixtures/auth_me_response.json). FreshBooks
                # bills each invoice in the currency_code it is given, so no currency is claimed here: "" tells
                # the engine not to refuse a booking on its currency.
                return CompanyInfo(
                    name=str(business.get("name") or ""),
                    home_currency="",
                    default_tax=TaxMode.NON_TAXABLE,  # FreshBooks has no default tax for a line
                    can_email_invoices=True,
                    payments_need_approved_invoice=False,
                    can_edit_paid_invoices=False,
                )
        raise NeedsReauth(f"the connected FreshBooks user no longer belongs to business {self._account_id}")

    def list_accounts(self) -> list[Choice]:
        return []  # a FreshBooks invoice, payment or credit note names no account: there is nothing to choose

    def list_items(self) -> list[Choice]:
        return []  # lines are written with a name and a price; they name no FreshBooks item

    # ------------------------------------------------------------------------------------------- clients
    def find_customer(self, draft: CustomerDraft) -> str | None:
        """`search[email]` matches exactly (§B1.1), so the lower-cased address (how we store it) is tried first,
        then the address as Acuity spells it. Names are not unique in FreshBooks, so without an e-mail a client is
        never found by name alone: it is the one with the same first and last name and the same phone; a client
        kept apart (no phone either) is found only by its own organization name, which names its booking."""
        if draft.email:
            wanted = draft.email.lower()
            for email in dict.fromkeys((wanted, draft.email)):
                clients = self._list("users/clients", "clients", {"search[email]": email})
                found = [client for client in clients if str(client.get("email") or "").lower() == wanted]
                if found:
                    return _newest_active(found)
            return None
        if draft.name_suffix:
            clients = self._list("users/clients", "clients", {"search[organization_like]": draft.display_name})
            found = [client for client in clients if client.get("organization") == draft.display_name]
            return _newest_active(found) if found else None
        params = {"search[fname_like]": draft.first_name, "search[lname_like]": draft.last_name}
        found = [
            client
            for client in self._list("users/clients", "clients", {k: v for k, v in params.items() if v})
            if _same_person(client, draft)
        ]
        return _newest_active(found) if found else None

    def create_customer(self, draft: CustomerDraft) -> str:
        """FreshBooks does not require unique client names, so a name already taken is no clash. The phone goes to
        `mob_phone`; the notes and intake-form answers, when the settings let them through, to the client's
        `note`."""
        body: dict[str, Any] = {
            "fname": draft.first_name,
            "lname": draft.last_name,
            "organization": draft.display_name,
        }
        if draft.email:
            body["email"] = draft.email.lower()  # found again whatever case Acuity uses next time
        if draft.phone:
            body["mob_phone"] = draft.phone
        if details := draft.details_text():
            body["note"] = details
        return str(self._write("POST", "users/clients", "client", body)["id"])

    # ------------------------------------------------------------------------------------------- invoices
    def find_invoice(self, reference: str, draft: InvoiceDraft | None = None) -> LedgerInvoice | None:  # noqa: ARG002
        """By our reference in po_number alone (the draft is not needed). Deleted invoices are not listed
        (freshbooks.com/api/active_deleted): a deleted one is not ours to reuse."""
        found = self._find_invoice(reference)
        return None if found is None else _invoice(found)

    def create_invoice(self, draft: InvoiceDraft) -> LedgerInvoice:
        body = {
            "customerid": _id(draft.customer_id),
            "create_date": draft.txn_date.isoformat(),
            REFERENCE_FIELD: reference_marker(draft.reference),
            "notes": draft.memo,
            "lines": self._lines(draft.lines, draft.currency, draft.tax),
        }
        if draft.currency:
            body["currency_code"] = draft.currency
        if draft.number:
            body["invoice_number"] = draft.number
        return _checked(_invoice(self._write("POST", "invoices/invoices", "invoice", body)), draft)

    def update_invoice(
        self,
        invoice_id: str,
        draft: InvoiceDraft,
        *,
        known: LedgerInvoice | None = None,  # noqa: ARG002 - FreshBooks asks for no version
    ) -> LedgerInvoice:
        body = {
            "create_date": draft.txn_date.isoformat(),
            REFERENCE_FIELD: reference_marker(draft.reference),  # unchanged: keeps the invoice findable
            "notes": draft.memo,
            "lines": self._lines(draft.lines, draft.currency, draft.tax),
        }
        return _checked(_invoice(self._write("PUT", f"invoices/invoices/{invoice_id}", "invoice", body)), draft)

    def approve_invoice(self, invoice_id: str) -> LedgerInvoice:
        # FreshBooks takes payments on drafts (payments_need_approved_invoice is False): nothing to approve.
        return _invoice(self._invoice_json(invoice_id))

    def send_invoice(self, invoice_id: str, email: str, *, known: LedgerInvoice | None = None) -> LedgerInvoice:
        """With `known` (our record says it was not sent) one PUT; without, the invoice is read first to see
        whether it was sent."""
        if known is not None:
            if known.emailed:
                return known
        else:
            current = self._invoice_json(invoice_id)
            if _was_sent(current):
                return _invoice(current)
        action = {"action_email": True, "email_recipients": [email]}  # an action alone: it drops other fields
        return _invoice(self._write("PUT", f"invoices/invoices/{invoice_id}", "invoice", action))

    def void_invoice(
        self,
        invoice_id: str,
        *,
        known: LedgerInvoice | None = None,  # noqa: ARG002 - read all the same, below
    ) -> LedgerInvoice:
        """FreshBooks has no void: an unpaid invoice is deleted. It is read first even when our record says
        nothing was paid: FreshBooks deletes a paid invoice as readily (no conditional delete, no refusal), and a
        payment the owner recorded in FreshBooks itself is in no record of ours. The read is what keeps it."""
        current = self._invoice_json(invoice_id)
        if current.get("vis_state") == DELETED:
            return _invoice(current)
        if _amount_of(current.get("paid")) > 0:
            raise Rejected(
                "invoice_paid",
                f"FreshBooks invoice {current.get('invoice_number', invoice_id)} has payments, so it is not deleted",
            )
        deleted = {"vis_state": DELETED}  # alone: a vis_state PUT drops every other field
        return _invoice(self._write("PUT", f"invoices/invoices/{invoice_id}", "invoice", deleted))

    # ------------------------------------------------------------------------------------------- payments
    def find_payment(self, invoice_id: str, reference: str) -> LedgerPayment | None:
        for payment in self._list("payments/payments", "payments", {"search[invoiceid]": invoice_id}):
            if payment.get("note") == PAYMENT_MARK + reference:
                return LedgerPayment(str(payment["id"]), invoice_id, _amount_of(payment.get("amount")), reference)
        return None

    def record_payment(self, draft: PaymentDraft) -> LedgerPayment:
        body = {
            "invoiceid": _id(draft.invoice_id),
            "amount": _money(draft.amount, draft.currency),  # an object, not a number (§B1.3)
            "date": draft.paid_on.isoformat(),
            "type": "Other",  # Acuity does not say how its client paid (card, cash, gift certificate...)
            "note": PAYMENT_MARK + draft.reference,
        }
        payment = self._write("POST", "payments/payments", "payment", body)
        return LedgerPayment(str(payment["id"]), draft.invoice_id, _amount_of(payment.get("amount")), draft.reference)

    # ------------------------------------------------------------------------------------------- credit notes
    def find_credit_note(self, reference: str) -> LedgerCreditNote | None:
        """Credit notes can only be listed by client (no search by notes or number is documented): the engine
        names a credit note after its invoice ("{invoice reference}:credit:{n}", sync/plan.py), whose client it
        is; any other reference is looked for among all credit notes."""
        params: dict[str, str] = {}
        invoice_reference, is_credit, _ = reference.rpartition(":credit:")
        invoice = self._find_invoice(invoice_reference) if is_credit else None
        if invoice is not None:
            params["search[clientid]"] = str(invoice.get("customerid"))
        for note in self._list("credit_notes/credit_notes", "credit_notes", params):
            if CREDIT_MARK + reference in str(note.get("notes") or "").splitlines():
                return LedgerCreditNote(str(note["id"]), _amount_of(note.get("amount")), reference)
        return None

    def create_credit_note(self, draft: CreditNoteDraft) -> LedgerCreditNote:
        lines = self._line(InvoiceLine(draft.reason, draft.amount), draft.currency, draft.tax)
        body = {
            "clientid": _id(draft.customer_id),
            "create_date": draft.issued_on.isoformat(),
            "credit_type": "goodwill",  # documented types: goodwill, prepayment
            "notes": f"{draft.reason}\n{CREDIT_MARK}{draft.reference}",
            "lines": [{**lines[0], "name": "Credit"}, *lines[1:]],
        }
        if draft.currency:
            body["currency_code"] = draft.currency
        note = self._write("POST", "credit_notes/credit_notes", "credit_note", body)
        return LedgerCreditNote(str(note["id"]), _amount_of(note.get("amount")), draft.reference)

    # ------------------------------------------------------------------------------------------- shapes
    def _lines(self, lines: tuple[InvoiceLine, ...], currency: str, tax: TaxMode) -> list[dict[str, Any]]:
        return [shaped for line in lines for shaped in self._line(line, currency, tax)]

    def _line(self, line: InvoiceLine, currency: str, tax: TaxMode) -> list[dict[str, Any]]:
        """One line, quantity 1. In the inclusive mode a service line's price is split into net + tax (and, for a
        price no net gives exactly, a one-cent rounding line without tax); a tip is not a price for a supply and
        carries no tax."""
        shaped: dict[str, Any] = {"type": 0, "name": _line_name(line), "description": line.description, "qty": 1}
        if tax is not TaxMode.INCLUSIVE or line.kind is not LineKind.SERVICE:
            return [shaped | {"unit_cost": _money(money(line.amount), currency)}]
        if not self._tax_name or self._tax_percent is None:
            raise Rejected("tax_settings", "tax_mode inclusive needs tax_name and tax_percent in the settings")
        split = split_tax(money(line.amount), self._tax_percent)
        taxed = shaped | {
            "unit_cost": _money(split.net, currency),
            "taxName1": self._tax_name,
            "taxAmount1": f"{self._tax_percent:f}",
        }
        if split.rounding == 0:
            return [taxed]
        rounding = {
            "type": 0,
            "name": "Rounding",
            "description": f"{self._tax_name} at {self._tax_percent:f}% rounds to the cent: this keeps the total at "
            f"{money(line.amount)}",
            "qty": 1,
            "unit_cost": _money(split.rounding, currency),
        }
        return [taxed, rounding]

    # ------------------------------------------------------------------------------------------- HTTP
    def _find_invoice(self, reference: str) -> dict[str, Any] | None:
        marker = reference_marker(reference)
        for invoice in self._list("invoices/invoices", "invoices", {f"search[{REFERENCE_FIELD}]": marker}):
            if invoice.get(REFERENCE_FIELD) == marker:
                return invoice
        return None

    def _invoice_json(self, invoice_id: str) -> dict[str, Any]:
        invoice: dict[str, Any] = self._result("GET", f"invoices/invoices/{invoice_id}")["invoice"]
        return invoice

    def _list(self, path: str, key: str, params: Mapping[str, str]) -> Iterator[dict[str, Any]]:
        """The records of a list, page by page, as far as the caller reads."""
        for page in range(1, MAX_PAGES + 1):
            result = self._result("GET", path, params={**params, "page": str(page), "per_page": str(PER_PAGE)})
            yield from result.get(key) or []
            if page >= int(result.get("pages") or 1):
                return

    def _write(self, method: str, path: str, key: str, body: Mapping[str, Any]) -> dict[str, Any]:
        written: dict[str, Any] = self._result(method, path, body={key: body})[key]
        return written

    def _result(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        response = self._transport.send(method, f"{self._base}/{path}", params=params, body=body)
        result: dict[str, Any] = _answer(response)["response"]["result"]
        return result


# ----------------------------------------------------------------------------------------------- helpers
def _transport(http: httpx.Client, access_token: AccessToken, pace: Pace = lambda: None) -> LedgerTransport:
    return LedgerTransport(
        ledger=LedgerName.FRESHBOOKS, app_name=DISPLAY_NAME, http=http, access_token=access_token, pace=pace
    )


def _me(transport: LedgerTransport, api_url: str) -> dict[str, Any]:
    me: dict[str, Any] = _answer(transport.send("GET", f"{api_url.rstrip('/')}{ME_PATH}"))["response"]
    return me


def _answer(response: httpx.Response) -> dict[str, Any]:
    """The JSON of a successful answer, or the ledger interface's error for a failed one."""
    status = response.status_code
    if status == 429:
        raise RateLimited(retry_after(response, THROTTLE_WAIT_SECONDS), "FreshBooks asked us to slow down (429)")
    if status >= 500 or status == 409:  # 409: "being modified by another request", or an invoice number collision
        raise Transient(f"FreshBooks could not take the request now ({status}); it will be retried")
    try:
        document: dict[str, Any] = jsonmoney.loads(response.content)
    except ValueError:
        if status < 400:
            raise Transient(f"FreshBooks answered {status} with a body that is not JSON") from None
        document = {}
    if not isinstance(document, dict):
        document = {}
    response_part = document.get("response")
    if status < 400 and isinstance(response_part, dict) and not response_part.get("errors"):
        return document
    code, words = _fault(document, status)
    if status == 403:
        raise NeedsReauth(f"FreshBooks refused access (403: {words}): reconnect FreshBooks")
    if status == 404:
        raise Rejected("not_found", words)
    raise Rejected(code, words)


def _fault(document: Mapping[str, Any], status: int) -> tuple[str, str]:
    """The error code and words of any of FreshBooks' error bodies (§B3 and the fixtures): accounting errors,
    auth errors (`error`, `error_description`) and newer endpoints' `errors.message` / `errno` + `message`."""
    response = document.get("response")
    errors = response.get("errors") if isinstance(response, Mapping) else document.get("errors")
    first: Mapping[str, Any] = document
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        first = errors[0]
    elif isinstance(errors, Mapping):
        first = errors
    code = first.get("errno") or document.get("errno") or first.get("error") or status
    message = first.get("message") or first.get("error_description") or f"FreshBooks answered {status}"
    field = first.get("field")
    words = f"{message} (field {field})" if field and str(field) not in str(message) else str(message)
    return str(code), redact(words)


def _invoice(invoice: Mapping[str, Any]) -> LedgerInvoice:
    v3_status = str(invoice.get("v3_status") or "")
    if invoice.get("vis_state") == DELETED:
        status = InvoiceStatus.DELETED
    elif v3_status in PAID or invoice.get("status") in PAID_STATUSES:
        status = InvoiceStatus.PAID
    elif not _was_sent(invoice):
        status = InvoiceStatus.DRAFT
    else:
        status = InvoiceStatus.OPEN  # sent, viewed, partial, disputed, overdue...
    created = invoice.get("create_date")
    return LedgerInvoice(
        id=str(invoice["id"]),
        number=str(invoice.get("invoice_number") or ""),
        total=_amount_of(invoice.get("amount")),
        balance=_amount_of(invoice.get("outstanding")),
        status=status,
        emailed=_was_sent(invoice),
        txn_date=date.fromisoformat(str(created)) if created else date.min,
        customer_id=str(invoice.get("customerid") or ""),
    )


def _was_sent(invoice: Mapping[str, Any]) -> bool:
    """FreshBooks tells sent from draft (status 1, v3_status draft/created), not e-mailed from marked as sent; we
    never mark as sent, and a paid invoice is not e-mailed afterwards."""
    return invoice.get("status") != DRAFT_STATUS and str(invoice.get("v3_status") or "") not in UNSENT


def _checked(invoice: LedgerInvoice, draft: InvoiceDraft) -> LedgerInvoice:
    if invoice.total != draft.total:
        raise Rejected(
            "total_mismatch",
            f"FreshBooks made invoice {invoice.number} total {invoice.total}, not Acuity's {draft.total}",
        )
    return invoice


def _newest_active(clients: list[dict[str, Any]]) -> str:
    """Several clients can share an e-mail (§B1.1): the newest active one, else the newest archived one."""
    best = min(clients, key=lambda client: (client.get("vis_state") != 0, -int(client.get("id") or 0)))
    return str(best["id"])


def _same_person(client: Mapping[str, Any], draft: CustomerDraft) -> bool:
    """The same first and last name and the same phone number: never the name alone."""
    names = (str(client.get("fname") or "").lower(), str(client.get("lname") or "").lower())
    phones = [str(client.get(name) or "") for name in ("mob_phone", "bus_phone", "home_phone")]
    same_name = names == (draft.first_name.lower(), draft.last_name.lower())
    return same_name and any(draft.same_phone(phone) for phone in phones)


def _line_name(line: InvoiceLine) -> str:
    if line.kind is LineKind.TIP:
        return "Tip"
    return "Order" if line.item_key == "order" else "Appointment"


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    """FreshBooks' money object: the amount as a string, never a JSON number."""
    shaped = {"amount": f"{money(amount):f}"}
    return shaped | {"code": currency} if currency else shaped


def _amount_of(value: Any) -> Decimal:
    amount = value.get("amount") if isinstance(value, Mapping) else value
    return to_decimal(amount or 0)


def _id(value: str) -> int | str:
    """FreshBooks ids are integers; our records keep them as strings."""
    return int(value) if value.isdigit() else value
