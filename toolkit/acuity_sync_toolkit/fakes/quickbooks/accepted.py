"""What each route of the fake QuickBooks applies (fakes/parameters.py), under /v3/company/{realmId}/: its query
parameters, and the fields of each entity it writes (on a POST and in a batch item alike). Anything else is
refused with QuickBooks' 400 ValidationFault (code 2010, "Request has invalid or unsupported property") saying it
is not supported by this fake; a field QuickBooks itself does not know is its own 2010 "Unrecognized field".

Refused here although QuickBooks takes them: `include` values other than `void` (payments) and
`allowduplicatedocnum` (invoices, credit memos); `format`; fields for what the fake does not model (classes,
departments, terms, tax codes and exemptions, shipping, deposits, multi-currency rates, projects, sub-customers,
payment methods, deposit accounts, ...).

The OAuth token and revocation endpoints declare their fields here too (TOKEN, REVOKE: fakes/consent.py): another
field is OAuth's 400 `invalid_request` saying it is not supported by this fake.
"""

from __future__ import annotations

from acuity_sync_toolkit.fakes.consent import CODE, GRANT_TYPE, REDIRECT_URI, REFRESH_TOKEN, TokenEndpoint
from acuity_sync_toolkit.fakes.consent import TOKEN as TOKEN_FIELD
from acuity_sync_toolkit.fakes.parameters import (
    Fields,
    Ignored,
    Param,
    Query,
    Route,
    Routes,
    comma_list,
    nonempty_text,
    supported,
    text,
)
from acuity_sync_toolkit.fakes.quickbooks.entities import CUSTOMER_FIELDS, ITEM_FIELDS
from acuity_sync_toolkit.fakes.quickbooks.payments import PAYMENT_FIELDS
from acuity_sync_toolkit.fakes.quickbooks.sales import CREDIT_MEMO_FIELDS, INVOICE_FIELDS

MINOR_VERSION = Ignored(
    "minorversion",
    "since 1 August 2025 QuickBooks answers every request as minor version 75 and ignores the one asked for "
    "(research quickbooks.md §1, Intuit's blog of 2025-01-21)",
)
REQUEST_ID = Param("requestid", text)  # the recordings send `requestid=` empty: no replay key then
READ = Query(ignored=(MINOR_VERSION,))


def _write(*include: str) -> Query:
    params = [Param("operation", nonempty_text), REQUEST_ID]
    if include:
        params.append(Param("include", comma_list(supported(*include))))
    return Query(tuple(params), ignored=(MINOR_VERSION,))


READ_ONLY = "computed by QuickBooks: what a client sends is not read"
SERVER_FIELDS = {
    "MetaData": READ_ONLY,
    "domain": READ_ONLY,
    "status": READ_ONLY,
}
REF = Fields(
    "ReferenceType",
    {"value"},
    ignored={"name": "QuickBooks reads a reference by its value and fills in the name itself"},
    known={"type"},
)
EMAIL = Fields("EmailAddress", {"Address"}, known={"Id", "Default", "Tag"})
PHONE = Fields("TelephoneNumber", {"FreeFormNumber"}, known={"Id", "DeviceType", "CountryCode", "AreaCode"})
WEB = Fields("WebSiteAddress", {"URI"}, known={"Id", "Default", "Tag"})
MEMO = Fields("MemoRef", {"value"})
_ADDRESS_PARTS = (
    "Id",
    "Line1",
    "Line2",
    "Line3",
    "Line4",
    "Line5",
    "City",
    "Country",
    "CountryCode",
    "County",
    "CountrySubDivisionCode",
    "PostalCode",
    "PostalCodeSuffix",
    "Lat",
    "Long",
    "Tag",
    "Note",
)
ADDRESS = Fields("PhysicalAddress", _ADDRESS_PARTS)
CUSTOMER = Fields(
    "Customer",
    {
        "Id",
        "SyncToken",
        "sparse",
        "Title",
        "GivenName",
        "MiddleName",
        "FamilyName",
        "Suffix",
        "DisplayName",
        "CompanyName",
        "PrintOnCheckName",
        "Active",
        "PrimaryPhone",
        "AlternatePhone",
        "Mobile",
        "Fax",
        "PrimaryEmailAddr",
        "WebAddr",
        "BillAddr",
        "ShipAddr",
        "Notes",
        "Taxable",
        "PreferredDeliveryMethod",
        "CurrencyRef",
        "Job",
        "BillWithParent",
    },
    ignored={
        **SERVER_FIELDS,
        **dict.fromkeys(("Balance", "BalanceWithJobs", "FullyQualifiedName", "Level", "V4IDPseudonym"), READ_ONLY),
    },
    nested={
        "PrimaryPhone": PHONE,
        "AlternatePhone": PHONE,
        "Mobile": PHONE,
        "Fax": PHONE,
        "PrimaryEmailAddr": EMAIL,
        "WebAddr": WEB,
        "BillAddr": ADDRESS,
        "ShipAddr": ADDRESS,
        "CurrencyRef": REF,
    },
    # No sub-customers (ParentRef is refused): Job and BillWithParent can only be false, as a read answers them.
    only={"Job": (False,), "BillWithParent": (False,), "PreferredDeliveryMethod": ("Print", "Email", "None")},
    known=CUSTOMER_FIELDS,
)
ITEM = Fields(
    "Item",
    {"Id", "SyncToken", "sparse", "Name", "Sku", "Description", "Active", "Type", "UnitPrice", "Taxable"},
    ignored={**SERVER_FIELDS, "FullyQualifiedName": READ_ONLY, "Level": READ_ONLY},
    only={"Type": ("Service", "NonInventory")},
    known=ITEM_FIELDS,
)
SALES_ITEM_DETAIL = Fields(
    "SalesItemLineDetail",
    {"ItemRef", "Qty", "UnitPrice", "TaxCodeRef", "ServiceDate"},
    nested={"ItemRef": REF, "TaxCodeRef": REF},
    known={
        "ClassRef",
        "DiscountRate",
        "DiscountAmt",
        "ItemAccountRef",
        "MarkupInfo",
        "PriceLevelRef",
        "TaxClassificationRef",
        "TaxInclusiveAmt",
    },
)
DISCOUNT_DETAIL = Fields(
    "DiscountLineDetail",
    {"PercentBased", "DiscountPercent"},
    known={"DiscountAccountRef", "ClassRef", "TaxCodeRef"},
)
DESCRIPTION_DETAIL = Fields("DescriptionLineDetail", set(), known={"ServiceDate", "TaxCodeRef"})
LINE = Fields(
    "Line",
    {
        "Id",
        "Description",
        "Amount",
        "DetailType",
        "SalesItemLineDetail",
        "DiscountLineDetail",
        "DescriptionLineDetail",
        "SubTotalLineDetail",
    },
    ignored={
        "LineNum": "QuickBooks numbers the lines itself",
        "LinkedTxn": READ_ONLY,
    },
    nested={
        "SalesItemLineDetail": SALES_ITEM_DETAIL,
        "DiscountLineDetail": DISCOUNT_DETAIL,
        "DescriptionLineDetail": DESCRIPTION_DETAIL,
    },
    only={"DetailType": ("SalesItemLineDetail", "DescriptionOnly", "DiscountLineDetail", "SubTotalLineDetail")},
    known={"GroupLineDetail", "DepositLineDetail", "TaxLineDetail", "CustomField", "ProjectRef"},
)
_SALES_APPLIED = {
    "Id",
    "SyncToken",
    "sparse",
    "Line",
    "CustomerRef",
    "TxnDate",
    "DocNumber",
    "PrivateNote",
    "BillEmail",
    "CustomerMemo",
    "GlobalTaxCalculation",
    "BillAddr",
    "ShipAddr",
    "PrintStatus",
    "EmailStatus",
    "CurrencyRef",
    "CustomField",
    "ApplyTaxAfterDiscount",
}
_SALES_COMPUTED = dict.fromkeys(("TotalAmt", "Balance", "HomeBalance", "HomeTotalAmt", "TxnTaxDetail"), READ_ONLY)
CUSTOM_FIELD = Fields(
    "CustomField",
    {"DefinitionId", "StringValue"},
    ignored={"Name": "QuickBooks names a custom field from its definition", "Type": READ_ONLY},
    known={"BooleanValue", "NumberValue", "DateValue"},
)
_SALES_NESTED = {
    "Line": LINE,
    "CustomField": CUSTOM_FIELD,
    "CustomerRef": REF,
    "BillEmail": EMAIL,
    "CustomerMemo": MEMO,
    "BillAddr": ADDRESS,
    "ShipAddr": ADDRESS,
    "CurrencyRef": REF,
}
_SALES_ONLY: dict[str, tuple[object, ...]] = {
    "ApplyTaxAfterDiscount": (False,),  # discounts come before tax here, as QuickBooks answers
    "GlobalTaxCalculation": ("TaxInclusive", "TaxExcluded", "NotApplicable"),
}
INVOICE = Fields(
    "Invoice",
    {*_SALES_APPLIED, "DueDate", *("AllowIPNPayment", "AllowOnlinePayment"), "AllowOnlineCreditCardPayment"}
    | {"AllowOnlineACHPayment"},
    ignored={
        **SERVER_FIELDS,
        **_SALES_COMPUTED,
        "LinkedTxn": "kept by QuickBooks from the payments linked to the invoice",
        "DeliveryInfo": "set by QuickBooks when it e-mails the invoice (POST invoice/{id}/send)",
        "InvoiceLink": READ_ONLY,
    },
    nested=_SALES_NESTED,
    only=_SALES_ONLY,
    known=INVOICE_FIELDS,
)
CREDIT_MEMO = Fields(
    "CreditMemo",
    _SALES_APPLIED,
    ignored={**SERVER_FIELDS, **_SALES_COMPUTED, "RemainingCredit": READ_ONLY},
    nested=_SALES_NESTED,
    only=_SALES_ONLY,
    known=CREDIT_MEMO_FIELDS,
)
LINKED_TXN = Fields("LinkedTxn", {"TxnId", "TxnType"}, only={"TxnType": ("Invoice",)}, known={"TxnLineId"})
PAYMENT_LINE = Fields("Line", {"Amount", "LinkedTxn"}, nested={"LinkedTxn": LINKED_TXN}, known={"LineEx"})
PAYMENT = Fields(
    "Payment",
    {"Id", "SyncToken", "sparse", "TotalAmt", "CustomerRef", "Line", "TxnDate", "PaymentRefNum", "PrivateNote"}
    | {"CurrencyRef", "ProcessPayment"},
    ignored={**SERVER_FIELDS, "UnappliedAmt": READ_ONLY, "LinkedTxn": READ_ONLY},
    nested={"CustomerRef": REF, "Line": PAYMENT_LINE, "CurrencyRef": REF},
    only={"ProcessPayment": (False,)},  # no card processing here
    known=PAYMENT_FIELDS,
)
ENTITY_FIELDS = {"Customer": CUSTOMER, "Item": ITEM, "Invoice": INVOICE, "Payment": PAYMENT, "CreditMemo": CREDIT_MEMO}

ROUTES = Routes(
    *(
        Route("GET", f"{resource}/{{id}}", READ)
        for resource in ("customer", "item", "invoice", "payment", "creditmemo")
    ),
    Route("POST", "customer", _write()),
    Route("POST", "item", _write()),
    Route("POST", "invoice", _write("allowduplicatedocnum")),
    Route("POST", "creditmemo", _write("allowduplicatedocnum")),
    Route("POST", "payment", _write("void")),
    Route("POST", "invoice/{id}/send", Query((Param("sendTo", nonempty_text), REQUEST_ID), ignored=(MINOR_VERSION,))),
    Route("GET", "query", Query((Param("query", nonempty_text),), ignored=(MINOR_VERSION,))),
    Route("POST", "query", Query((Param("query", nonempty_text), REQUEST_ID), ignored=(MINOR_VERSION,))),
    Route("POST", "batch", Query((REQUEST_ID,), ignored=(MINOR_VERSION,))),
    Route("GET", "companyinfo/{id}", READ),
    Route("GET", "preferences", READ),
)

# Intuit's OAuth endpoints (research quickbooks.md §4, intuitlib client.py): the client in HTTP Basic, never in the
# body (a client_id or client_secret there is refused); a form body for the token endpoint; no PKCE (code_verifier
# is refused). `x-include-refresh-token-hard-expires-in` asks for the 5-year cap in the answer: not applied here.
HARD_EXPIRY_HEADER = "x-include-refresh-token-hard-expires-in"
TOKEN = TokenEndpoint(
    by_code=Query((GRANT_TYPE, CODE, REDIRECT_URI), refused_headers=(HARD_EXPIRY_HEADER,)),
    by_refresh=Query((GRANT_TYPE, REFRESH_TOKEN), refused_headers=(HARD_EXPIRY_HEADER,)),
)
# POST /v2/oauth2/tokens/revoke, JSON `{"token": ...}` (quickbooks.md §4, AuthClient.revoke).
REVOKE = Query((TOKEN_FIELD,))
