"""A fake Acuity Scheduling: its API (base path /api/v1) with state, its errors and limits, its signed webhooks.

Faithful to what ../shared/reference/acuity/ and ../shared/research/acuity.md record of the real service:

- HTTP Basic auth (numeric user id, API key); every account sees only its own data.
- Shapes as Acuity's: money as strings with two decimals, `paid` "yes"/"no", `datetime` with a colon-less
  offset in the calendar's time zone, display strings for `date`/`time`/`endTime`/`dateCreated`.
- Error bodies `{"status_code", "error", "message"}`; 10 requests a second (a sliding window on the clock) and 20
  concurrent ones per client IP, for all accounts together.
- Webhooks (at most 25 per account) delivered form-encoded and signed with the account's API key; the first
  attempt is made before the admin call that caused it answers; a 5xx or an unreachable target is retried after
  `retry_delays` (on the clock, so a test can `advance` instead of sleeping).

A business drives it through `/_admin/...` (see `AcuityAdmin`) or the same methods in-process; those are not
rate limited.
"""

from __future__ import annotations

import base64
import binascii
import copy
import heapq
import hmac
import itertools
import json
import logging
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from acuity_sync.acuity.signature import sign
from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.httpserver import Request, Response, Router, empty, json_response
from acuity_sync_toolkit.fakes.service import FakeService

logger = logging.getLogger(__name__)

JsonObject = dict[str, Any]

API_PREFIX = "/api/v1"
WEBHOOK_EVENTS = (
    "appointment.scheduled",
    "appointment.rescheduled",
    "appointment.canceled",
    "appointment.changed",
    "order.completed",
)
MAX_WEBHOOKS_PER_ACCOUNT = 25
ACTION_FORMATS = ("plain", "event")
ORDER_STATUSES = ("paid", "unpaid", "delivered")
PAYMENT_PROCESSORS = ("stripe", "paypal", "paypal_pro", "braintree", "authorizenet", "square")
DEFAULT_LIST_MAX = 100
RATE_LIMIT_MESSAGE = "Rate limit reached. Limit 10req/s and 20 concurrent connections."
SCHEDULING_HOST = "https://app.acuityscheduling.com"

_CENTS = Decimal("0.01")
_FIRST_APPOINTMENT_ID = 1_000_001
_FIRST_ORDER_ID = 50_001
_FIRST_CALENDAR_ID = 27_238
_MAX_RECORDED_RESPONSE = 4096  # characters of a receiver's answer kept in the delivery record


# --------------------------------------------------------------------------------------------------- errors


class FakeAcuityError(Exception):
    """An error answered as Acuity answers it: `{"status_code", "error", "message"}`."""

    def __init__(self, status_code: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error = error
        self.message = message

    def body(self) -> JsonObject:
        return error_body(self.status_code, self.error, self.message)

    def response(self) -> Response:
        return json_response(self.body(), status=self.status_code)


def error_body(status_code: int, error: str, message: str) -> JsonObject:
    return {"status_code": status_code, "error": error, "message": message}


def bad_request(message: str) -> FakeAcuityError:
    return FakeAcuityError(400, "bad_request", message)


def not_found(message: str = "Not Found") -> FakeAcuityError:
    return FakeAcuityError(404, "not_found", message)


UNAUTHORIZED = FakeAcuityError(401, "unauthorized", "Unauthorized")
TOO_MANY_REQUESTS = FakeAcuityError(429, "too_many_requests", RATE_LIMIT_MESSAGE)


# --------------------------------------------------------------------------------------------------- formats


def format_money(amount: Decimal) -> str:
    """Acuity's money: a string with two decimals ("10.00")."""
    return f"{amount.quantize(_CENTS, rounding=ROUND_HALF_UP):f}"


def parse_money(value: object, field_name: str) -> Decimal:
    """A non-negative amount from a string, an int or a Decimal; floats are refused (money is never float)."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise bad_request(f'{field_name} must be a decimal string such as "10.00".')
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise bad_request(f"{field_name} is not a valid amount: {value!r}.") from None
    if not amount.is_finite() or amount < 0:
        raise bad_request(f"{field_name} must be a non-negative amount.")
    return amount.quantize(_CENTS, rounding=ROUND_HALF_UP)


def format_offset_datetime(moment: datetime, zone: ZoneInfo) -> str:
    """`2013-07-02T10:15:00-0700`: local time in `zone`, offset without a colon."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S%z")


def format_display_date(moment: datetime, zone: ZoneInfo) -> str:
    """`July 2, 2013`."""
    local = moment.astimezone(zone)
    return f"{local:%B} {local.day}, {local.year}"


def format_display_time(moment: datetime, zone: ZoneInfo) -> str:
    """`10:15am`, `7:00pm`, `12:30pm`."""
    local = moment.astimezone(zone)
    hour = local.hour % 12 or 12
    return f"{hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


def format_order_time(moment: datetime, zone: ZoneInfo) -> str:
    """`2014-09-23 14:22`: local time, no offset (as Acuity's orders show it)."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def parse_datetime(value: object, zone: ZoneInfo, field_name: str = "datetime") -> datetime:
    """An ISO 8601 date-time, with or without a colon in its offset; a naive one is local time in `zone`."""
    if not isinstance(value, str):
        raise bad_request(f'{field_name} must be a string such as "2013-07-02T10:15:00-0700".')
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise bad_request(f"{field_name} is not a valid date-time: {value!r}.") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def parse_date_param(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise bad_request(f"{name} is not a valid date: {value!r}.") from None


def load_zone(name: object, field_name: str = "timezone") -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise bad_request(f'{field_name} must be an IANA time zone name such as "America/New_York".')
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad_request(f"{field_name} is not a known time zone: {name!r}.") from None


# --------------------------------------------------------------------------------------------------- rate limit


class RequestLimiter:
    """Acuity's limits per client IP: `per_second` requests in any one-second window and `max_concurrent` in flight.

    Refused requests do not use up the window; a refused caller that waits a second gets through.
    """

    def __init__(self, clock: FakeClock, per_second: int = 10, max_concurrent: int = 20) -> None:
        self._clock = clock
        self._per_second = per_second
        self._max_concurrent = max_concurrent
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}
        self._in_flight: dict[str, int] = {}

    def acquire(self, key: str) -> bool:
        with self._lock:
            now = self._clock.monotonic()  # read under the lock so that each window stays in order
            window = self._windows.setdefault(key, deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            in_flight = self._in_flight.get(key, 0)
            if len(window) >= self._per_second or in_flight >= self._max_concurrent:
                return False
            window.append(now)
            self._in_flight[key] = in_flight + 1
            return True

    def release(self, key: str) -> None:
        with self._lock:
            self._in_flight[key] = max(0, self._in_flight.get(key, 0) - 1)


# --------------------------------------------------------------------------------------------------- state


@dataclass(slots=True)
class _Payment:
    transaction_id: str
    created: datetime
    processor: str
    amount: Decimal


@dataclass(slots=True)
class _Appointment:
    id: int
    start: datetime
    created: datetime
    duration: int  # minutes
    price: Decimal
    price_sold: Decimal
    amount_paid: Decimal
    calendar_timezone: str
    client_timezone: str
    confirmation_hash: str
    details: JsonObject  # the fields stored as given: names, type, calendar, labels, forms ...
    canceled: bool = False
    no_show: bool = False
    forms_text: str | None = None  # None: derived from the name and the forms


@dataclass(slots=True)
class _Order:
    id: int
    total: Decimal
    status: str
    time: datetime
    details: JsonObject  # firstName, lastName, phone, email, title, notes


@dataclass(frozen=True, slots=True)
class _Webhook:
    id: int
    event: str
    target: str

    def as_json(self) -> JsonObject:
        return {"id": self.id, "event": self.event, "target": self.target, "status": "active"}


@dataclass(slots=True)
class _Account:
    user_id: int
    api_key: str
    name: str
    email: str
    timezone: str
    currency: str
    action_format: str
    plan: str
    calendar_id: int
    calendar: str
    appointments: dict[int, _Appointment] = field(default_factory=dict)
    payments: dict[int, list[_Payment]] = field(default_factory=dict)
    orders: dict[int, _Order] = field(default_factory=dict)
    webhooks: dict[int, _Webhook] = field(default_factory=dict)
    deliveries: list[JsonObject] = field(default_factory=list)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def admin_view(self) -> JsonObject:
        return {
            "user_id": self.user_id,
            "api_key": self.api_key,
            "name": self.name,
            "email": self.email,
            "timezone": self.timezone,
            "currency": self.currency,
            "action_format": self.action_format,
            "plan": self.plan,
            "calendar_id": self.calendar_id,
            "calendar": self.calendar,
        }


@dataclass(frozen=True, slots=True)
class _Notification:
    """One webhook delivery: the same body is re-sent on each attempt."""

    account_id: int
    webhook_id: int
    event: str
    action: str
    target: str
    body: bytes


# --------------------------------------------------------------------------------------------------- appointment fields

# Stored as given, with the type Acuity returns and the default for a booking made by the business.
_Check = Callable[[object], bool]


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _is_int_list(value: object) -> bool:
    return isinstance(value, list) and all(_is_int(item) for item in value)


def _is_object_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _or_null(check: _Check) -> _Check:
    return lambda value: value is None or check(value)


_DETAIL_FIELDS: dict[str, tuple[_Check, str]] = {
    "firstName": (_is_str, "a string"),
    "lastName": (_is_str, "a string"),
    "phone": (_is_str, "a string"),
    "email": (_is_str, "a string"),
    "type": (_is_str, "a string"),
    "appointmentTypeID": (_is_int, "an integer"),
    "classID": (_or_null(_is_int), "an integer or null"),
    "addonIDs": (_is_int_list, "a list of integers"),
    "category": (_is_str, "a string"),
    "calendar": (_is_str, "a string"),
    "calendarID": (_is_int, "an integer"),
    "certificate": (_or_null(_is_str), "a string or null"),
    "location": (_is_str, "a string"),
    "notes": (_is_str, "a string"),
    "canClientCancel": (_is_bool, "a boolean"),
    "canClientReschedule": (_is_bool, "a boolean"),
    "labels": (_or_null(_is_object_list), "a list of labels or null"),
    "forms": (_is_object_list, "a list of forms"),
    "isVerified": (_is_bool, "a boolean"),
    "scheduledBy": (_or_null(_is_str), "a string or null"),
}
# Fields handled one by one (parsed, or state rather than details).
_SPECIAL_FIELDS = frozenset(
    {
        "id",
        "datetime",
        "datetimeCreated",
        "duration",
        "price",
        "priceSold",
        "amountPaid",
        "canceled",
        "noShow",
        "timezone",
        "calendarTimezone",
        "formsText",
        "paymentProcessor",  # admin only: the processor of the payment that amountPaid records
    }
)
# Always computed by Acuity: accepted (so a whole appointment can be posted back) and ignored.
_DERIVED_FIELDS = frozenset(
    {"date", "time", "endTime", "dateCreated", "paid", "confirmationPage", "confirmationPagePaymentLink"}
)
_IMMUTABLE_FIELDS = frozenset({"id", "datetimeCreated"})

_ORDER_DETAIL_FIELDS = ("firstName", "lastName", "phone", "email", "title", "notes")
_ACCOUNT_PROFILE_FIELDS = frozenset({"name", "email", "timezone", "currency", "action_format", "plan"})


def _check_known_fields(fields: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise bad_request(f"Unknown field(s): {', '.join(unknown)}.")


def _validated_details(fields: Mapping[str, Any]) -> JsonObject:
    details: JsonObject = {}
    for name, value in fields.items():
        if name in _DETAIL_FIELDS:
            check, description = _DETAIL_FIELDS[name]
            if not check(value):
                raise bad_request(f"{name} must be {description}.")
            details[name] = value
    return details


def _parse_duration(value: object) -> int:
    minutes = value if _is_int(value) else int(value) if isinstance(value, str) and value.isdigit() else None
    if not isinstance(minutes, int) or minutes <= 0:
        raise bad_request('duration must be a positive number of minutes, such as "60".')
    return minutes


def _parse_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise bad_request(f"{name} must be a boolean.")
    return value


def _is_paid(price: Decimal, amount_paid: Decimal) -> bool:
    # The reference shows a $0 appointment with nothing paid as "no": "yes" needs a payment covering the price.
    return amount_paid > 0 and amount_paid >= price


def _derived_forms_text(appointment: _Appointment) -> str:
    name = f"{appointment.details['firstName']} {appointment.details['lastName']}".strip()
    lines = [f"Name: {name}"]
    for form in appointment.details["forms"]:
        for value in form.get("values", []):
            if isinstance(value, dict):
                lines.append(f"{value.get('name', '')}: {value.get('value', '')}")
    return "\n".join(lines)


def render_appointment(appointment: _Appointment, owner: int) -> JsonObject:
    """The appointment exactly as GET /api/v1/appointments/{id} returns it."""
    zone = ZoneInfo(appointment.calendar_timezone)
    end = appointment.start + timedelta(minutes=appointment.duration)
    details = appointment.details
    confirmation = f"{SCHEDULING_HOST}/schedule.php?owner={owner}&action=appt&id%5B%5D={appointment.confirmation_hash}"
    rendered: JsonObject = {
        "id": appointment.id,
        "firstName": details["firstName"],
        "lastName": details["lastName"],
        "phone": details["phone"],
        "email": details["email"],
        "date": format_display_date(appointment.start, zone),
        "time": format_display_time(appointment.start, zone),
        "endTime": format_display_time(end, zone),
        "dateCreated": format_display_date(appointment.created, zone),
        "datetimeCreated": format_offset_datetime(appointment.created, zone),
        "datetime": format_offset_datetime(appointment.start, zone),
        "price": format_money(appointment.price),
        "priceSold": format_money(appointment.price_sold),
        "paid": "yes" if _is_paid(appointment.price, appointment.amount_paid) else "no",
        "amountPaid": format_money(appointment.amount_paid),
        "type": details["type"],
        "appointmentTypeID": details["appointmentTypeID"],
        "classID": details["classID"],
        "addonIDs": list(details["addonIDs"]),
        "category": details["category"],
        "duration": str(appointment.duration),
        "calendar": details["calendar"],
        "calendarID": details["calendarID"],
        "certificate": details["certificate"],
        "confirmationPage": confirmation,
        "confirmationPagePaymentLink": f"{confirmation}&paymentLink=true#payment",
        "location": details["location"],
        "notes": details["notes"],
        "timezone": appointment.client_timezone,
        "calendarTimezone": appointment.calendar_timezone,
        "canceled": appointment.canceled,
        "canClientCancel": details["canClientCancel"],
        "canClientReschedule": details["canClientReschedule"],
        "labels": json.loads(json.dumps(details["labels"])),
        "forms": json.loads(json.dumps(details["forms"])),
        "formsText": appointment.forms_text if appointment.forms_text is not None else _derived_forms_text(appointment),
        "isVerified": details["isVerified"],
        "scheduledBy": details["scheduledBy"],
    }
    if appointment.canceled:
        # "Once canceled, appointments will have a noShow attribute" (Acuity's API reference).
        rendered["noShow"] = appointment.no_show
    return rendered


def render_payment(payment: _Payment, zone: ZoneInfo) -> JsonObject:
    return {
        "transactionID": payment.transaction_id,
        "created": format_offset_datetime(payment.created, zone),
        "processor": payment.processor,
        "amount": format_money(payment.amount),
    }


def render_order(order: _Order, zone: ZoneInfo) -> JsonObject:
    details = order.details
    return {
        "id": order.id,
        "total": format_money(order.total),
        "status": order.status,
        "time": format_order_time(order.time, zone),
        "firstName": details["firstName"],
        "lastName": details["lastName"],
        "phone": details["phone"],
        "email": details["email"],
        "title": details["title"],
        "notes": details["notes"],
    }


def _change_events(old: _Appointment, new: _Appointment, before: JsonObject, after: JsonObject) -> list[str]:
    """The events a change fires, in Acuity's order: the specific one first, then the catch-all `changed`."""
    if new.canceled and not old.canceled:
        return ["appointment.canceled", "appointment.changed"]
    if new.start != old.start:
        return ["appointment.rescheduled", "appointment.changed"]
    if before != after:
        return ["appointment.changed"]
    return []


def webhook_action(event: str, action_format: str) -> str:
    """The `action` value: `scheduled` (plain, as static webhooks send) or `appointment.scheduled` (event)."""
    if action_format == "event":
        return event
    return event.removeprefix("appointment.")


def appointment_webhook_body(action: str, rendered: Mapping[str, Any]) -> bytes:
    return (
        f"action={action}&id={rendered['id']}&calendarID={rendered['calendarID']}"
        f"&appointmentTypeID={rendered['appointmentTypeID']}"
    ).encode("ascii")


def order_webhook_body(action: str, order_id: int) -> bytes:
    return f"action={action}&id={order_id}".encode("ascii")


# --------------------------------------------------------------------------------------------------- retries


class _RetryScheduler:
    """Runs due delivery retries on one daemon thread; due times are on the fake clock, so `advance` wakes it."""

    def __init__(self, clock: FakeClock, run: Callable[[_Notification, int], None]) -> None:
        self._clock = clock
        self._run = run
        self._condition = threading.Condition()
        self._queue: list[tuple[float, int, _Notification, int]] = []
        self._sequence = itertools.count()
        self._stopping = False
        self._running_now = 0
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        self._stopping = False
        self._unsubscribe = self._clock.on_advance(self._wake)
        self._thread = threading.Thread(target=self._loop, name="fake-acuity-retries", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._queue.clear()
            self._condition.notify_all()
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def schedule(self, delay: float, notification: _Notification, attempt: int) -> None:
        with self._condition:
            due = self._clock.monotonic() + delay
            heapq.heappush(self._queue, (due, next(self._sequence), notification, attempt))
            self._condition.notify_all()

    def pending(self) -> int:
        """Retries waiting or running."""
        with self._condition:
            return len(self._queue) + self._running_now

    def _wake(self) -> None:
        with self._condition:
            self._condition.notify_all()

    def _next_due(self) -> tuple[_Notification, int] | None:
        """Wait until a retry is due (or stop); pop and return it."""
        with self._condition:
            while not self._stopping:
                if self._queue:
                    wait = self._queue[0][0] - self._clock.monotonic()
                    if wait <= 0:
                        _, _, notification, attempt = heapq.heappop(self._queue)
                        self._running_now += 1
                        return notification, attempt
                    # A frozen clock only moves on advance(), which notifies; poll anyway as a safety net.
                    self._condition.wait(timeout=1.0 if self._clock.frozen else min(wait, 1.0))
                else:
                    self._condition.wait()
            return None

    def _loop(self) -> None:
        while (due := self._next_due()) is not None:
            try:
                self._run(*due)
            except Exception:
                logger.exception("webhook retry failed")
            finally:
                with self._condition:
                    self._running_now -= 1


# --------------------------------------------------------------------------------------------------- the fake


class FakeAcuity(FakeService):
    """The fake Acuity API server. `start()` it (or use `with`), point clients at `url`, drive it via /_admin."""

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
        self._limiter = RequestLimiter(self.clock, rate_limit_per_second, max_concurrent)
        self._retry_delays = tuple(retry_delays)
        self._delivery_timeout = delivery_timeout
        self._lock = threading.RLock()
        self._accounts: dict[int, _Account] = {}
        self._appointment_owner: dict[int, int] = {}
        self._order_owner: dict[int, int] = {}
        self._transaction_ids: set[str] = set()
        self._appointment_ids = itertools.count(_FIRST_APPOINTMENT_ID)
        self._order_ids = itertools.count(_FIRST_ORDER_ID)
        self._webhook_ids = itertools.count(1)
        self._calendar_ids = itertools.count(_FIRST_CALENDAR_ID)
        self._http: httpx.Client | None = None
        self._retries = _RetryScheduler(self.clock, self._attempt)
        self._api = self._api_router()
        self._admin = self._admin_router()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        if self.running:
            raise RuntimeError("FakeAcuity already started")
        self._retries.start()
        return super().start()

    def stop(self) -> None:
        self._retries.stop()
        super().stop()
        with self._lock:
            http, self._http = self._http, None
        if http is not None:
            http.close()

    @property
    def api_url(self) -> str:
        return f"{self.url}{API_PREFIX}"

    # ------------------------------------------------------------------ accounts

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
        if not _is_int(user_id) or user_id <= 0:
            raise bad_request("user_id must be a positive integer.")
        if not isinstance(api_key, str) or not api_key:
            raise bad_request("api_key must be a non-empty string.")
        load_zone(timezone)
        if action_format not in ACTION_FORMATS:
            raise bad_request(f"action_format must be one of {', '.join(ACTION_FORMATS)}.")
        if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
            raise bad_request('currency must be a three-letter code such as "USD".')
        with self._lock:
            account = self._accounts.get(user_id)
            if account is None:
                account = _Account(
                    user_id=user_id,
                    api_key=api_key,
                    name=name,
                    email="",
                    timezone=timezone,
                    currency="",
                    action_format=action_format,
                    plan=plan,
                    calendar_id=next(self._calendar_ids),
                    calendar=name,
                )
                self._accounts[user_id] = account
            account.api_key, account.name, account.plan = api_key, name, plan
            account.email = email or f"owner{user_id}@example.com"
            account.timezone, account.currency, account.action_format = timezone, currency.upper(), action_format
            return account.admin_view()

    def has_account(self, user_id: int) -> bool:
        with self._lock:
            return user_id in self._accounts

    def _account(self, user_id: int) -> _Account:
        account = self._accounts.get(user_id)
        if account is None:
            raise not_found(f"No account {user_id}.")
        return account

    def _me(self, account: _Account) -> JsonObject:
        scheduling_page = f"{SCHEDULING_HOST}/schedule.php?owner={account.user_id}"
        return {
            "id": account.user_id,
            "email": account.email,
            "timezone": account.timezone,
            "firstDayOfWeek": 0,
            "timeFormat": "ampm",
            "currency": account.currency,
            "schedulingPage": scheduling_page,
            "embedCode": (
                f'<iframe src="{scheduling_page}" width="100%" height="800" frameBorder="0"></iframe>'
                '<script src="https://embed.acuityscheduling.com/js/embed.js" type="text/javascript"></script>'
            ),
            "plan": account.plan,
            "name": account.name,
            "description": "",
        }

    # ------------------------------------------------------------------ the business's actions (also via /_admin)

    def book_appointment(self, account_id: int, fields: Mapping[str, Any]) -> JsonObject:
        """Book an appointment from a partial one in Acuity's shape; fires scheduled then changed."""
        with self._lock:
            account = self._account(account_id)
            processor = self._processor(fields)
            appointment = self._new_appointment(account, fields)
            account.appointments[appointment.id] = appointment
            self._appointment_owner[appointment.id] = account.user_id
            if appointment.amount_paid > 0:
                self._record_payment(account, appointment, appointment.amount_paid, processor)
            rendered = render_appointment(appointment, account.user_id)
            notifications = self._appointment_notifications(
                account, ["appointment.scheduled", "appointment.changed"], rendered
            )
        self._deliver(notifications)
        return rendered

    def change_appointment(self, account_id: int, appointment_id: int, changes: Mapping[str, Any]) -> JsonObject:
        """Change an appointment as the business would; fires rescheduled/canceled (when so) then changed."""
        with self._lock:
            account = self._account(account_id)
            appointment = account.appointments.get(appointment_id)
            if appointment is None:
                raise not_found(f"Appointment {appointment_id} not found.")
            # Applied to a copy and committed whole: a refused change leaves nothing half-done.
            changed = copy.deepcopy(appointment)
            payment = self._apply_changes(changed, changes)
            account.appointments[appointment_id] = changed
            if payment is not None:
                self._record_payment(account, changed, *payment)
            before = render_appointment(appointment, account.user_id)
            rendered = render_appointment(changed, account.user_id)
            events = _change_events(appointment, changed, before, rendered)
            notifications = self._appointment_notifications(account, events, rendered)
        self._deliver(notifications)
        return rendered

    def complete_order(self, account_id: int, fields: Mapping[str, Any]) -> JsonObject:
        """Record a completed order (package, gift certificate, subscription); fires order.completed."""
        with self._lock:
            account = self._account(account_id)
            order = self._new_order(account, fields)
            account.orders[order.id] = order
            self._order_owner[order.id] = account.user_id
            rendered = render_order(order, account.zone)
            notifications = [
                _Notification(
                    account.user_id, hook.id, hook.event, action, hook.target, order_webhook_body(action, order.id)
                )
                for hook in self._hooks_for(account, "order.completed")
                for action in [webhook_action(hook.event, account.action_format)]
            ]
        self._deliver(notifications)
        return rendered

    def deliveries(self, account_id: int | None = None) -> list[JsonObject]:
        """Every delivery attempt, oldest first (of one account, or of all)."""
        with self._lock:
            if account_id is not None:
                return [dict(record) for record in self._account(account_id).deliveries]
            records = [record for account in self._accounts.values() for record in account.deliveries]
            return [dict(record) for record in sorted(records, key=lambda record: str(record["at"]))]

    def pending_retries(self) -> int:
        return self._retries.pending()

    def appointment(self, account_id: int, appointment_id: int) -> JsonObject:
        with self._lock:
            account = self._account(account_id)
            appointment = account.appointments.get(appointment_id)
            if appointment is None:
                raise not_found(f"Appointment {appointment_id} not found.")
            return render_appointment(appointment, account.user_id)

    def payments(self, account_id: int, appointment_id: int) -> list[JsonObject]:
        """As GET /api/v1/appointments/{id}/payments returns them."""
        with self._lock:
            account = self._account(account_id)
            appointment = account.appointments.get(appointment_id)
            if appointment is None:
                raise not_found(f"Appointment {appointment_id} not found.")
            zone = ZoneInfo(appointment.calendar_timezone)
            return [render_payment(payment, zone) for payment in account.payments.get(appointment_id, [])]

    # ------------------------------------------------------------------ building and changing appointments

    def _new_appointment(self, account: _Account, fields: Mapping[str, Any]) -> _Appointment:
        _check_known_fields(fields, {*_DETAIL_FIELDS, *_SPECIAL_FIELDS, *_DERIVED_FIELDS})
        calendar_zone_name = fields.get("calendarTimezone", account.timezone)
        calendar_zone = load_zone(calendar_zone_name, "calendarTimezone")
        client_zone_name = fields.get("timezone", calendar_zone_name)
        load_zone(client_zone_name)
        now = self.clock.now()
        price = parse_money(fields.get("price", "0.00"), "price")
        details: JsonObject = {
            "firstName": "",
            "lastName": "",
            "phone": "",
            "email": "",
            "type": "Consultation",
            "appointmentTypeID": 1,
            "classID": None,
            "addonIDs": [],
            "category": "",
            "calendar": account.calendar,
            "calendarID": account.calendar_id,
            "certificate": None,
            "location": "",
            "notes": "",
            "canClientCancel": True,
            "canClientReschedule": True,
            "labels": None,
            "forms": [],
            "isVerified": False,
            "scheduledBy": account.email,  # booked by the business; a client's own booking would be null
        }
        details.update(_validated_details(fields))
        forms_text = fields.get("formsText")
        if forms_text is not None and not isinstance(forms_text, str):
            raise bad_request("formsText must be a string.")
        return _Appointment(
            id=self._new_appointment_id(fields.get("id")),
            start=self._start_of(fields, calendar_zone, now),
            created=parse_datetime(fields["datetimeCreated"], calendar_zone, "datetimeCreated")
            if "datetimeCreated" in fields
            else now,
            duration=_parse_duration(fields.get("duration", 60)),
            price=price,
            price_sold=parse_money(fields["priceSold"], "priceSold") if "priceSold" in fields else price,
            amount_paid=parse_money(fields.get("amountPaid", "0.00"), "amountPaid"),
            calendar_timezone=calendar_zone_name,
            client_timezone=client_zone_name,
            confirmation_hash=secrets.token_hex(16),
            details=details,
            canceled=_parse_bool(fields.get("canceled", False), "canceled"),
            no_show=_parse_bool(fields.get("noShow", False), "noShow"),
            forms_text=forms_text,
        )

    def _start_of(self, fields: Mapping[str, Any], zone: ZoneInfo, now: datetime) -> datetime:
        if "datetime" in fields:
            return parse_datetime(fields["datetime"], zone)
        # Tomorrow at 10:00 in the calendar's time zone: a plausible booking.
        tomorrow = now.astimezone(zone).date() + timedelta(days=1)
        return datetime.combine(tomorrow, time(10, 0), tzinfo=zone)

    def _new_appointment_id(self, requested: object) -> int:
        if requested is None:
            while (candidate := next(self._appointment_ids)) in self._appointment_owner:
                pass
            return candidate
        if not isinstance(requested, int) or isinstance(requested, bool) or requested <= 0:
            raise bad_request("id must be a positive integer.")
        if requested in self._appointment_owner:
            raise bad_request(f"Appointment {requested} already exists.")
        return requested

    def _apply_changes(self, appointment: _Appointment, changes: Mapping[str, Any]) -> tuple[Decimal, str] | None:
        """Change `appointment` in place; returns the payment (amount, processor) that a raised amountPaid makes."""
        _check_known_fields(changes, {*_DETAIL_FIELDS, *_SPECIAL_FIELDS, *_DERIVED_FIELDS})
        fixed = sorted(name for name in _IMMUTABLE_FIELDS & set(changes))
        if fixed:
            raise bad_request(f"Cannot change {', '.join(fixed)}.")
        if appointment.canceled and changes.get("canceled") is False:
            raise bad_request("After an appointment is canceled it cannot be un-canceled.")
        appointment.details.update(_validated_details(changes))
        self._change_times(appointment, changes)
        payment = self._change_money(appointment, changes)
        if "canceled" in changes:
            appointment.canceled = appointment.canceled or _parse_bool(changes["canceled"], "canceled")
        if "noShow" in changes:
            appointment.no_show = _parse_bool(changes["noShow"], "noShow")
        if "formsText" in changes:
            if changes["formsText"] is not None and not isinstance(changes["formsText"], str):
                raise bad_request("formsText must be a string.")
            appointment.forms_text = changes["formsText"]
        return payment

    @staticmethod
    def _change_times(appointment: _Appointment, changes: Mapping[str, Any]) -> None:
        if "calendarTimezone" in changes:
            load_zone(changes["calendarTimezone"], "calendarTimezone")
            appointment.calendar_timezone = changes["calendarTimezone"]
        if "timezone" in changes:
            load_zone(changes["timezone"])
            appointment.client_timezone = changes["timezone"]
        if "datetime" in changes:
            appointment.start = parse_datetime(changes["datetime"], ZoneInfo(appointment.calendar_timezone))
        if "duration" in changes:
            appointment.duration = _parse_duration(changes["duration"])

    def _change_money(self, appointment: _Appointment, changes: Mapping[str, Any]) -> tuple[Decimal, str] | None:
        if "price" in changes:
            appointment.price = parse_money(changes["price"], "price")
            # A price edited by the business is what the client is sold at, unless priceSold is given too.
            appointment.price_sold = appointment.price
        if "priceSold" in changes:
            appointment.price_sold = parse_money(changes["priceSold"], "priceSold")
        if "amountPaid" not in changes:
            return None
        processor = self._processor(changes)
        new_amount = parse_money(changes["amountPaid"], "amountPaid")
        increase = new_amount - appointment.amount_paid
        if increase < 0:
            # Refunds happen in the payment processor and are never reflected in Acuity.
            raise bad_request("amountPaid cannot decrease: Acuity does not record refunds.")
        appointment.amount_paid = new_amount
        return (increase, processor) if increase > 0 else None

    def _processor(self, fields: Mapping[str, Any]) -> str:
        processor = fields.get("paymentProcessor", "stripe")
        if processor not in PAYMENT_PROCESSORS:
            raise bad_request(f"paymentProcessor must be one of {', '.join(PAYMENT_PROCESSORS)}.")
        return str(processor)

    def _record_payment(self, account: _Account, appointment: _Appointment, amount: Decimal, processor: str) -> None:
        """A payment as the processor reports it to Acuity: a new unique transaction id."""
        while (transaction_id := f"ch_{secrets.token_hex(12)}") in self._transaction_ids:
            pass
        self._transaction_ids.add(transaction_id)
        payment = _Payment(transaction_id, self.clock.now(), processor, amount)
        account.payments.setdefault(appointment.id, []).append(payment)

    # ------------------------------------------------------------------ orders

    def _new_order(self, account: _Account, fields: Mapping[str, Any]) -> _Order:
        _check_known_fields(fields, {"id", "total", "status", "time", *_ORDER_DETAIL_FIELDS})
        details: JsonObject = {
            "firstName": "",
            "lastName": "",
            "phone": "",
            "email": "",
            "title": "Gift Certificate",
            "notes": "",
        }
        for name in _ORDER_DETAIL_FIELDS:
            if name in fields:
                if not isinstance(fields[name], str):
                    raise bad_request(f"{name} must be a string.")
                details[name] = fields[name]
        status = fields.get("status", "paid")
        if status not in ORDER_STATUSES:
            raise bad_request(f"status must be one of {', '.join(ORDER_STATUSES)}.")
        return _Order(
            id=self._new_order_id(fields.get("id")),
            total=parse_money(fields.get("total", "0.00"), "total"),
            status=str(status),
            time=parse_datetime(fields["time"], account.zone, "time") if "time" in fields else self.clock.now(),
            details=details,
        )

    def _new_order_id(self, requested: object) -> int:
        if requested is None:
            while (candidate := next(self._order_ids)) in self._order_owner:
                pass
            return candidate
        if not isinstance(requested, int) or isinstance(requested, bool) or requested <= 0:
            raise bad_request("id must be a positive integer.")
        if requested in self._order_owner:
            raise bad_request(f"Order {requested} already exists.")
        return requested

    # ------------------------------------------------------------------ webhooks

    def _hooks_for(self, account: _Account, event: str) -> list[_Webhook]:
        return [hook for hook in account.webhooks.values() if hook.event == event]

    def _appointment_notifications(
        self, account: _Account, events: Sequence[str], rendered: Mapping[str, Any]
    ) -> list[_Notification]:
        notifications: list[_Notification] = []
        for event in events:
            action = webhook_action(event, account.action_format)
            body = appointment_webhook_body(action, rendered)
            notifications.extend(
                _Notification(account.user_id, hook.id, event, action, hook.target, body)
                for hook in self._hooks_for(account, event)
            )
        return notifications

    def _deliver(self, notifications: Iterable[_Notification]) -> None:
        """First attempts, in order, before the caller gets its answer (outside the state lock: a receiver may
        call back into this API while handling its webhook)."""
        for notification in notifications:
            self._attempt(notification, 1)

    def _attempt(self, notification: _Notification, attempt: int) -> None:
        with self._lock:
            account = self._accounts.get(notification.account_id)
            if account is None:
                return
            api_key = account.api_key
        signature = sign(notification.body, api_key)
        at = self.clock.now()
        status_code, response_body, error = self._post(notification, signature)
        retryable = status_code is None or status_code >= 500
        will_retry = retryable and attempt <= len(self._retry_delays)
        record: JsonObject = {
            "webhook_id": notification.webhook_id,
            "event": notification.event,
            "action": notification.action,
            "target": notification.target,
            "body": notification.body.decode("ascii"),
            "signature": signature,
            "attempt": attempt,
            "status": status_code,
            "response_body": response_body,
            "error": error,
            "will_retry": will_retry,
            "at": at.isoformat(),
        }
        with self._lock:
            account.deliveries.append(record)
        if will_retry:
            self._retries.schedule(self._retry_delays[attempt - 1], notification, attempt + 1)

    def _delivery_client(self) -> httpx.Client | None:
        """The HTTP client for deliveries, made on first use (it costs ~50 ms, and most tests deliver nothing)."""
        with self._lock:
            if self._http is None and self.running:
                # trust_env=False: a proxy set in the environment must not intercept deliveries to 127.0.0.1.
                self._http = httpx.Client(timeout=self._delivery_timeout, trust_env=False, follow_redirects=False)
            return self._http

    def _post(self, notification: _Notification, signature: str) -> tuple[int | None, str | None, str | None]:
        """(status code, response body, None) or (None, None, error)."""
        client = self._delivery_client()
        if client is None:
            return None, None, "FakeAcuity stopped"
        try:
            response = client.post(
                notification.target,
                content=notification.body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Acuity-Signature": signature,
                    "User-Agent": "AcuityScheduling-Webhooks (fake)",
                },
            )
        except httpx.HTTPError as exc:
            return None, None, f"{type(exc).__name__}: {exc}"
        return response.status_code, response.text[:_MAX_RECORDED_RESPONSE], None

    # ------------------------------------------------------------------ HTTP: dispatch

    def _handle(self, request: Request) -> Response:
        try:
            if request.path == "/_admin" or request.path.startswith("/_admin/"):
                return self._admin(request)
            return self._limited(request)
        except FakeAcuityError as error:
            return error.response()

    def _limited(self, request: Request) -> Response:
        if not self._limiter.acquire(request.client_host):
            return TOO_MANY_REQUESTS.response()
        try:
            return self._api(request)
        except FakeAcuityError as error:
            return error.response()
        finally:
            self._limiter.release(request.client_host)

    def _authenticate(self, request: Request) -> _Account:
        user_id, api_key = _basic_credentials(request.headers.get("Authorization"))
        with self._lock:
            account = self._accounts.get(user_id) if user_id is not None else None
            if account is None or api_key is None:
                raise UNAUTHORIZED
            if not hmac.compare_digest(account.api_key.encode("utf-8"), api_key.encode("utf-8")):
                raise UNAUTHORIZED
            return account

    def _api_router(self) -> Router:
        router = Router(not_found=self._api_not_found, method_not_allowed=self._api_method_not_allowed)
        router.add("GET", f"{API_PREFIX}/me", self._get_me)
        router.add("GET", f"{API_PREFIX}/appointments", self._list_appointments)
        router.add("GET", f"{API_PREFIX}/appointments/{{id}}", self._get_appointment)
        router.add("GET", f"{API_PREFIX}/appointments/{{id}}/payments", self._get_payments)
        router.add("GET", f"{API_PREFIX}/orders", self._list_orders)
        router.add("GET", f"{API_PREFIX}/orders/{{id}}", self._get_order)
        router.add("GET", f"{API_PREFIX}/webhooks", self._list_webhooks)
        router.add("POST", f"{API_PREFIX}/webhooks", self._create_webhook)
        router.add("DELETE", f"{API_PREFIX}/webhooks/{{id}}", self._delete_webhook)
        return router

    def _api_not_found(self, request: Request) -> Response:
        self._authenticate(request)
        return not_found("Not Found").response()

    def _api_method_not_allowed(self, request: Request, allowed: list[str]) -> Response:  # noqa: ARG002
        self._authenticate(request)
        return FakeAcuityError(405, "method_not_allowed", "Method Not Allowed").response()

    # ------------------------------------------------------------------ HTTP: the API

    def _get_me(self, request: Request) -> Response:
        account = self._authenticate(request)
        with self._lock:
            return json_response(self._me(account))

    def _get_appointment(self, request: Request) -> Response:
        account = self._authenticate(request)
        appointment_id = _path_id(request, "appointments")
        with self._lock:
            appointment = account.appointments.get(appointment_id)
            if appointment is None:
                raise not_found("Appointment not found.")
            return json_response(render_appointment(appointment, account.user_id))

    def _get_payments(self, request: Request) -> Response:
        account = self._authenticate(request)
        appointment_id = _path_id(request, "appointments")
        if appointment_id not in account.appointments:
            raise not_found("Appointment not found.")
        return json_response(self.payments(account.user_id, appointment_id))

    def _list_appointments(self, request: Request) -> Response:
        account = self._authenticate(request)
        wanted = _AppointmentQuery.from_request(request)
        with self._lock:
            matching = [appointment for appointment in account.appointments.values() if wanted.matches(appointment)]
            matching.sort(key=lambda appointment: (appointment.start, appointment.id), reverse=wanted.descending)
            return json_response([render_appointment(a, account.user_id) for a in matching[: wanted.max]])

    def _list_orders(self, request: Request) -> Response:
        account = self._authenticate(request)
        limit = _max_param(request)
        with self._lock:
            orders = sorted(account.orders.values(), key=lambda order: (order.time, order.id), reverse=True)
            return json_response([render_order(order, account.zone) for order in orders[:limit]])

    def _get_order(self, request: Request) -> Response:
        account = self._authenticate(request)
        order_id = _path_id(request, "orders")
        with self._lock:
            order = account.orders.get(order_id)
            if order is None:
                raise not_found("Order not found.")
            return json_response(render_order(order, account.zone))

    def _list_webhooks(self, request: Request) -> Response:
        account = self._authenticate(request)
        with self._lock:
            return json_response([hook.as_json() for hook in account.webhooks.values()])

    def _create_webhook(self, request: Request) -> Response:
        account = self._authenticate(request)
        body = _json_object(request)
        event, target = body.get("event"), body.get("target")
        if event not in WEBHOOK_EVENTS:
            raise bad_request(f"Invalid event. Valid events are: {', '.join(WEBHOOK_EVENTS)}.")
        if not isinstance(target, str) or not target.startswith(("http://", "https://")):
            raise bad_request("target must be an http or https URL.")
        with self._lock:
            if len(account.webhooks) >= MAX_WEBHOOKS_PER_ACCOUNT:
                raise bad_request(
                    f"Webhook limit reached. A maximum of {MAX_WEBHOOKS_PER_ACCOUNT} webhooks can be created."
                )
            hook = _Webhook(next(self._webhook_ids), str(event), target)
            account.webhooks[hook.id] = hook
            return json_response(hook.as_json())

    def _delete_webhook(self, request: Request) -> Response:
        account = self._authenticate(request)
        hook_id = _path_id(request, "webhooks")
        with self._lock:
            if account.webhooks.pop(hook_id, None) is None:
                raise not_found("Webhook not found.")
        return empty(204)

    # ------------------------------------------------------------------ HTTP: admin

    def _admin_router(self) -> Router:
        router = Router(not_found=_admin_not_found, method_not_allowed=_admin_method_not_allowed)
        router.add("POST", "/_admin/accounts", self._admin_create_account)
        router.add("POST", "/_admin/appointments", self._admin_book)
        router.add("PATCH", "/_admin/appointments/{id}", self._admin_change)
        router.add("POST", "/_admin/orders", self._admin_order)
        router.add("GET", "/_admin/deliveries", self._admin_deliveries)
        router.add("GET", "/_admin/clock", self._admin_clock)
        router.add("POST", "/_admin/clock", self._admin_clock)
        return router

    def _admin_create_account(self, request: Request) -> Response:
        body = _json_object(request)
        _check_known_fields(body, {"user_id", "api_key", *_ACCOUNT_PROFILE_FIELDS})
        user_id, api_key = body.get("user_id"), body.get("api_key")
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            raise bad_request("user_id must be an integer.")
        if not isinstance(api_key, str):
            raise bad_request("api_key must be a string.")
        profile: dict[str, str] = {}
        for key in _ACCOUNT_PROFILE_FIELDS & set(body):
            if not isinstance(body[key], str):
                raise bad_request(f"{key} must be a string.")
            profile[key] = body[key]
        existed = self.has_account(user_id)
        account = self.add_account(user_id, api_key, **profile)
        return json_response(account, status=200 if existed else 201)

    def _admin_book(self, request: Request) -> Response:
        return json_response(self.book_appointment(_account_param(request), _json_object(request)), status=201)

    def _admin_change(self, request: Request) -> Response:
        appointment_id = _path_id(request, "appointments")
        changes = _json_object(request)
        return json_response(self.change_appointment(_account_param(request), appointment_id, changes))

    def _admin_order(self, request: Request) -> Response:
        return json_response(self.complete_order(_account_param(request), _json_object(request)), status=201)

    def _admin_deliveries(self, request: Request) -> Response:
        account = request.query_one("account")
        return json_response(self.deliveries(_int_param(account, "account") if account is not None else None))

    def _admin_clock(self, request: Request) -> Response:
        if request.method == "POST":
            body = _json_object(request)
            seconds = body.get("advance")
            if isinstance(seconds, bool) or not isinstance(seconds, int | Decimal) or seconds < 0:
                raise bad_request("advance must be a non-negative number of seconds.")
            self.clock.advance(float(seconds))
        return json_response({"now": self.clock.now().isoformat(), "monotonic": self.clock.monotonic()})


# --------------------------------------------------------------------------------------------------- request helpers


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

    @classmethod
    def from_request(cls, request: Request) -> _AppointmentQuery:
        min_date, max_date = request.query_one("minDate"), request.query_one("maxDate")
        calendar_id, type_id = request.query_one("calendarID"), request.query_one("appointmentTypeID")
        return cls(
            min_date=parse_date_param(min_date, "minDate") if min_date else None,
            max_date=parse_date_param(max_date, "maxDate") if max_date else None,
            canceled=(request.query_one("canceled") or "").lower() in ("true", "1"),
            max=_max_param(request),
            descending=(request.query_one("direction") or "DESC").upper() != "ASC",
            calendar_id=_int_param(calendar_id, "calendarID") if calendar_id else None,
            appointment_type_id=_int_param(type_id, "appointmentTypeID") if type_id else None,
            email=request.query_one("email") or None,
        )

    def matches(self, appointment: _Appointment) -> bool:
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


def _basic_credentials(header: str | None) -> tuple[int | None, str | None]:
    """(user id, API key) from `Authorization: Basic ...`; (None, None) when absent or malformed."""
    if not header or header[:6].lower() != "basic ":
        return None, None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    user, separator, key = decoded.partition(":")
    if not separator or not user.isdigit():
        return None, None
    return int(user), key


def _json_object(request: Request) -> JsonObject:
    try:
        body = request.json(parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("Expected a JSON object.") from None
    if not isinstance(body, dict):
        raise bad_request("Expected a JSON object.")
    return body


def _int_param(value: str | None, name: str) -> int:
    if value is None or not value.strip().lstrip("-").isdigit():
        raise bad_request(f"{name} must be an integer.")
    return int(value)


def _max_param(request: Request) -> int:
    value = request.query_one("max")
    if value is None or value == "":
        return DEFAULT_LIST_MAX
    limit = _int_param(value, "max")
    if limit < 1:
        raise bad_request("max must be at least 1.")
    return limit


def _path_id(request: Request, collection: str) -> int:
    value = request.path_params.get("id", "")
    if not value.isdigit():
        raise not_found(f"Not Found. Did you mean `/{collection}/{{id:number}}`?")
    return int(value)


def _account_param(request: Request) -> int:
    return _int_param(request.query_one("account"), "account")


def _admin_not_found(request: Request) -> Response:  # noqa: ARG001 - a Router hook
    return not_found("No such admin endpoint.").response()


def _admin_method_not_allowed(request: Request, allowed: list[str]) -> Response:  # noqa: ARG001 - a Router hook
    return FakeAcuityError(405, "method_not_allowed", "Method Not Allowed").response()
