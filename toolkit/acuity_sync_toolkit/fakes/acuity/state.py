"""The fake Acuity's state: accounts and their appointments, payments, orders, webhook subscriptions and delivery
records, and what a business does to them (book, change, sell). Each change returns the notifications it fires;
the caller delivers them outside the lock (a receiver may call back into the API while handling its webhook)."""

from __future__ import annotations

import copy
import itertools
import secrets
import threading
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from acuity_sync_toolkit.fakes.acuity import certificates
from acuity_sync_toolkit.fakes.acuity.entities import (
    Account,
    AccountProfile,
    Appointment,
    Order,
    Payment,
    Webhook,
    render_appointment,
    render_me,
    render_order,
    render_payment,
)
from acuity_sync_toolkit.fakes.acuity.errors import JsonObject, bad_request, not_found
from acuity_sync_toolkit.fakes.acuity.fields import (
    ACTION_FORMATS,
    APPOINTMENT_FIELDS,
    IMMUTABLE_FIELDS,
    ORDER_DETAIL_FIELDS,
    ORDER_STATUSES,
    PAYMENT_PROCESSORS,
    check_known_fields,
    is_int,
    parse_bool,
    parse_duration,
    validated_details,
)
from acuity_sync_toolkit.fakes.acuity.formats import load_zone, parse_datetime, parse_money
from acuity_sync_toolkit.fakes.acuity.webhooks import (
    MAX_WEBHOOKS_PER_ACCOUNT,
    Notification,
    appointment_notifications,
    change_events,
    order_notifications,
)
from acuity_sync_toolkit.fakes.clock import FakeClock

_FIRST_APPOINTMENT_ID = 1_000_001
_FIRST_ORDER_ID = 50_001
_FIRST_CALENDAR_ID = 27_238

Changed = tuple[JsonObject, list[Notification]]  # what a change made, as the API shows it, and what it fires


class AcuityState:
    """Every account of the fake; thread-safe through `lock` (re-entrant, held by the API while it reads)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self._accounts: dict[int, Account] = {}
        self._appointment_owner: dict[int, int] = {}
        self._order_owner: dict[int, int] = {}
        self._transaction_ids: set[str] = set()
        self._appointment_ids = itertools.count(_FIRST_APPOINTMENT_ID)
        self._order_ids = itertools.count(_FIRST_ORDER_ID)
        self._calendar_ids = itertools.count(_FIRST_CALENDAR_ID)
        self._webhook_ids = itertools.count(1)  # unique across accounts, as Acuity's
        self._certificate_ids = itertools.count(1)

    # ------------------------------------------------------------------ accounts

    def add_account(self, user_id: int, api_key: str, profile: AccountProfile) -> JsonObject:
        """Create an account, or update the profile and key of an existing one (its data is kept)."""
        if not is_int(user_id) or user_id <= 0:
            raise bad_request("user_id must be a positive integer.")
        if not isinstance(api_key, str) or not api_key:
            raise bad_request("api_key must be a non-empty string.")
        load_zone(profile.timezone)
        if profile.action_format not in ACTION_FORMATS:
            raise bad_request(f"action_format must be one of {', '.join(ACTION_FORMATS)}.")
        currency = profile.currency
        if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
            raise bad_request('currency must be a three-letter code such as "USD".')
        with self.lock:
            account = self._accounts.get(user_id)
            if account is None:
                account = Account(
                    user_id=user_id,
                    api_key=api_key,
                    name=profile.name,
                    email="",
                    timezone=profile.timezone,
                    currency="",
                    action_format=profile.action_format,
                    plan=profile.plan,
                    calendar_id=next(self._calendar_ids),
                    calendar=profile.name,
                )
                self._accounts[user_id] = account
            account.api_key, account.name, account.plan = api_key, profile.name, profile.plan
            account.email = profile.email or f"owner{user_id}@example.com"
            account.timezone, account.currency = profile.timezone, currency.upper()
            account.action_format = profile.action_format
            return account.admin_view()

    def has_account(self, user_id: int) -> bool:
        with self.lock:
            return user_id in self._accounts

    def find_account(self, user_id: int) -> Account | None:
        with self.lock:
            return self._accounts.get(user_id)

    def account(self, user_id: int) -> Account:
        """The account, or Acuity's 404."""
        with self.lock:
            account = self._accounts.get(user_id)
            if account is None:
                raise not_found(f"No account {user_id}.")
            return account

    # ------------------------------------------------------------------ the business's actions

    def book_appointment(self, account_id: int, fields: Mapping[str, Any]) -> Changed:
        """Book an appointment from a partial one in Acuity's shape; fires scheduled then changed."""
        with self.lock:
            account = self.account(account_id)
            processor = _processor(fields)
            appointment = self._new_appointment(account, fields)
            _redeem(account, appointment, fields)
            account.appointments[appointment.id] = appointment
            self._appointment_owner[appointment.id] = account.user_id
            if appointment.amount_paid > 0:
                self._record_payment(account, appointment, appointment.amount_paid, processor)
            rendered = render_appointment(appointment, account.user_id)
            events = ["appointment.scheduled", "appointment.changed"]
            return rendered, appointment_notifications(account, events, rendered)

    def change_appointment(self, account_id: int, appointment_id: int, changes: Mapping[str, Any]) -> Changed:
        """Change an appointment as the business would; fires rescheduled/canceled (when so) then changed."""
        with self.lock:
            account = self.account(account_id)
            appointment = account.appointments.get(appointment_id)
            if appointment is None:
                raise not_found(f"Appointment {appointment_id} not found.")
            # Applied to a copy and committed whole: a refused change leaves nothing half-done.
            changed = copy.deepcopy(appointment)
            payment = _apply_changes(changed, changes)
            _code_changed(account, appointment, changed, changes)
            account.appointments[appointment_id] = changed
            if payment is not None:
                self._record_payment(account, changed, *payment)
            before = render_appointment(appointment, account.user_id)
            rendered = render_appointment(changed, account.user_id)
            events = change_events(appointment, changed, before, rendered)
            return rendered, appointment_notifications(account, events, rendered)

    def complete_order(self, account_id: int, fields: Mapping[str, Any]) -> Changed:
        """Record a completed order (package, gift certificate, subscription); fires order.completed."""
        with self.lock:
            account = self.account(account_id)
            order = self._new_order(account, fields)
            account.orders[order.id] = order
            self._order_owner[order.id] = account.user_id
            return render_order(order, account.zone), order_notifications(account, order.id)

    # ------------------------------------------------------------------ reading

    def me(self, account_id: int) -> JsonObject:
        with self.lock:
            return render_me(self.account(account_id))

    def appointment(self, account_id: int, appointment_id: int) -> JsonObject:
        with self.lock:
            account = self.account(account_id)
            appointment = account.appointments.get(appointment_id)
            if appointment is None:
                raise not_found(f"Appointment {appointment_id} not found.")
            return render_appointment(appointment, account.user_id)

    def payments(self, account_id: int, appointment_id: int) -> list[JsonObject]:
        """As GET /api/v1/appointments/{id}/payments returns them."""
        with self.lock:
            account = self.account(account_id)
            appointment = account.appointments.get(appointment_id)
            if appointment is None:
                raise not_found(f"Appointment {appointment_id} not found.")
            zone = ZoneInfo(appointment.calendar_timezone)
            return [render_payment(payment, zone) for payment in account.payments.get(appointment_id, [])]

    # ------------------------------------------------------------------ codes (certificates.py)

    def add_certificate(self, account_id: int, fields: Mapping[str, Any]) -> JsonObject:
        """A package, gift certificate, subscription or coupon code the business made."""
        with self.lock:
            account = self.account(account_id)
            made = certificates.new_certificate(next(self._certificate_ids), fields)
            if certificates.find(account.certificates, made.code) is not None:
                raise bad_request(f"The code {made.code} already exists.")
            account.certificates[made.code.casefold()] = made
            return made.as_json()

    def certificates(self, account_id: int, query: Mapping[str, str | None]) -> list[JsonObject]:
        with self.lock:
            return certificates.listed(self.account(account_id).certificates, query)

    def check_certificate(self, account_id: int, code: str | None, appointment_type_id: int | None) -> JsonObject:
        with self.lock:
            return certificates.checked(self.account(account_id).certificates, code, appointment_type_id)

    def serve_raw(self, account_id: int, appointment_id: int, fields: Mapping[str, Any]) -> None:
        """A test's control: the API answers these fields of the appointment as given (entities.OMIT leaves one
        out), standing for data Acuity should not send."""
        with self.lock:
            appointment = self.account(account_id).appointments.get(appointment_id)
            if appointment is None:
                raise not_found(f"Appointment {appointment_id} not found.")
            appointment.raw.update(fields)

    # ------------------------------------------------------------------ webhooks

    def add_webhook(self, account: Account, event: str, target: str) -> Webhook:
        with self.lock:
            if len(account.webhooks) >= MAX_WEBHOOKS_PER_ACCOUNT:
                raise bad_request(
                    f"Webhook limit reached. A maximum of {MAX_WEBHOOKS_PER_ACCOUNT} webhooks can be created."
                )
            hook = Webhook(next(self._webhook_ids), event, target)
            account.webhooks[hook.id] = hook
            return hook

    def remove_webhook(self, account: Account, hook_id: int) -> None:
        with self.lock:
            if account.webhooks.pop(hook_id, None) is None:
                raise not_found("Webhook not found.")

    def api_key(self, account_id: int) -> str | None:
        """What deliveries are signed with (None: no such account)."""
        with self.lock:
            account = self._accounts.get(account_id)
            return None if account is None else account.api_key

    def secrets(self) -> set[str]:
        """Every account's API key and every e-mail address it holds (the owners' and the clients'): what must
        never appear in a log (the end-to-end tests look for them)."""
        found: set[str] = set()
        with self.lock:
            for account in self._accounts.values():
                found |= {account.api_key, account.email}
                details = [appointment.details for appointment in account.appointments.values()]
                details += [order.details for order in account.orders.values()]
                found |= {str(detail["email"]) for detail in details if detail.get("email")}
        return found

    def record_delivery(self, account_id: int, record: JsonObject) -> None:
        with self.lock:
            self._accounts[account_id].deliveries.append(record)

    def deliveries(self, account_id: int | None = None) -> list[JsonObject]:
        """Every delivery attempt, oldest first (of one account, or of all)."""
        with self.lock:
            if account_id is not None:
                return [dict(record) for record in self.account(account_id).deliveries]
            records = [record for account in self._accounts.values() for record in account.deliveries]
            return [dict(record) for record in sorted(records, key=lambda record: str(record["at"]))]

    # ------------------------------------------------------------------ building appointments and orders

    def _new_appointment(self, account: Account, fields: Mapping[str, Any]) -> Appointment:
        check_known_fields(fields, APPOINTMENT_FIELDS)
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
        details.update(validated_details(fields))
        forms_text = fields.get("formsText")
        if forms_text is not None and not isinstance(forms_text, str):
            raise bad_request("formsText must be a string.")
        return Appointment(
            id=self._new_appointment_id(fields.get("id")),
            start=_start_of(fields, calendar_zone, now),
            created=parse_datetime(fields["datetimeCreated"], calendar_zone, "datetimeCreated")
            if "datetimeCreated" in fields
            else now,
            duration=parse_duration(fields.get("duration", 60)),
            price=price,
            price_sold=parse_money(fields["priceSold"], "priceSold") if "priceSold" in fields else price,
            amount_paid=parse_money(fields.get("amountPaid", "0.00"), "amountPaid"),
            calendar_timezone=calendar_zone_name,
            client_timezone=client_zone_name,
            confirmation_hash=secrets.token_hex(16),
            details=details,
            canceled=parse_bool(fields.get("canceled", False), "canceled"),
            no_show=parse_bool(fields.get("noShow", False), "noShow"),
            forms_text=forms_text,
        )

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

    def _record_payment(self, account: Account, appointment: Appointment, amount: Decimal, processor: str) -> None:
        """A payment as the processor reports it to Acuity: a new unique transaction id."""
        while (transaction_id := f"ch_{secrets.token_hex(12)}") in self._transaction_ids:
            pass
        self._transaction_ids.add(transaction_id)
        payment = Payment(transaction_id, self.clock.now(), processor, amount)
        account.payments.setdefault(appointment.id, []).append(payment)

    def _new_order(self, account: Account, fields: Mapping[str, Any]) -> Order:
        check_known_fields(fields, {"id", "total", "status", "time", *ORDER_DETAIL_FIELDS})
        details: JsonObject = {
            "firstName": "",
            "lastName": "",
            "phone": "",
            "email": "",
            "title": "Gift Certificate",
            "notes": "",
        }
        for name in ORDER_DETAIL_FIELDS:
            if name in fields:
                if not isinstance(fields[name], str):
                    raise bad_request(f"{name} must be a string.")
                details[name] = fields[name]
        status = fields.get("status", "paid")
        if status not in ORDER_STATUSES:
            raise bad_request(f"status must be one of {', '.join(ORDER_STATUSES)}.")
        return Order(
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


# ----------------------------------------------------------------------------------------------- changes


def _start_of(fields: Mapping[str, Any], zone: ZoneInfo, now: datetime) -> datetime:
    if "datetime" in fields:
        return parse_datetime(fields["datetime"], zone)
    # Tomorrow at 10:00 in the calendar's time zone: a plausible booking.
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(10, 0), tzinfo=zone)


def _apply_changes(appointment: Appointment, changes: Mapping[str, Any]) -> tuple[Decimal, str] | None:
    """Change `appointment` in place; returns the payment (amount, processor) that a raised amountPaid makes."""
    check_known_fields(changes, APPOINTMENT_FIELDS)
    fixed = sorted(name for name in IMMUTABLE_FIELDS & set(changes))
    if fixed:
        raise bad_request(f"Cannot change {', '.join(fixed)}.")
    if appointment.canceled and changes.get("canceled") is False:
        raise bad_request("After an appointment is canceled it cannot be un-canceled.")
    appointment.details.update(validated_details(changes))
    _change_times(appointment, changes)
    payment = _change_money(appointment, changes)
    if "canceled" in changes:
        appointment.canceled = appointment.canceled or parse_bool(changes["canceled"], "canceled")
    if "noShow" in changes:
        appointment.no_show = parse_bool(changes["noShow"], "noShow")
    if "formsText" in changes:
        if changes["formsText"] is not None and not isinstance(changes["formsText"], str):
            raise bad_request("formsText must be a string.")
        appointment.forms_text = changes["formsText"]
    return payment


def _change_times(appointment: Appointment, changes: Mapping[str, Any]) -> None:
    if "calendarTimezone" in changes:
        load_zone(changes["calendarTimezone"], "calendarTimezone")
        appointment.calendar_timezone = changes["calendarTimezone"]
    if "timezone" in changes:
        load_zone(changes["timezone"])
        appointment.client_timezone = changes["timezone"]
    if "datetime" in changes:
        appointment.start = parse_datetime(changes["datetime"], ZoneInfo(appointment.calendar_timezone))
    if "duration" in changes:
        appointment.duration = parse_duration(changes["duration"])


def _change_money(appointment: Appointment, changes: Mapping[str, Any]) -> tuple[Decimal, str] | None:
    if "price" in changes:
        appointment.price = parse_money(changes["price"], "price")
        # A price edited by the business is what the client is sold at, unless priceSold is given too.
        appointment.price_sold = appointment.price
    if "priceSold" in changes:
        appointment.price_sold = parse_money(changes["priceSold"], "priceSold")
    if "amountPaid" not in changes:
        return None
    processor = _processor(changes)
    new_amount = parse_money(changes["amountPaid"], "amountPaid")
    increase = new_amount - appointment.amount_paid
    if increase < 0:
        # Refunds happen in the payment processor and are never reflected in Acuity.
        raise bad_request("amountPaid cannot decrease: Acuity does not record refunds.")
    appointment.amount_paid = new_amount
    return (increase, processor) if increase > 0 else None


def _redeem(account: Account, appointment: Appointment, fields: Mapping[str, Any]) -> None:
    """Booking with a code uses it once; a coupon's discount is the price the appointment is sold at."""
    code = appointment.details.get("certificate")
    if not code:
        return
    used = certificates.redeem(account.certificates, str(code), int(appointment.details["appointmentTypeID"]))
    if not used.prepaid and "priceSold" not in fields:
        appointment.price_sold = used.discounted(appointment.price)


def _code_changed(account: Account, before: Appointment, after: Appointment, changes: Mapping[str, Any]) -> None:
    """A code applied to an existing appointment is redeemed; a cancellation by the business (not a no-show) puts
    a package code's use back."""
    code = after.details.get("certificate")
    if "certificate" in changes and code and code != before.details.get("certificate"):
        _redeem(account, after, changes)
    if code and after.canceled and not before.canceled and not after.no_show:
        certificates.give_back(account.certificates, str(code))


def _processor(fields: Mapping[str, Any]) -> str:
    processor = fields.get("paymentProcessor", "stripe")
    if processor not in PAYMENT_PROCESSORS:
        raise bad_request(f"paymentProcessor must be one of {', '.join(PAYMENT_PROCESSORS)}.")
    return str(processor)
