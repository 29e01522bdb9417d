"""The fake Acuity's records (accounts, appointments, payments, orders, webhook subscriptions) and how the API shows
them: exactly as GET /api/v1/appointments/{id}, /payments, /orders/{id} and /me return them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from acuity_sync_toolkit.fakes.acuity.certificates import Certificate
from acuity_sync_toolkit.fakes.acuity.errors import JsonObject
from acuity_sync_toolkit.fakes.acuity.formats import (
    format_display_date,
    format_display_time,
    format_money,
    format_offset_datetime,
    format_order_time,
)

SCHEDULING_HOST = "https://app.acuityscheduling.com"


@dataclass(slots=True)
class Payment:
    transaction_id: str
    created: datetime
    processor: str
    amount: Decimal


@dataclass(slots=True)
class Appointment:
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
    # A test's control, never a business's: fields the API answers as given here (OMIT leaves one out), to stand
    # for data Acuity should not send (a negative or sub-cent price, no price at all).
    raw: dict[str, Any] = field(default_factory=dict)


OMIT = object()  # in Appointment.raw: the API leaves the field out


@dataclass(slots=True)
class Order:
    id: int
    total: Decimal
    status: str
    time: datetime
    details: JsonObject  # firstName, lastName, phone, email, title, notes


@dataclass(frozen=True, slots=True)
class Webhook:
    id: int
    event: str
    target: str

    def as_json(self) -> JsonObject:
        return {"id": self.id, "event": self.event, "target": self.target, "status": "active"}


@dataclass(frozen=True, slots=True)
class AccountProfile:
    """What a business sets on its account (`FakeAcuity.add_account` has the defaults)."""

    name: str
    email: str | None  # None: owner{user_id}@example.com
    timezone: str
    currency: str
    action_format: str  # "plain" | "event": how webhooks spell `action`
    plan: str


@dataclass(slots=True)
class Account:
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
    appointments: dict[int, Appointment] = field(default_factory=dict)
    payments: dict[int, list[Payment]] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    webhooks: dict[int, Webhook] = field(default_factory=dict)
    deliveries: list[JsonObject] = field(default_factory=list)
    certificates: dict[str, Certificate] = field(default_factory=dict)  # by code, case-folded

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


def _is_paid(price: Decimal, amount_paid: Decimal) -> bool:
    # The reference shows a $0 appointment with nothing paid as "no": "yes" needs a payment covering the price.
    return amount_paid > 0 and amount_paid >= price


def _derived_forms_text(appointment: Appointment) -> str:
    name = f"{appointment.details['firstName']} {appointment.details['lastName']}".strip()
    lines = [f"Name: {name}"]
    for form in appointment.details["forms"]:
        for value in form.get("values", []):
            if isinstance(value, dict):
                lines.append(f"{value.get('name', '')}: {value.get('value', '')}")
    return "\n".join(lines)


def render_appointment(appointment: Appointment, owner: int) -> JsonObject:
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
    for name, value in appointment.raw.items():
        if value is OMIT:
            rendered.pop(name, None)
        else:
            rendered[name] = value
    return rendered


def render_payment(payment: Payment, zone: ZoneInfo) -> JsonObject:
    return {
        "transactionID": payment.transaction_id,
        "created": format_offset_datetime(payment.created, zone),
        "processor": payment.processor,
        "amount": format_money(payment.amount),
    }


def render_order(order: Order, zone: ZoneInfo) -> JsonObject:
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


def render_me(account: Account) -> JsonObject:
    """GET /api/v1/me."""
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
