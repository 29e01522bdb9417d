"""Acuity's API (https://acuityscheduling.com/api/v1), read with HTTP Basic auth (numeric user id, API key).

Every failure becomes one of a few exceptions whose text a business owner can act on. No exception text and no
log line holds the API key (a `Secret`, revealed only into the Authorization header) or an e-mail address
(Acuity's own error messages are redacted before they are quoted). The client does not retry and does not
sleep: the caller owns the budget (store/budgets.py) and decides between waiting, backing off and parking.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from acuity_sync.acuity.models import AccountInfo, Appointment, Certificate, Order, Payment, Webhook
from acuity_sync.domain.billable import CodeKind
from acuity_sync.domain.budget import Budget
from acuity_sync.observability import redact
from acuity_sync.secret import Secret

logger = logging.getLogger(__name__)

API_PATH = "/api/v1"
# Acuity: 10 requests a second and 20 concurrent per egress IP, for all tenants together. 7/s + burst 2 = at most
# 9 in any one second, a margin of one for clock skew between Lambdas. (The sync functions take from it in the
# table before each fetch: store/budgets.py.)
ACUITY_BUDGET = Budget(rate_per_second=7.0, burst=2.0, max_concurrent=20)
DEFAULT_RETRY_AFTER = 1.0  # Acuity's window is one second; it sends no Retry-After that we know of
MAX_RETRY_AFTER = 3600.0  # a Retry-After beyond an hour is not believed
_QUOTED_MESSAGE_CHARS = 200

_ModelT = TypeVar("_ModelT", bound=BaseModel)


# ------------------------------------------------------------------------------------------------ errors


class AcuityError(Exception):
    """Base of every failure of a call to Acuity; `str()` is a sentence for the business owner."""

    retryable: bool = False


class AcuityNotFound(AcuityError):
    """404: the appointment, order or webhook is not (or no longer) in Acuity."""

    def __init__(self, kind: str, object_id: int | None, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.object_id = object_id


class AcuityCredentialsRefused(AcuityError):
    """401: the user id or API key is wrong (or the key was regenerated)."""


class AcuityForbidden(AcuityError):
    """403: the credentials are valid but may not do this (e.g. the plan has no API access)."""


class AcuityRateLimited(AcuityError):
    """429: Acuity's 10 requests a second (per IP, for all tenants) was exceeded; try again after `retry_after`."""

    retryable = True

    def __init__(self, retry_after: float, message: str) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AcuityUnavailable(AcuityError):
    """5xx, a timeout or a connection failure: try again later."""

    retryable = True


class AcuityBadResponse(AcuityError):
    """Acuity answered with a body we cannot read (not JSON, or not the shape we expect)."""


class AcuityBadData(AcuityBadResponse):
    """Acuity's JSON does not say what we must read exactly (a missing, negative or sub-cent price, a date-time
    without an offset...): retrying reads the same, so the event is parked with this text until Acuity changes."""


class AcuityRejected(AcuityError):
    """Another 4xx (400, 405, ...): Acuity refused the request; `acuity_message` is its own words (redacted)."""

    def __init__(self, status_code: int, acuity_message: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.acuity_message = acuity_message


# ------------------------------------------------------------------------------------------------ the client


class AcuityClient:
    """One tenant's view of Acuity. Pass `http` to share a connection pool (the caller then closes it)."""

    def __init__(
        self,
        base_url: str,
        user_id: str | int,
        api_key: Secret,
        *,
        http: httpx.Client | None = None,
        timeout: float = 10.0,
    ) -> None:
        base = base_url.rstrip("/")
        # The tenant profile stores the site ("https://acuityscheduling.com"); accept the API root as well.
        self._api_root = base if base.endswith(API_PATH) else f"{base}{API_PATH}"
        self._user_id = str(user_id)
        self._api_key = api_key
        self._timeout = timeout
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=timeout, follow_redirects=False)

    def __repr__(self) -> str:
        return f"AcuityClient({self._api_root!r}, user_id={self._user_id!r})"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -------------------------------------------------------------------------------------------- the API

    def me(self) -> AccountInfo:
        return self._one(AccountInfo, self._get("/me", subject=("account", None)), "/me")

    def appointment(self, appointment_id: int) -> Appointment:
        path = f"/appointments/{int(appointment_id)}"
        return self._one(Appointment, self._get(path, subject=("appointment", appointment_id)), path)

    def appointment_payments(self, appointment_id: int) -> list[Payment]:
        path = f"/appointments/{int(appointment_id)}/payments"
        return self._many(Payment, self._get(path, subject=("appointment", appointment_id)), path)

    def appointments(
        self,
        min_date: date | None = None,
        max_date: date | None = None,
        canceled: bool = False,
        max: int = 100,  # Acuity's own parameter name
        direction: str | None = None,
    ) -> list[Appointment]:
        """Appointments whose local date is within [min_date, max_date]; canceled ones only when `canceled`; at most
        `max`, latest first unless `direction` is "ASC" (acuity/listing.py pages through a window with it)."""
        params: dict[str, str] = {"max": str(int(max))}
        if min_date is not None:
            params["minDate"] = min_date.isoformat()
        if max_date is not None:
            params["maxDate"] = max_date.isoformat()
        if canceled:
            params["canceled"] = "true"
        if direction is not None:
            if direction not in ("ASC", "DESC"):
                raise ValueError("direction is ASC or DESC")
            params["direction"] = direction
        return self._many(Appointment, self._get("/appointments", params=params), "/appointments")

    def appointment_page(
        self, min_date: date, max_date: date, *, canceled: bool, max: int, direction: str = "ASC"
    ) -> tuple[list[Appointment], int]:
        """One page of appointments() read one appointment at a time: those that can be read, and how many Acuity
        sent (a page with an appointment we cannot read still pages on; that one is the webhook's to park)."""
        params = {"minDate": min_date.isoformat(), "maxDate": max_date.isoformat(), "max": str(int(max))}
        params["direction"] = direction
        if canceled:
            params["canceled"] = "true"
        body = self._get("/appointments", params=params)
        if not isinstance(body, list):
            raise AcuityBadResponse("Acuity sent a list of appointments we could not read (GET /appointments).")
        readable = []
        for item in body:
            try:
                readable.append(Appointment.model_validate(item))
            except ValidationError:
                continue
        return readable, len(body)

    def order(self, order_id: int) -> Order:
        path = f"/orders/{int(order_id)}"
        return self._one(Order, self._get(path, subject=("order", order_id)), path)

    def orders(self, max: int = 100) -> list[Order]:  # Acuity's own parameter name
        """The most recent orders first."""
        return self._many(Order, self._get("/orders", params={"max": str(int(max))}), "/orders")

    def check_certificate(self, code: str, appointment_type_id: int | None = None) -> Certificate | None:
        """GET /certificates/check: the code as Acuity knows it; None when Acuity refuses it as a code (400, 404:
        unknown, expired or used up)."""
        params = {"certificate": code}
        if appointment_type_id is not None:
            params["appointmentTypeID"] = str(int(appointment_type_id))
        try:
            body = self._get("/certificates/check", params=params)
        except (AcuityRejected, AcuityNotFound):
            return None
        return self._one(Certificate, body, "/certificates/check")

    def certificates(
        self, *, email: str | None = None, appointment_type_id: int | None = None, order_id: int | None = None
    ) -> list[Certificate]:
        """GET /certificates: the account's package, gift certificate and subscription codes (used up ones too)."""
        params: dict[str, str] = {}
        if email:
            params["email"] = email
        if appointment_type_id is not None:
            params["appointmentTypeID"] = str(int(appointment_type_id))
        if order_id is not None:
            params["orderID"] = str(int(order_id))
        return self._many(Certificate, self._get("/certificates", params=params), "/certificates")

    def code_kind(self, code: str, appointment_type_id: int | None = None, email: str | None = None) -> CodeKind:
        """What a code on an appointment is: checked first (one call; coupons and codes with uses left); a code
        the check refuses (a package whose last use this very booking took) is looked for among the client's
        certificates. UNKNOWN when neither knows it."""
        checked = self.check_certificate(code, appointment_type_id)
        if checked is not None:
            return checked.kind
        listed = self.certificates(email=email) if email else self.certificates(appointment_type_id=appointment_type_id)
        found = next((certificate for certificate in listed if certificate.is_code(code)), None)
        return found.kind if found is not None else CodeKind.UNKNOWN

    def create_webhook(self, event: str, target: str) -> Webhook:
        """Subscribe `target` to `event` (e.g. "appointment.changed"); Acuity allows 25 per account (else 400)."""
        body = self._request("POST", "/webhooks", json_body={"event": event, "target": target})
        return self._one(Webhook, body, "/webhooks")

    def webhooks(self) -> list[Webhook]:
        return self._many(Webhook, self._get("/webhooks"), "/webhooks")

    def delete_webhook(self, webhook_id: int) -> None:
        self._request("DELETE", f"/webhooks/{int(webhook_id)}", subject=("webhook", webhook_id), expect_body=False)

    # -------------------------------------------------------------------------------------------- plumbing

    def _get(
        self, path: str, *, params: Mapping[str, str] | None = None, subject: tuple[str, int | None] | None = None
    ) -> Any:
        return self._request("GET", path, params=params, subject=subject)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
        subject: tuple[str, int | None] | None = None,
        expect_body: bool = True,
    ) -> Any:
        """The parsed JSON body of a 2xx answer; an AcuityError otherwise."""
        what = f"{method} {path}"  # never the query: it could hold an e-mail filter
        try:
            response = self._http.request(
                method,
                f"{self._api_root}{path}",
                params=params,
                json=json_body,
                auth=httpx.BasicAuth(self._user_id, self._api_key.reveal()),
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except httpx.TimeoutException:
            raise AcuityUnavailable(f"Acuity did not answer within {self._timeout:g} s ({what}).") from None
        except httpx.DecodingError:
            raise AcuityBadResponse(f"Acuity sent a response that could not be decoded ({what}).") from None
        except httpx.HTTPError as error:
            # `from None`: httpx's text can quote the URL; ours says enough.
            raise AcuityUnavailable(f"Could not reach Acuity ({what}: {type(error).__name__}).") from None
        logger.debug("acuity %s -> %s", what, response.status_code)
        if response.is_success:
            if not expect_body or not response.content:
                return None
            return self._decode(response, what)
        raise self._error_for(response, what, subject)

    @staticmethod
    def _decode(response: httpx.Response, what: str) -> Any:
        try:
            # Decimal, never float: should Acuity ever send an amount as a JSON number, it stays exact.
            return json.loads(response.content, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            raise AcuityBadResponse(f"Acuity sent a response that is not JSON ({what}).") from None

    def _error_for(self, response: httpx.Response, what: str, subject: tuple[str, int | None] | None) -> AcuityError:
        status = response.status_code
        quoted = _acuity_message(response)
        if status == 404:
            kind, object_id = subject if subject is not None else ("resource", None)
            if object_id is None:
                return AcuityNotFound(kind, None, f"Acuity has no such {kind} ({what}).")
            hint = "already deleted?" if kind == "webhook" else "deleted?"
            return AcuityNotFound(kind, int(object_id), f"Acuity has no {kind} {object_id} ({hint}).")
        if status == 401:
            return AcuityCredentialsRefused(
                f"Acuity refused the user id {self._user_id} and its API key. Check both under Integrations → API "
                "in Acuity (generating a new API key invalidates the old one)."
            )
        if status == 403:
            reason = f' Acuity says: "{quoted}"' if quoted else ""
            return AcuityForbidden(
                "Acuity refused access with these credentials; the Acuity plan may not include API access "
                f"(it needs a plan with API access, such as Powerhouse).{reason}"
            )
        if status == 429:
            retry_after = _retry_after(response.headers.get("Retry-After"))
            return AcuityRateLimited(
                retry_after, f"Acuity's rate limit was reached ({what}); try again in {retry_after:g} s."
            )
        if status >= 500:
            return AcuityUnavailable(f"Acuity is unavailable (HTTP {status}, {what}); try again later.")
        if 400 <= status < 500:
            said = f': "{quoted}"' if quoted else ""
            return AcuityRejected(status, quoted, f"Acuity refused {what} (HTTP {status}){said}.")
        return AcuityBadResponse(f"Acuity answered {what} with an unexpected HTTP {status}.")

    @staticmethod
    def _one(model: type[_ModelT], body: Any, path: str) -> _ModelT:
        try:
            return model.model_validate(body)
        except ValidationError as error:
            raise AcuityBadData(_unreadable(model.__name__, path, error)) from None

    @staticmethod
    def _many(model: type[_ModelT], body: Any, path: str) -> list[_ModelT]:
        try:
            return _list_of(model).validate_python(body)
        except ValidationError as error:
            raise AcuityBadData(_unreadable(f"list of {model.__name__}", path, error)) from None


# ------------------------------------------------------------------------------------------------ helpers


def _unreadable(what: str, path: str, error: ValidationError) -> str:
    """Where and why, never the value (it could be an e-mail or a name)."""
    problems = []
    for problem in error.errors(include_input=False, include_url=False)[:3]:
        location = ".".join(str(part) for part in problem["loc"]) or "body"
        problems.append(f"{location}: {redact(problem['msg'])}")
    more = f" (+{error.error_count() - 3} more)" if error.error_count() > 3 else ""
    return f"Acuity sent a {what} we could not read (GET {path}): {'; '.join(problems)}{more}."


def _acuity_message(response: httpx.Response) -> str:
    """Acuity's `message` from its error body, shortened and with e-mails masked; "" when there is none."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str):
        return ""
    return redact(message.strip())[:_QUOTED_MESSAGE_CHARS]


@functools.cache
def _list_of(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    """Built once per model: a TypeAdapter costs a schema build."""
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _retry_after(header: str | None, now: datetime | None = None) -> float:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); 1 s when absent or unreadable."""
    if header is None or not header.strip():
        return DEFAULT_RETRY_AFTER
    value = header.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds):
        return DEFAULT_RETRY_AFTER
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
