"""What each route of the fake Acuity's API applies (fakes/parameters.py): any other query parameter or body field
is refused with Acuity's 400 `bad_request`, saying it is not supported by this fake.

Acuity documents more than the fake applies (../shared/research/acuity.md §3.3, §4.2): `GET /appointments` also
takes `firstName`, `lastName`, `phone`, `field:{id}` and (UNCONFIRMED) `showall`, `includePayments`, `page`;
`GET /appointments/{id}` takes `pastFormAnswers`. Those are refused here.

The test controls under /_admin declare theirs too (ADMIN): a business's change (book, change, order) takes `account`
and `deliver` (false: no webhook, as when Acuity's delivery fails for good); a code and the delivery log take
`account`; the clock takes nothing; each body only the fields its handler reads.
"""

from __future__ import annotations

from typing import Any

from acuity_sync_toolkit.fakes.acuity.certificates import ADMIN_FIELDS
from acuity_sync_toolkit.fakes.acuity.errors import bad_request
from acuity_sync_toolkit.fakes.acuity.fields import ACCOUNT_PROFILE_FIELDS, APPOINTMENT_FIELDS, ORDER_DETAIL_FIELDS
from acuity_sync_toolkit.fakes.httpserver import Request
from acuity_sync_toolkit.fakes.parameters import (
    Fields,
    NotSupported,
    Param,
    Query,
    Route,
    Routes,
    Unreadable,
    boolean_or_digit,
    date_prefix,
    integer,
    nonempty_text,
    one_of,
    positive_int,
    text,
)

API = "/api/v1"
COUNT = Param("max", positive_int)

ROUTES = Routes(
    Route("GET", f"{API}/me"),
    Route(
        "GET",
        f"{API}/appointments",
        Query(
            (
                Param("minDate", date_prefix),
                Param("maxDate", date_prefix),
                Param("canceled", boolean_or_digit),
                COUNT,
                Param("direction", one_of("ASC", "DESC", fold_case=True)),
                Param("calendarID", integer),
                Param("appointmentTypeID", integer),
                Param("email", text),
                Param("excludeForms", boolean_or_digit),
            )
        ),
    ),
    Route("GET", f"{API}/appointments/{{id}}"),
    Route("GET", f"{API}/appointments/{{id}}/payments"),
    Route("GET", f"{API}/orders", Query((COUNT,))),
    Route("GET", f"{API}/orders/{{id}}"),
    Route(
        "GET",
        f"{API}/certificates",
        Query(
            (
                Param("email", text),
                Param("appointmentTypeID", integer),
                Param("orderID", integer),
                Param("productID", integer),
            )
        ),
    ),
    Route(
        "GET",
        f"{API}/certificates/check",
        Query((Param("certificate", nonempty_text), Param("appointmentTypeID", integer))),
    ),
    Route("GET", f"{API}/webhooks"),
    Route("POST", f"{API}/webhooks", body=Fields("webhook", {"event", "target"})),
    Route("DELETE", f"{API}/webhooks/{{id}}"),
)


# The test controls under /_admin (admin.py): a business's change (book, change, order) takes `account` and
# `deliver`; a code, `account`; the delivery log, an optional `account`; the clock, nothing. Each body's fields are
# the ones its handler reads (an appointment's and an order's are those Acuity has, fields.py).
ADMIN_CHANGE = Query((Param("account", integer), Param("deliver", boolean_or_digit)))
ACCOUNT = Query((Param("account", integer),))
ADMIN = Routes(
    Route("POST", "/_admin/accounts", body=Fields("account", {"user_id", "api_key", *ACCOUNT_PROFILE_FIELDS})),
    Route("POST", "/_admin/appointments", ADMIN_CHANGE, Fields("appointment", APPOINTMENT_FIELDS)),
    Route("PATCH", "/_admin/appointments/{id}", ADMIN_CHANGE, Fields("appointment", APPOINTMENT_FIELDS)),
    Route(
        "POST", "/_admin/orders", ADMIN_CHANGE, Fields("order", {"id", "total", "status", "time", *ORDER_DETAIL_FIELDS})
    ),
    Route("POST", "/_admin/certificates", ACCOUNT, Fields("certificate", ADMIN_FIELDS)),
    Route("GET", "/_admin/deliveries", ACCOUNT),
    Route("GET", "/_admin/clock"),
    Route("POST", "/_admin/clock", body=Fields("clock", {"advance"})),
)


def check(pattern: str, request: Request) -> None:
    """Acuity's 400 for what the route does not apply (or cannot read): the router's `before` hook."""
    try:
        ROUTES.for_pattern(request.method, pattern).read(request.query, request.headers, request.body)
    except (NotSupported, Unreadable) as refused:
        raise bad_request(str(refused)) from None


def check_admin(pattern: str, request: Request) -> None:
    """The same for the admin routes (ADMIN): the admin router's `before` hook."""
    try:
        ADMIN.for_pattern(request.method, pattern).read(request.query, request.headers, request.body)
    except (NotSupported, Unreadable) as refused:
        raise bad_request(str(refused)) from None


def read_admin_change(request: Request) -> dict[str, Any]:
    """The values of an admin change's query (ADMIN_CHANGE); Acuity's 400 for anything else."""
    try:
        return ADMIN_CHANGE.read(request.query, where=f"{request.method} {request.path}")
    except (NotSupported, Unreadable) as refused:
        raise bad_request(str(refused)) from None
