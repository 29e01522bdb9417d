"""The fake Acuity's API under /api/v1: HTTP Basic auth (numeric user id, API key), every account seeing only its
own data; /me, appointments (with Acuity's filters), payments, orders, codes (certificates.py) and webhook
subscriptions."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from acuity_sync_toolkit.fakes.acuity import accepted
from acuity_sync_toolkit.fakes.acuity.entities import Account, Appointment, render_appointment, render_order
from acuity_sync_toolkit.fakes.acuity.errors import (
    METHOD_NOT_ALLOWED,
    UNAUTHORIZED,
    FakeAcuityError,
    bad_request,
    not_found,
)
from acuity_sync_toolkit.fakes.acuity.formats import parse_date_param
from acuity_sync_toolkit.fakes.acuity.params import (
    account_credentials,
    bool_param,
    int_param,
    json_object,
    max_param,
    path_id,
)
from acuity_sync_toolkit.fakes.acuity.state import AcuityState
from acuity_sync_toolkit.fakes.acuity.webhooks import WEBHOOK_EVENTS
from acuity_sync_toolkit.fakes.httpserver import Request, Response, Router, empty, json_response

API_PREFIX = "/api/v1"
API_PLANS = frozenset({"Powerhouse"})  # the plans whose accounts the API answers


class AcuityApi:
    """The API's routes over the state; `__call__` answers a request (errors raise FakeAcuityError)."""

    def __init__(self, state: AcuityState) -> None:
        self._state = state
        router = Router(not_found=self._not_found, method_not_allowed=self._method_not_allowed, before=self._accepts)
        router.add("GET", f"{API_PREFIX}/me", self._get_me)
        router.add("GET", f"{API_PREFIX}/appointments", self._list_appointments)
        router.add("GET", f"{API_PREFIX}/appointments/{{id}}", self._get_appointment)
        router.add("GET", f"{API_PREFIX}/appointments/{{id}}/payments", self._get_payments)
        router.add("GET", f"{API_PREFIX}/orders", self._list_orders)
        router.add("GET", f"{API_PREFIX}/orders/{{id}}", self._get_order)
        router.add("GET", f"{API_PREFIX}/certificates", self._list_certificates)
        router.add("GET", f"{API_PREFIX}/certificates/check", self._check_certificate)
        router.add("GET", f"{API_PREFIX}/webhooks", self._list_webhooks)
        router.add("POST", f"{API_PREFIX}/webhooks", self._create_webhook)
        router.add("DELETE", f"{API_PREFIX}/webhooks/{{id}}", self._delete_webhook)
        self._router = router

    def __call__(self, request: Request) -> Response:
        return self._router(request)

    def authenticate(self, request: Request) -> Account:
        """The account whose user id and API key the request carries, or Acuity's 401."""
        user_id, api_key = account_credentials(request)
        account = self._state.find_account(user_id) if user_id is not None else None
        if account is None or api_key is None:
            raise UNAUTHORIZED
        if not hmac.compare_digest(account.api_key.encode("utf-8"), api_key.encode("utf-8")):
            raise UNAUTHORIZED
        if account.plan not in API_PLANS:
            # research/acuity.md §5.4 (unconfirmed wording, the one source quotes it): plans without API access
            # answer 403 to every request.
            raise FakeAcuityError(403, "forbidden", "API access is only available on Powerhouse plans")
        return account

    def _accepts(self, pattern: str, request: Request) -> None:
        """Every parameter and body field is applied or refused (accepted.py): after authentication, as Acuity
        answers 401 before anything else."""
        self.authenticate(request)
        accepted.check(pattern, request)

    def _not_found(self, request: Request) -> Response:
        self.authenticate(request)
        return not_found("Not Found").response()

    def _method_not_allowed(self, request: Request, allowed: list[str]) -> Response:  # noqa: ARG002
        self.authenticate(request)
        return METHOD_NOT_ALLOWED.response()

    # ------------------------------------------------------------------ routes

    def _get_me(self, request: Request) -> Response:
        return json_response(self._state.me(self.authenticate(request).user_id))

    def _get_appointment(self, request: Request) -> Response:
        account = self.authenticate(request)
        appointment_id = path_id(request, "appointments")
        with self._state.lock:
            appointment = account.appointments.get(appointment_id)
            if appointment is None:
                raise not_found("Appointment not found.")
            return json_response(render_appointment(appointment, account.user_id))

    def _get_payments(self, request: Request) -> Response:
        account = self.authenticate(request)
        appointment_id = path_id(request, "appointments")
        if appointment_id not in account.appointments:
            raise not_found("Appointment not found.")
        return json_response(self._state.payments(account.user_id, appointment_id))

    def _list_appointments(self, request: Request) -> Response:
        account = self.authenticate(request)
        wanted = _AppointmentQuery.from_request(request)
        with self._state.lock:
            matching = [appointment for appointment in account.appointments.values() if wanted.matches(appointment)]
            matching.sort(key=lambda appointment: (appointment.start, appointment.id), reverse=wanted.descending)
            rendered = [render_appointment(a, account.user_id) for a in matching[: wanted.max]]
        if wanted.exclude_forms:
            for appointment in rendered:
                appointment.pop("forms", None)
        return json_response(rendered)

    def _list_orders(self, request: Request) -> Response:
        account = self.authenticate(request)
        limit = max_param(request)
        with self._state.lock:
            orders = sorted(account.orders.values(), key=lambda order: (order.time, order.id), reverse=True)
            return json_response([render_order(order, account.zone) for order in orders[:limit]])

    def _get_order(self, request: Request) -> Response:
        account = self.authenticate(request)
        order_id = path_id(request, "orders")
        with self._state.lock:
            order = account.orders.get(order_id)
            if order is None:
                raise not_found("Order not found.")
            return json_response(render_order(order, account.zone))

    def _list_certificates(self, request: Request) -> Response:
        account = self.authenticate(request)
        query = {name: request.query_one(name) for name in ("email", "appointmentTypeID", "orderID", "productID")}
        for name in ("appointmentTypeID", "orderID", "productID"):
            if query[name]:
                int_param(query[name], name)
        return json_response(self._state.certificates(account.user_id, query))

    def _check_certificate(self, request: Request) -> Response:
        account = self.authenticate(request)
        type_id = request.query_one("appointmentTypeID")
        appointment_type_id = int_param(type_id, "appointmentTypeID") if type_id else None
        return json_response(
            self._state.check_certificate(account.user_id, request.query_one("certificate"), appointment_type_id)
        )

    def _list_webhooks(self, request: Request) -> Response:
        account = self.authenticate(request)
        with self._state.lock:
            return json_response([hook.as_json() for hook in account.webhooks.values()])

    def _create_webhook(self, request: Request) -> Response:
        account = self.authenticate(request)
        body = json_object(request)
        event, target = body.get("event"), body.get("target")
        if event not in WEBHOOK_EVENTS:
            raise bad_request(f"Invalid event. Valid events are: {', '.join(WEBHOOK_EVENTS)}.")
        if not isinstance(target, str) or not target.startswith(("http://", "https://")):
            raise bad_request("target must be an http or https URL.")
        return json_response(self._state.add_webhook(account, str(event), target).as_json())

    def _delete_webhook(self, request: Request) -> Response:
        account = self.authenticate(request)
        self._state.remove_webhook(account, path_id(request, "webhooks"))
        return empty(204)


@dataclass(frozen=True, slots=True)
class _AppointmentQuery:
    """GET /appointments filters: dates compare with the appointment's local date in its calendar's zone."""

    min_date: date | None
    max_date: date | None
    canceled: bool
    max: int
    descending: bool
    calendar_id: int | None
    appointment_type_id: int | None
    email: str | None
    exclude_forms: bool

    @classmethod
    def from_request(cls, request: Request) -> _AppointmentQuery:
        direction = (request.query_one("direction") or "DESC").upper()  # ASC or DESC (accepted.py)
        min_date, max_date = request.query_one("minDate"), request.query_one("maxDate")
        calendar_id, type_id = request.query_one("calendarID"), request.query_one("appointmentTypeID")
        return cls(
            min_date=parse_date_param(min_date, "minDate") if min_date else None,
            max_date=parse_date_param(max_date, "maxDate") if max_date else None,
            canceled=bool_param(request, "canceled", default=False),
            max=max_param(request),
            descending=direction == "DESC",
            calendar_id=int_param(calendar_id, "calendarID") if calendar_id else None,
            appointment_type_id=int_param(type_id, "appointmentTypeID") if type_id else None,
            email=request.query_one("email") or None,
            exclude_forms=bool_param(request, "excludeForms", default=False),
        )

    def matches(self, appointment: Appointment) -> bool:
        local_date = appointment.start.astimezone(ZoneInfo(appointment.calendar_timezone)).date()
        details = appointment.details
        return (
            appointment.canceled == self.canceled
            and (self.min_date is None or local_date >= self.min_date)
            and (self.max_date is None or local_date <= self.max_date)
            and (self.calendar_id is None or details["calendarID"] == self.calendar_id)
            and (self.appointment_type_id is None or details["appointmentTypeID"] == self.appointment_type_id)
            and (self.email is None or str(details["email"]).lower() == self.email.lower())
        )
