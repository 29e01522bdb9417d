"""The fake Acuity server: the API (api.py) behind Acuity's limits, the admin endpoints (admin.py), the state
(state.py) and webhook delivery (delivery.py) put together.

Limits: 10 requests a second (a sliding window on the clock) and 20 concurrent ones per client IP, for all accounts
together; over either, Acuity's 429. Planned faults (`plan_fault`, by account user id as text) are taken after the
limits and authentication and answer Acuity's error body with the status asked for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, Self

from acuity_sync_toolkit.fakes.acuity.admin import admin_router
from acuity_sync_toolkit.fakes.acuity.api import API_PREFIX, AcuityApi
from acuity_sync_toolkit.fakes.acuity.delivery import WebhookDelivery
from acuity_sync_toolkit.fakes.acuity.entities import AccountProfile
from acuity_sync_toolkit.fakes.acuity.errors import TOO_MANY_REQUESTS, FakeAcuityError, JsonObject
from acuity_sync_toolkit.fakes.acuity.state import AcuityState
from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.httpserver import Request, Response
from acuity_sync_toolkit.fakes.limits import RateLimiter, Window
from acuity_sync_toolkit.fakes.service import FakeService


class FakeAcuity(FakeService):
    """The fake Acuity API server. `start()` it (or use `with`), point clients at `url`, drive it via /_admin or the
    same methods in-process (those are not rate limited)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: FakeClock | None = None,
        rate_limit_per_second: int = 10,
        max_concurrent: int = 20,
        retry_delays: Sequence[float] = (1.0, 2.0, 4.0, 8.0, 16.0),
        delivery_timeout: float = 5.0,
    ) -> None:
        super().__init__(host, port, clock=clock)
        self._limiter = RateLimiter(
            self.clock, (Window("second", rate_limit_per_second, 1.0),), max_concurrent=max_concurrent
        )
        self._state = AcuityState(self.clock)
        self._delivery = WebhookDelivery(
            self._state, self.clock, retry_delays=retry_delays, delivery_timeout=delivery_timeout
        )
        self._api = AcuityApi(self._state)
        self._admin = admin_router(self)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        if self.running:
            raise RuntimeError("FakeAcuity already started")
        self._delivery.start()
        return super().start()

    def stop(self) -> None:
        self._delivery.stop_retrying()
        super().stop()
        self._delivery.close()

    @property
    def api_url(self) -> str:
        return f"{self.url}{API_PREFIX}"

    # ------------------------------------------------------------------ the business's actions (also via /_admin)

    def add_account(
        self,
        user_id: int,
        api_key: str,
        *,
        name: str = "Acuity Test Studio",
        email: str | None = None,
        timezone: str = "America/New_York",
        currency: str = "USD",
        action_format: str = "plain",
        plan: str = "Powerhouse",
    ) -> JsonObject:
        """Create an account, or update the profile and key of an existing one (its data is kept)."""
        profile = AccountProfile(name, email, timezone, currency, action_format, plan)
        return self._state.add_account(user_id, api_key, profile)

    def has_account(self, user_id: int) -> bool:
        return self._state.has_account(user_id)

    def book_appointment(self, account_id: int, fields: Mapping[str, Any], *, deliver: bool = True) -> JsonObject:
        """Book an appointment from a partial one in Acuity's shape; fires scheduled then changed (`deliver=False`:
        fires nothing, as when Acuity's delivery fails for good)."""
        rendered, notifications = self._state.book_appointment(account_id, fields)
        if deliver:
            self._delivery.deliver(notifications)
        return rendered

    def change_appointment(
        self, account_id: int, appointment_id: int, changes: Mapping[str, Any], *, deliver: bool = True
    ) -> JsonObject:
        """Change an appointment as the business would; fires rescheduled/canceled (when so) then changed
        (`deliver=False`: fires nothing)."""
        rendered, notifications = self._state.change_appointment(account_id, appointment_id, changes)
        if deliver:
            self._delivery.deliver(notifications)
        return rendered

    def complete_order(self, account_id: int, fields: Mapping[str, Any], *, deliver: bool = True) -> JsonObject:
        """Record a completed order (package, gift certificate, subscription); fires order.completed
        (`deliver=False`: fires nothing)."""
        rendered, notifications = self._state.complete_order(account_id, fields)
        if deliver:
            self._delivery.deliver(notifications)
        return rendered

    def add_certificate(self, account_id: int, fields: Mapping[str, Any]) -> JsonObject:
        """A package, gift certificate, subscription or coupon code (certificates.py says which fields)."""
        return self._state.add_certificate(account_id, fields)

    def serve_raw(self, account_id: int, appointment_id: int, fields: Mapping[str, Any]) -> None:
        """A test's control: the API answers these fields of the appointment as given (`entities.OMIT` leaves one
        out), standing for data Acuity should not send (a negative or sub-cent price, none at all)."""
        self._state.serve_raw(account_id, appointment_id, fields)

    # ------------------------------------------------------------------ inspection (for tests)

    def deliveries(self, account_id: int | None = None) -> list[JsonObject]:
        """Every delivery attempt, oldest first (of one account, or of all)."""
        return self._state.deliveries(account_id)

    def pending_retries(self) -> int:
        return self._delivery.pending_retries()

    def next_retry_in(self) -> float | None:
        """Seconds on the clock until the next delivery retry is due; None when none waits."""
        return self._delivery.next_retry_in()

    def me(self, account_id: int) -> JsonObject:
        """As GET /api/v1/me answers the account."""
        return self._state.me(account_id)

    def appointment(self, account_id: int, appointment_id: int) -> JsonObject:
        return self._state.appointment(account_id, appointment_id)

    def payments(self, account_id: int, appointment_id: int) -> list[JsonObject]:
        """As GET /api/v1/appointments/{id}/payments returns them."""
        return self._state.payments(account_id, appointment_id)

    # ------------------------------------------------------------------ HTTP

    def _handle(self, request: Request) -> Response:
        try:
            if request.path == "/_admin" or request.path.startswith("/_admin/"):
                return self._admin(request)
            return self._limited(request)
        except FakeAcuityError as error:
            return error.response()

    def _limited(self, request: Request) -> Response:
        if not self._limiter.acquire(request.client_host).allowed:
            return TOO_MANY_REQUESTS.response()
        try:
            return self._planned_fault(request) or self._api(request)
        except FakeAcuityError as error:
            return error.response()
        finally:
            self._limiter.release(request.client_host)

    def _planned_fault(self, request: Request) -> Response | None:
        """The answer of a fault planned for the authenticated account, if one is due."""
        try:
            account = self._api.authenticate(request)
        except FakeAcuityError:
            return None  # the API answers it 401
        fault = self.faults.take(str(account.user_id), request.path)
        if fault is None or fault.status is None:
            return None
        if fault.status == TOO_MANY_REQUESTS.status_code:
            error = TOO_MANY_REQUESTS
        else:
            error = FakeAcuityError(fault.status, _error_name(fault.status), "Planned fault.")
        response = error.response()
        if fault.retry_after is None:
            return response
        return Response(response.status, response.body, (*response.headers, ("Retry-After", str(fault.retry_after))))


def _error_name(status: int) -> str:
    """503 -> `service_unavailable`: the reason phrase, named as Acuity names its errors (`not_found`)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "error"
    return phrase.lower().replace(" ", "_").replace("-", "_")
