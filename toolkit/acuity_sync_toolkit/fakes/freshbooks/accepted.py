"""What each accounting route of the fake FreshBooks applies (fakes/parameters.py), under
/accounting/account/{account_id}/: list filters (`search[...]`), paging, and the fields of each body. Anything else
is refused with FreshBooks' error body (errno 1004, "not supported by this fake"): 400 for a query parameter, 422
for a body field.

Refused here although FreshBooks documents them (research xero_freshbooks.md §B1): `include[]`, `sort`,
`search[phone_like]`, `search[updated_min]`/`search[updated_max]`, `search[date_min]`/`search[date_max]`; invoice
fields for discounts, deposits, languages and the client details an invoice may override; client preferences
(late fees, e-mail options); payments' `clientid` (FreshBooks takes the invoice's).

The OAuth token and revocation endpoints and users/me declare theirs here too (TOKEN, REVOKE, ME: fakes/consent.py):
another field is OAuth's 400 `invalid_request`, another parameter of users/me FreshBooks' 400 (errno 1004), each
saying it is not supported by this fake.
"""

from __future__ import annotations

from collections.abc import Iterable

from acuity_sync_toolkit.fakes.consent import (
    CLIENT_ID,
    CLIENT_SECRET,
    CODE,
    GRANT_TYPE,
    REDIRECT_URI,
    REFRESH_TOKEN,
    TokenEndpoint,
)
from acuity_sync_toolkit.fakes.consent import TOKEN as TOKEN_FIELD
from acuity_sync_toolkit.fakes.parameters import (
    Fields,
    Ignored,
    Param,
    Query,
    Route,
    Routes,
    non_negative_int,
    one_of,
    positive_int,
    text,
)

PAGING = (Param("page", positive_int), Param("per_page", positive_int))
VIS_STATE = Param("search[vis_state]", one_of("0", "1", "2"))
COMPUTED = "computed by FreshBooks: what a client sends is not read"


def _search(*names: str, ids: Iterable[str] = ()) -> tuple[Param, ...]:
    """`search[name]` filters: text, or whole numbers for the ids."""
    numbers = set(ids)
    return tuple(Param(f"search[{name}]", non_negative_int if name in numbers else text) for name in names)


def _body(single: str, fields: Fields) -> Fields:
    """A body wrapped in the singular name: `{"invoice": {...}}`."""
    return Fields(f"{single} body", {single}, nested={single: fields})


MONEY = Fields("amount", {"amount", "code"})
CLIENT_DATA = (
    "fname",
    "lname",
    "email",
    "organization",
    "currency_code",
    "note",
    "mob_phone",
    "bus_phone",
    "home_phone",
    "fax",
    "p_street",
    "p_street2",
    "p_city",
    "p_province",
    "p_code",
    "p_country",
    "s_street",
    "s_street2",
    "s_city",
    "s_province",
    "s_code",
    "s_country",
    "vat_name",
    "vat_number",
    "language",
)
CLIENT = Fields(
    "client",
    CLIENT_DATA,
    ignored=dict.fromkeys(
        (
            "id",
            "userid",
            "accounting_systemid",
            "signup_date",
            "updated",
            "username",
            "uuid",
            "level",
            "role",
            "last_activity",
            "last_login",
            "num_logins",
            "notified",
            "direct_link_token",
            "statement_token",
            "has_retainer",
            "retainer_id",
            "subdomain",
        ),
        COMPUTED,
    ),
)
LINE = Fields(
    "line",
    {"type", "name", "description", "qty", "unit_cost", "taxName1", "taxAmount1", "taxName2", "taxAmount2"},
    ignored={"lineid": "FreshBooks numbers the lines itself", "amount": COMPUTED},
    nested={"unit_cost": MONEY},
    only={"type": (0,)},  # 1 is a rebilled expense: expenses are not modelled here
)
_INVOICE_DATA = ("customerid", "create_date", "invoice_number", "po_number", "notes", "terms", "due_offset_days")
_INVOICE_COMPUTED = dict.fromkeys(
    (
        "id",
        "invoiceid",
        "accountid",
        "accounting_systemid",
        "amount",
        "outstanding",
        "paid",
        "status",
        "v3_status",
        "display_status",
        "payment_status",
        "created_at",
        "updated",
    ),
    COMPUTED,
)
NEW_INVOICE = Fields(
    "invoice",
    {*_INVOICE_DATA, "currency_code", "lines"},
    ignored=_INVOICE_COMPUTED,
    nested={"lines": LINE},
)
INVOICE_CHANGE = Fields(
    "invoice",
    {
        *_INVOICE_DATA,
        "lines",
        "vis_state",
        "action_email",
        "email_recipients",
        "invoice_customized_email",
        "action_mark_as_sent",
    },
    ignored=_INVOICE_COMPUTED,
    nested={"lines": LINE, "invoice_customized_email": Fields("invoice_customized_email", {"subject", "body"})},
)
NEW_PAYMENT = Fields(
    "payment",
    {"invoiceid", "amount", "date", "type", "note"},
    ignored=dict.fromkeys(("id", "logid", "updated", "overpaymentid", "from_credit", "creditid"), COMPUTED),
    nested={"amount": MONEY},
)
PAYMENT_CHANGE = Fields("payment", {"vis_state"})
NEW_CREDIT_NOTE = Fields(
    "credit_note",
    {"clientid", "create_date", "currency_code", "notes", "credit_type", "lines"},
    ignored=dict.fromkeys(("id", "creditid", "credit_number", "status", "amount"), COMPUTED),
    nested={"lines": LINE},
)

ROUTES = Routes(
    Route(
        "GET",
        "users/clients",
        Query(
            (
                *PAGING,
                *_search("email", "fname_like", "lname_like", "organization_like", "userid", ids=("userid",)),
                VIS_STATE,
            )
        ),
    ),
    Route(
        "GET",
        "invoices/invoices",
        Query(
            (
                *PAGING,
                *_search(
                    "po_number",
                    "invoice_number",
                    "customerid",
                    "v3_status",
                    "notes_like",
                    "invoiceid",
                    ids=("customerid", "invoiceid"),
                ),
                VIS_STATE,
            )
        ),
    ),
    Route(
        "GET",
        "payments/payments",
        Query((*PAGING, *_search("invoiceid", "clientid", ids=("invoiceid", "clientid")), VIS_STATE)),
    ),
    Route("GET", "credit_notes/credit_notes", Query((*PAGING, *_search("clientid", ids=("clientid",)), VIS_STATE))),
    *(
        Route("GET", f"{resource}/{{id}}")
        for resource in ("users/clients", "invoices/invoices", "payments/payments", "credit_notes/credit_notes")
    ),
    Route("POST", "users/clients", body=_body("client", CLIENT)),
    Route("POST", "invoices/invoices", body=_body("invoice", NEW_INVOICE)),
    Route("PUT", "invoices/invoices/{id}", body=_body("invoice", INVOICE_CHANGE)),
    Route("POST", "payments/payments", body=_body("payment", NEW_PAYMENT)),
    Route("PUT", "payments/payments/{id}", body=_body("payment", PAYMENT_CHANGE)),
    Route("POST", "credit_notes/credit_notes", body=_body("credit_note", NEW_CREDIT_NOTE)),
)

# FreshBooks' OAuth endpoints (research xero_freshbooks.md B2; the SDK's client.py `_authorize_call`): the client in
# the body (JSON or a form), never in HTTP Basic (an Authorization header is refused); no PKCE (code_verifier is
# refused).
TOKEN = TokenEndpoint(
    by_code=Query((GRANT_TYPE, CODE, REDIRECT_URI, CLIENT_ID, CLIENT_SECRET), refused_headers=("Authorization",)),
    by_refresh=Query(
        (GRANT_TYPE, REFRESH_TOKEN, CLIENT_ID, CLIENT_SECRET),
        ignored=(
            Ignored(
                "redirect_uri",
                "FreshBooks' SDK sends it with a refresh too (client.py _authorize_call); the refresh token alone "
                "names the grant, and no source says FreshBooks checks it there",
            ),
        ),
        refused_headers=("Authorization",),
    ),
)
# POST /auth/oauth/revoke `{client_id, client_secret, token}` (research B2).
REVOKE = Query((CLIENT_ID, CLIENT_SECRET, TOKEN_FIELD), refused_headers=("Authorization",))
# GET /auth/api/v1/users/me: no parameter.
ME = Query()
