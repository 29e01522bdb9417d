"""The Accounting API operations: each takes the organisation, the call and the time, returns (status, JSON body).

ROUTES lists (method, spec path pattern, handler); the pattern is the spec's, below /api.xro/2.0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from acuity_sync_toolkit.fakes.xero import invoices, lists
from acuity_sync_toolkit.fakes.xero.entities import TAX_RATES, Organisation, matches, where_filter
from acuity_sync_toolkit.fakes.xero.values import JsonObject, XeroError


@dataclass(frozen=True, slots=True)
class Call:
    params: dict[str, str]
    query: dict[str, Any]  # the parameters the route applies, read (accepted.py): `page` an int, `IDs` a list...
    body: Any
    now: datetime


Handler = Callable[[Organisation, Call], tuple[int, JsonObject | None]]


def _items(call: Call, key: str) -> list[JsonObject]:
    body = call.body
    if isinstance(body, dict) and isinstance(body.get(key), list):
        return [item for item in body[key] if isinstance(item, dict)]
    if isinstance(body, dict) and key not in body:
        return [body]  # a single object, as Xero also accepts
    raise XeroError(f"The body must hold {key}: [ ... ]")


def _page(items: list[JsonObject], key: str) -> tuple[int, JsonObject]:
    return 200, {key: [invoices.public(item) for item in items]}


def _list(items: list[JsonObject], key: str, call: Call) -> tuple[int, JsonObject]:
    """A GET list: the route's filters were applied; modified-since, order and paging come last (lists.py)."""
    return 200, lists.finish(key, [invoices.public(item) for item in items], call.query)


def get_organisation(org: Organisation, call: Call) -> tuple[int, JsonObject | None]:  # noqa: ARG001
    return 200, {"Organisations": [org.as_json()]}


def get_accounts(org: Organisation, call: Call) -> tuple[int, JsonObject | None]:
    pairs = where_filter(call.query.get("where"))
    found = [account for account in org.accounts if all(str(account.get(k)) == v for k, v in pairs)]
    return _list(found, "Accounts", call)


def get_tax_rates(org: Organisation, call: Call) -> tuple[int, JsonObject | None]:  # noqa: ARG001
    """The organisation's tax rates (the fake's TAX_RATES), as GET /TaxRates lists them."""
    rates = []
    for tax_type, rate in TAX_RATES.items():
        percent = rate * 100
        number = int(percent) if percent == percent.to_integral_value() else float(percent)
        rates.append(
            {
                "Name": _TAX_RATE_NAMES.get(tax_type, tax_type),
                "TaxType": tax_type,
                "Status": "ACTIVE",
                "ReportTaxType": "OUTPUT" if rate else "NONE",
                "CanApplyToRevenue": True,
                "CanApplyToAssets": True,
                "CanApplyToEquity": True,
                "CanApplyToExpenses": True,
                "CanApplyToLiabilities": True,
                "DisplayTaxRate": number,
                "EffectiveRate": number,
                "TaxComponents": [
                    {
                        "Name": _TAX_RATE_NAMES.get(tax_type, tax_type),
                        "Rate": number,
                        "IsCompound": False,
                        "IsNonRecoverable": False,
                    }
                ],
            }
        )
    return 200, {"TaxRates": rates}


_TAX_RATE_NAMES = {"OUTPUT": "Tax on Sales", "NONE": "Tax Exempt", "TAX001": "Sales Tax"}


def get_contacts(org: Organisation, call: Call) -> tuple[int, JsonObject | None]:
    """A page of contacts, as Xero answers: `page` (from 1; the first when not asked for) of `pageSize` (100 by
    default, at most 1,000), with a `pagination` object saying how many pages and contacts there are (lists.py).
    Archived contacts only with `includeArchived=true` (or a `where` on ContactStatus); `IDs` picks contacts."""
    where = call.query.get("where")
    found = org.find_contacts(where, call.query.get("searchTerm"))
    if not call.query.get("includeArchived") and not any(name == "ContactStatus" for name, _ in where_filter(where)):
        found = [contact for contact in found if contact.get("ContactStatus") != "ARCHIVED"]
    if "IDs" in call.query:
        wanted = {str(contact_id).lower() for contact_id in call.query["IDs"]}
        found = [contact for contact in found if contact["ContactID"].lower() in wanted]
    return _list(found, "Contacts", call)


def put_contact_history(org: Organisation, call: Call) -> tuple[int, JsonObject | None]:
    """A note in the contact's "History and notes" (Xero's contacts have no notes field)."""
    contact_id = call.params["ContactID"]
    if contact_id not in org.contacts:
        raise XeroError("Contact could not be found", status=404)
    made = [org.add_history(contact_id, item, call.now) for item in _items(call, "HistoryRecords")]
    return 200, {"HistoryRecords": made}


def get_contact_history(org: Organisation, call: Call) -> tuple[int, JsonObject | None]:
    contact_id = call.params["ContactID"]
    if contact_id not in org.contacts:
        raise XeroError("Contact could not be found", status=404)
    return 200, {"HistoryRecords": list(org.history.get(contact_id, []))}


def get_contact(org: Organisation, call: Call) -> tuple[int, JsonObject | None]:
    contact = org.contacts.get(call.params["ContactID"])
    if contact is None:
        raise XeroError("Contact could not be found", status=404)
    return _page([contact], "Contacts")


def _save_contacts(org: Organisation, call: Call, *, create_only: bool) -> tuple[int, JsonObject | None]:
    saved = [org.save_contact(item, create_only=create_only, now=call.now) for item in _items(call, "Contacts")]
    return _page(saved, "Contacts")


def put_contacts(org: Organisation, call: Call) -> tuple[int, JsonObject | None]:
    return _save_contacts(org, call, create_only=True)


def post_contacts(org: Organisation, call: Call) -> tuple[int, JsonObject | None]:
    return _save_contacts(org, call, create_only=False)


def get_invoices(org: Organisation, call: Call) -> tuple[int, JsonObject | None]:
    found = invoices.find_invoices(org, call.query)
    return _list(found, "Invoices", call)


def get_invoice(org: Organisation, call: Call) -> tuple[int, JsonObject | None]:
    invoice = org.invoices.get(call.params["InvoiceID"])
    if invoice is None:
        raise XeroError("Invoice could not be found", status=404)
    return _page([invoice], "Invoices")


def _save_invoices(org: Organisation, call: Call, *, create_only: bool) -> tuple[int, JsonObject | None]:
    saved = []
    kw: dict[str, Any] = {"create_only": create_only, "now": call.now}
    for item in _items(call, "Invoices"):
        if "InvoiceID" in call.params:
            saved.append(invoices.save_invoice(org, {**item, "InvoiceID": call.params["InvoiceID"]}, **kw))
        else:
            saved.append(invoices.save_invoice(org, item, **kw))
    return _page(saved, "Invoices")


def put_invoices(org: Organisation, call: Call) -> tuple[int, JsonObject | None]:
    return _save_invoices(org, call, create_only=True)


def post_invoices(org: Organisation, call: Call) -> tuple[int, JsonObject | None]:
    return _save_invoices(org, call, create_only=False)


def email_invoice(org: Organisation, call: Call) -> tuple[int, JsonObject | None]:
    invoices.email_invoice(org, call.params["InvoiceID"])
    return 204, None


def get_payments(org: Organisation, call: Call) -> tuple[int, JsonObject | None]:
    pairs = where_filter(call.query.get("where"))
    return _list([p for p in org.payments.values() if all(str(p.get(k)) == v for k, v in pairs)], "Payments", call)


def put_payments(org: Organisation, call: Call) -> tuple[int, JsonObject | None]:
    made = [invoices.create_payment(org, item, call.now) for item in _items(call, "Payments")]
    return _page(made, "Payments")


def put_credit_notes(org: Organisation, call: Call) -> tuple[int, JsonObject | None]:
    made = [invoices.create_credit_note(org, item, call.now) for item in _items(call, "CreditNotes")]
    return _page(made, "CreditNotes")


def get_credit_notes(org: Organisation, call: Call) -> tuple[int, JsonObject | None]:
    pairs = where_filter(call.query.get("where"))  # the spec's GET /CreditNotes takes `where`, as /Payments does
    return _list([note for note in org.credit_notes.values() if matches(note, pairs)], "CreditNotes", call)


def put_allocations(org: Organisation, call: Call) -> tuple[int, JsonObject | None]:
    note_id = call.params["CreditNoteID"]
    made = [invoices.allocate_credit(org, note_id, item, call.now) for item in _items(call, "Allocations")]
    return _page(made, "Allocations")


ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "/Organisation", get_organisation),
    ("GET", "/Accounts", get_accounts),
    ("GET", "/TaxRates", get_tax_rates),
    ("GET", "/Contacts", get_contacts),
    ("PUT", "/Contacts", put_contacts),
    ("POST", "/Contacts", post_contacts),
    ("GET", "/Contacts/{ContactID}", get_contact),
    ("GET", "/Contacts/{ContactID}/History", get_contact_history),
    ("PUT", "/Contacts/{ContactID}/History", put_contact_history),
    ("GET", "/Invoices", get_invoices),
    ("PUT", "/Invoices", put_invoices),
    ("POST", "/Invoices", post_invoices),
    ("GET", "/Invoices/{InvoiceID}", get_invoice),
    ("POST", "/Invoices/{InvoiceID}", post_invoices),
    ("POST", "/Invoices/{InvoiceID}/Email", email_invoice),
    ("GET", "/Payments", get_payments),
    ("PUT", "/Payments", put_payments),
    ("GET", "/CreditNotes", get_credit_notes),
    ("PUT", "/CreditNotes", put_credit_notes),
    ("PUT", "/CreditNotes/{CreditNoteID}/Allocations", put_allocations),
)
