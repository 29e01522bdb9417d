"""What each route of the fake Xero applies (fakes/parameters.py), checked after the request has passed Xero's
OpenAPI spec (spec.py): every query parameter and header the spec lists for a route, and every field of its body
schema, is applied, ignored as Xero ignores it (what Xero computes or reports on an answer), or refused with a 400
ValidationException saying it is not supported by this fake. The spec's read-only fields never get this far: the
spec check refuses a request that writes one.

Refused here although the spec has them: `summarizeErrors` and `unitdp` on every write, `summaryOnly`,
`includeArchived` (invoices), `createdByMyApp` and `unitdp` on the reads; body fields for what the fake does not
model (tracking, discounts, branding themes, multi-currency rates, contact persons, payment terms, ...).

The identity endpoints declare theirs here too (TOKEN, CONNECTIONS: fakes/consent.py): another field of a token
request is OAuth's 400 `invalid_request`, another parameter of /connections a 400 problem, each saying it is not
supported by this fake.
"""

from __future__ import annotations

import re

from acuity_sync_toolkit.fakes.consent import (
    CLIENT_ID,
    CODE,
    CODE_VERIFIER,
    GRANT_TYPE,
    REDIRECT_URI,
    REFRESH_TOKEN,
    TokenEndpoint,
)
from acuity_sync_toolkit.fakes.parameters import (
    Fields,
    Ignored,
    Param,
    Query,
    Route,
    Routes,
    boolean,
    comma_list,
    nonempty_text,
    positive_int,
    text,
    timestamp,
)

_ORDER = re.compile(r"^\s*([A-Za-z][A-Za-z0-9.]*)(?:\s+(ASC|DESC))?\s*$", re.IGNORECASE)


def order(value: str) -> list[tuple[str, bool]]:
    """`Name ASC, UpdatedDateUTC DESC`: (field, descending) pairs; other syntax cannot be read."""
    pairs: list[tuple[str, bool]] = []
    for part in value.split(","):
        match = _ORDER.match(part)
        if match is None:
            raise ValueError("must name fields, each with ASC or DESC, such as InvoiceNumber ASC")
        pairs.append((match.group(1), (match.group(2) or "ASC").upper() == "DESC"))
    return pairs


COMPUTED = "computed by Xero from the document: what a request says is not read"
REPORTED = "Xero's report on an answer (validation, attachments, status words): computed, never read from a request"


def _ignored(*names: str, reason: str = COMPUTED) -> dict[str, str]:
    return dict.fromkeys(names, reason)


def _wrapper(key: str, item: Fields) -> Fields:
    """`{"Invoices": [...]}`, or one bare item, as Xero takes either."""
    return Fields(key, {key}, nested={key: item}, alone=item)


WHERE = Param("where", text)
ORDER = Param("order", order)
PAGE = Param("page", positive_int)
PAGE_SIZE = Param("pageSize", positive_int)
MODIFIED_SINCE = Param("If-Modified-Since", timestamp)
IDEMPOTENCY = Param("Idempotency-Key", nonempty_text)
UUIDS = comma_list()
LIST_HEADERS = (MODIFIED_SINCE,)
WRITE = Query(headers=(IDEMPOTENCY,))

CONTACT_REF = Fields("Contact", {"ContactID"})  # other fields would edit the contact: not supported here
DOCUMENT_REF = Fields("Invoice", {"InvoiceID", "InvoiceNumber"})
ACCOUNT_REF = Fields("Account", {"AccountID", "Code"})
LINE = Fields(
    "LineItem",
    {
        "LineItemID",
        "Description",
        "Quantity",
        "UnitAmount",
        "AccountCode",
        "AccountID",
        "TaxType",
        "LineAmount",
        "Tracking",
    },
    ignored=_ignored("ValidationErrors", reason=REPORTED),
    only={"Tracking": ([],)},  # tracking categories are not modelled: only an answer's empty list may come back
)
PHONE = Fields(
    "Phone",
    {"PhoneType", "PhoneNumber", "PhoneAreaCode", "PhoneCountryCode"},
)  # kept as given (the spec's enums check PhoneType)
ADDRESS = Fields(
    "Address",
    {
        "AddressType",
        "AddressLine1",
        "AddressLine2",
        "AddressLine3",
        "AddressLine4",
        "City",
        "Region",
        "PostalCode",
        "Country",
        "AttentionTo",
    },
)  # kept as given (the spec's enum checks AddressType)
CONTACT = Fields(
    "Contact",
    {
        "ContactID",
        "ContactNumber",
        "AccountNumber",
        "ContactStatus",
        "Name",
        "FirstName",
        "LastName",
        "CompanyNumber",
        "EmailAddress",
        "BankAccountDetails",
        "TaxNumber",
        "Phones",
        "Addresses",
        "ContactGroups",
        "ContactPersons",
    },
    ignored={
        **_ignored("IsCustomer", "IsSupplier", "Balances", reason="set by Xero from the contact's transactions"),
        **_ignored(
            "HasValidationErrors", "ValidationErrors", "StatusAttributeString", "HasAttachments", reason=REPORTED
        ),
    },
    nested={"Phones": PHONE, "Addresses": ADDRESS},
    only={"ContactStatus": ("ACTIVE", "ARCHIVED"), "ContactGroups": ([],), "ContactPersons": ([],)},
)
INVOICE = Fields(
    "Invoice",
    {
        "Type",
        "InvoiceID",
        "Contact",
        "LineItems",
        "Date",
        "DueDate",
        "LineAmountTypes",
        "InvoiceNumber",
        "Reference",
        "Url",
        "CurrencyCode",
        "Status",
    },
    ignored=_ignored("HasErrors", "StatusAttributeString", "ValidationErrors", "Warnings", reason=REPORTED),
    nested={"Contact": CONTACT_REF, "LineItems": LINE},
    only={"Type": ("ACCREC",), "Status": ("DRAFT", "SUBMITTED", "AUTHORISED", "DELETED", "VOIDED")},
)
CREDIT_NOTE = Fields(
    "CreditNote",
    {
        "Type",
        "Contact",
        "Date",
        "Status",
        "LineAmountTypes",
        "LineItems",
        "CreditNoteNumber",
        "Reference",
        "CurrencyCode",
        "Allocations",
        "Payments",
    },
    ignored={
        **_ignored("SubTotal", "TotalTax", "Total", "RemainingCredit", "FullyPaidOnDate", "AppliedAmount"),
        **_ignored(
            "HasAttachments", "HasErrors", "StatusAttributeString", "ValidationErrors", "Warnings", reason=REPORTED
        ),
    },
    nested={"Contact": CONTACT_REF, "LineItems": LINE},
    only={
        "Type": ("ACCRECCREDIT",),
        "Status": ("DRAFT", "SUBMITTED", "AUTHORISED"),
        "Allocations": ([],),
        "Payments": ([],),
    },
)
PAYMENT = Fields(
    "Payment",
    {"Invoice", "Account", "Date", "Amount", "Reference", "IsReconciled"},
    ignored={
        **_ignored(
            "HasAccount",
            "HasValidationErrors",
            "StatusAttributeString",
            "ValidationErrors",
            "Warnings",
            reason=REPORTED,
        ),
    },
    nested={"Invoice": DOCUMENT_REF, "Account": ACCOUNT_REF},
)
ALLOCATION = Fields(
    "Allocation",
    {"Invoice", "Amount", "Date"},
    ignored=_ignored("StatusAttributeString", "ValidationErrors", reason=REPORTED),
    nested={"Invoice": DOCUMENT_REF},
)
HISTORY = Fields("HistoryRecord", {"Details"})

ROUTES = Routes(
    Route("GET", "/Organisation"),
    Route("GET", "/Accounts", Query((WHERE, ORDER), headers=LIST_HEADERS)),
    Route("GET", "/TaxRates"),  # the organisation's rates as the fake has them: where, order and TaxType refused
    Route(
        "GET",
        "/Contacts",
        Query(
            (
                WHERE,
                ORDER,
                Param("IDs", UUIDS),
                PAGE,
                PAGE_SIZE,
                Param("includeArchived", boolean),
                Param("searchTerm", text),
            ),
            headers=LIST_HEADERS,
        ),
    ),
    Route("PUT", "/Contacts", WRITE, _wrapper("Contacts", CONTACT)),
    Route("POST", "/Contacts", WRITE, _wrapper("Contacts", CONTACT)),
    Route("GET", "/Contacts/{ContactID}"),
    Route("GET", "/Contacts/{ContactID}/History"),
    Route("PUT", "/Contacts/{ContactID}/History", WRITE, _wrapper("HistoryRecords", HISTORY)),
    Route(
        "GET",
        "/Invoices",
        Query(
            (
                WHERE,
                ORDER,
                Param("IDs", UUIDS),
                Param("InvoiceNumbers", comma_list()),
                Param("ContactIDs", UUIDS),
                Param("Statuses", comma_list()),
                PAGE,
                PAGE_SIZE,
                Param("searchTerm", text),
            ),
            headers=LIST_HEADERS,
        ),
    ),
    Route("PUT", "/Invoices", WRITE, _wrapper("Invoices", INVOICE)),
    Route("POST", "/Invoices", WRITE, _wrapper("Invoices", INVOICE)),
    Route("GET", "/Invoices/{InvoiceID}"),
    Route("POST", "/Invoices/{InvoiceID}", WRITE, _wrapper("Invoices", INVOICE)),
    Route("POST", "/Invoices/{InvoiceID}/Email", WRITE, Fields("RequestEmpty", ())),
    Route("GET", "/Payments", Query((WHERE, ORDER, PAGE, PAGE_SIZE), headers=LIST_HEADERS)),
    Route("PUT", "/Payments", WRITE, _wrapper("Payments", PAYMENT)),
    Route("GET", "/CreditNotes", Query((WHERE, ORDER, PAGE, PAGE_SIZE), headers=LIST_HEADERS)),
    Route("PUT", "/CreditNotes", WRITE, _wrapper("CreditNotes", CREDIT_NOTE)),
    Route("PUT", "/CreditNotes/{CreditNoteID}/Allocations", WRITE, _wrapper("Allocations", ALLOCATION)),
)

# Xero's identity endpoints (research xero_freshbooks.md A4, xero-identity.yaml). The token endpoint takes a form:
# a standard app's client in HTTP Basic, a PKCE app's `client_id` (and `code_verifier`) in the form; a
# client_secret in the form is refused (Xero documents it in the Basic header only).
TOKEN = TokenEndpoint(
    by_code=Query((GRANT_TYPE, CODE, REDIRECT_URI, CODE_VERIFIER, CLIENT_ID)),
    by_refresh=Query(
        (GRANT_TYPE, REFRESH_TOKEN),
        ignored=(
            Ignored(
                "client_id",
                "a PKCE app's refresh names its client (developer.xero.com/documentation/oauth2/pkce-flow); the "
                "refresh token alone names the grant, and the fake Xero keeps no client list",
            ),
        ),
    ),
)
# GET /connections (filtered by `authEventId`, as the spec's only parameter) and DELETE /connections/{id}.
CONNECTIONS = Routes(
    Route("GET", "/connections", Query((Param("authEventId", nonempty_text),))),
    Route("DELETE", "/connections/{id}"),
)
