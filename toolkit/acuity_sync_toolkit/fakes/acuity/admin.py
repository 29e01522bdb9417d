"""The fake Acuity's admin endpoints (`/_admin/...`, no auth, not rate limited): a business's actions and the
test's controls, as `AcuityAdmin` (acuity_admin.py) calls them.

    POST  /_admin/accounts                 {"user_id", "api_key", "name"?, "email"?, "timezone"?, "currency"?,
                                            "action_format"?, "plan"?} -> 201 the account (200 when it existed)
    POST  /_admin/appointments?account=N   a partial appointment in Acuity's shape -> 201 the appointment
    PATCH /_admin/appointments/{id}?account=N   changes -> the appointment
    POST  /_admin/orders?account=N         a partial order -> 201 the order
        each of these three also takes `deliver=false`: the change is made but no webhook is delivered, as when
        Acuity's delivery fails for good (what reconciliation is for); `deliver=true` is the default
    POST  /_admin/certificates?account=N   {"certificate", "type": "package"|"gift"|"subscription"|"coupon", ...}
                                           -> 201 the code as GET /certificates/check shows it (certificates.py)
    GET   /_admin/deliveries[?account=N]   every webhook delivery attempt, oldest first
    GET   /_admin/clock, POST /_admin/clock {"advance": seconds} -> {"now", "monotonic"}

Each route's query parameters and body fields are declared in accepted.py (ADMIN): anything else is a 400 saying
it is not supported by this fake.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from acuity_sync_toolkit.fakes.acuity.accepted import check_admin, read_admin_change
from acuity_sync_toolkit.fakes.acuity.errors import METHOD_NOT_ALLOWED, bad_request, not_found
from acuity_sync_toolkit.fakes.acuity.fields import ACCOUNT_PROFILE_FIELDS, check_known_fields
from acuity_sync_toolkit.fakes.acuity.params import account_param, int_param, json_object, path_id
from acuity_sync_toolkit.fakes.httpserver import Request, Response, Router, json_response

if TYPE_CHECKING:
    from acuity_sync_toolkit.fakes.acuity.server import FakeAcuity


def admin_router(fake: FakeAcuity) -> Router:
    """Routes whose handlers raise FakeAcuityError for the fake to answer."""
    admin = _Admin(fake)
    router = Router(not_found=_not_found, method_not_allowed=_method_not_allowed, before=check_admin)
    router.add("POST", "/_admin/accounts", admin.create_account)
    router.add("POST", "/_admin/appointments", admin.book)
    router.add("PATCH", "/_admin/appointments/{id}", admin.change)
    router.add("POST", "/_admin/orders", admin.order)
    router.add("POST", "/_admin/certificates", admin.certificate)
    router.add("GET", "/_admin/deliveries", admin.deliveries)
    router.add("GET", "/_admin/clock", admin.clock)
    router.add("POST", "/_admin/clock", admin.clock)
    return router


class _Admin:
    def __init__(self, fake: FakeAcuity) -> None:
        self._fake = fake

    def create_account(self, request: Request) -> Response:
        body = json_object(request)
        check_known_fields(body, {"user_id", "api_key", *ACCOUNT_PROFILE_FIELDS})
        user_id, api_key = body.get("user_id"), body.get("api_key")
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            raise bad_request("user_id must be an integer.")
        if not isinstance(api_key, str):
            raise bad_request("api_key must be a string.")
        profile: dict[str, str] = {}
        for key in ACCOUNT_PROFILE_FIELDS & set(body):
            if not isinstance(body[key], str):
                raise bad_request(f"{key} must be a string.")
            profile[key] = body[key]
        existed = self._fake.has_account(user_id)
        account = self._fake.add_account(user_id, api_key, **profile)
        return json_response(account, status=200 if existed else 201)

    def book(self, request: Request) -> Response:
        account, deliver = _change_params(request)
        booked = self._fake.book_appointment(account, json_object(request), deliver=deliver)
        return json_response(booked, status=201)

    def change(self, request: Request) -> Response:
        account, deliver = _change_params(request)
        appointment_id = path_id(request, "appointments")
        changes = json_object(request)
        return json_response(self._fake.change_appointment(account, appointment_id, changes, deliver=deliver))

    def order(self, request: Request) -> Response:
        account, deliver = _change_params(request)
        return json_response(self._fake.complete_order(account, json_object(request), deliver=deliver), status=201)

    def certificate(self, request: Request) -> Response:
        return json_response(self._fake.add_certificate(account_param(request), json_object(request)), status=201)

    def deliveries(self, request: Request) -> Response:
        account = request.query_one("account")
        return json_response(self._fake.deliveries(int_param(account, "account") if account is not None else None))

    def clock(self, request: Request) -> Response:
        clock = self._fake.clock
        if request.method == "POST":
            body = json_object(request)
            seconds = body.get("advance")
            if isinstance(seconds, bool) or not isinstance(seconds, int | Decimal) or seconds < 0:
                raise bad_request("advance must be a non-negative number of seconds.")
            clock.advance(float(seconds))
        return json_response({"now": clock.now().isoformat(), "monotonic": clock.monotonic()})


def _change_params(request: Request) -> tuple[int, bool]:
    """`account` (required) and `deliver` (default true) of a business's change; anything else is refused
    (accepted.ADMIN_CHANGE)."""
    values = read_admin_change(request)
    return account_param(request), bool(values.get("deliver", True))


def _not_found(request: Request) -> Response:  # noqa: ARG001 - a Router hook
    return not_found("No such admin endpoint.").response()


def _method_not_allowed(request: Request, allowed: list[str]) -> Response:  # noqa: ARG001 - a Router hook
    return METHOD_NOT_ALLOWED.response()
