"""Acuity's appointments, orders, payments and account, as the API sends them, read strictly where money and time
are concerned and leniently everywhere else.

- Money is `Decimal` to the cent. Acuity sends strings ("55", "10.00"); a value with more precision than a cent
  ("10.005") or a negative one is refused, never rounded: an invoice must net to Acuity's price exactly.
- `paid` "yes"/"no" becomes a bool; `datetime` "2013-07-02T10:15:00-0700" (offset without a colon) an aware
  datetime; an order's `time` ("2014-09-23 14:22", no offset) stays naive, local to the account's time zone.
- Unknown fields are ignored (Acuity adds fields over time); the display strings (`date`, `time`, ...) are
  locale-formatted and deliberately not read.

Models are frozen. Build them from Acuity's JSON (camelCase aliases) or by field name in tests.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, PlainValidator

from acuity_sync.domain.billable import CodeKind

CENTS = Decimal("0.01")
_T = TypeVar("_T")

# Plain decimal notation only: "1e3", "1,000.00", "$5" or " " are not amounts Acuity writes.
_AMOUNT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


# ------------------------------------------------------------------------------------------------ value parsers


def parse_money(value: object) -> Decimal:
    """An amount to the cent from Acuity's string (or a JSON number read as Decimal, or an int).

    Raises ValueError for anything else: floats (never money), bools, blanks, negatives, more than cents."""
    if isinstance(value, bool | float):
        raise ValueError("an amount must be a decimal string such as '10.00', not a float or a boolean")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        text = value.strip()
        if not _AMOUNT.fullmatch(text):
            raise ValueError(f"not an amount: {value!r}")
        amount = Decimal(text)
    else:
        raise ValueError(f"an amount must be a decimal string, not {type(value).__name__}")
    if not amount.is_finite():
        raise ValueError("an amount must be a finite number")
    if amount < 0:
        raise ValueError(f"a negative amount is not expected from Acuity: {amount}")
    try:
        cents = amount.quantize(CENTS)
    except InvalidOperation:  # more digits than the decimal context holds
        raise ValueError("the amount is too large") from None
    if cents != amount:
        raise ValueError(f"the amount {amount} has more precision than a cent; refusing to round it")
    return cents


def format_money(amount: Decimal) -> str:
    """The way Acuity writes an amount: "10.00"."""
    return f"{amount.quantize(CENTS):f}"


def parse_yes_no(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("yes", "no"):
        return value.strip().lower() == "yes"
    raise ValueError(f"expected 'yes' or 'no', got {value!r}")


def parse_aware_datetime(value: object) -> dt.datetime:
    """`2013-07-02T10:15:00-0700` (Acuity's offset has no colon) or any ISO 8601 date-time with an offset."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not a date-time: {value!r}") from None
    else:
        raise ValueError(f"a date-time must be a string, not {type(value).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"the date-time has no UTC offset: {value!r}")
    return moment


def parse_naive_datetime(value: object) -> dt.datetime:
    """An order's `time`: "2014-09-23 14:22", wall-clock time in the account's time zone, no offset."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not a date-time: {value!r}") from None
    else:
        raise ValueError(f"a date-time must be a string, not {type(value).__name__}")
    if moment.tzinfo is not None:
        # Documented without an offset; one that carries an offset would make `localised` ambiguous.
        raise ValueError(f"an order time is expected without a UTC offset: {value!r}")
    return moment


def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The IANA zone, or None for a blank or unknown name (an unknown zone must not break a sync)."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _none_to(default: Any) -> BeforeValidator:
    """Acuity writes null or omits what another account writes as "" or []: read both as the empty value."""
    return BeforeValidator(lambda value: default if value is None else value)


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def format_datetime(moment: dt.datetime) -> str:
    """Acuity's own notation ("2013-07-02T10:15:00-0700"; naive for an order's "2014-09-23 14:22"), so that a
    model dumped to JSON by alias (a snapshot) reads back as the same model."""
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M:%S" if moment.second else "%Y-%m-%d %H:%M")
    return moment.strftime("%Y-%m-%dT%H:%M:%S%z")


def _optional(parse: Callable[[object], _T]) -> Callable[[object], _T | None]:
    return lambda value: None if _blank_to_none(value) is None else parse(value)


def _optional_format(format_: Callable[[_T], str]) -> Callable[[_T | None], str | None]:
    return lambda value: None if value is None else format_(value)


# Serialised in Acuity's notation for JSON only; in Python mode the values stay Decimal and datetime.
Money = Annotated[Decimal, PlainValidator(parse_money), PlainSerializer(format_money, when_used="json")]
OptionalMoney = Annotated[
    Decimal | None,
    PlainValidator(_optional(parse_money)),
    PlainSerializer(_optional_format(format_money), when_used="json"),
]
YesNo = Annotated[
    bool, PlainValidator(parse_yes_no), PlainSerializer(lambda flag: "yes" if flag else "no", when_used="json")
]
AwareDatetime = Annotated[
    dt.datetime, PlainValidator(parse_aware_datetime), PlainSerializer(format_datetime, when_used="json")
]
OptionalAwareDatetime = Annotated[
    dt.datetime | None,
    PlainValidator(_optional(parse_aware_datetime)),
    PlainSerializer(_optional_format(format_datetime), when_used="json"),
]
NaiveDatetime = Annotated[
    dt.datetime, PlainValidator(parse_naive_datetime), PlainSerializer(format_datetime, when_used="json")
]
Text = Annotated[str, _none_to("")]


class _AcuityModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", validate_by_alias=True, validate_by_name=True)


# ------------------------------------------------------------------------------------------------ appointments


class FormValue(_AcuityModel):
    id: int | None = None
    field_id: int | None = Field(default=None, alias="fieldID")
    name: Text = ""
    value: Annotated[str, BeforeValidator(lambda value: "" if value is None else str(value))] = ""


class Form(_AcuityModel):
    id: int | None = None
    name: Text = ""
    values: Annotated[tuple[FormValue, ...], _none_to(())] = ()


class Appointment(_AcuityModel):
    """GET /appointments/{id}: the fields the sync reads."""

    id: int
    first_name: Text = Field(default="", alias="firstName")
    last_name: Text = Field(default="", alias="lastName")
    email: Text = ""  # "" when the business booked without one
    phone: Text = ""
    datetime: AwareDatetime
    datetime_created: OptionalAwareDatetime = Field(default=None, alias="datetimeCreated")
    price: Money
    price_sold: OptionalMoney = Field(default=None, alias="priceSold")  # not in every account's payload
    amount_paid: Money = Field(default=Decimal("0.00"), alias="amountPaid")
    paid: YesNo = False
    type: Text = ""
    appointment_type_id: int = Field(alias="appointmentTypeID")
    calendar: Text = ""
    calendar_id: int = Field(alias="calendarID")
    class_id: int | None = Field(default=None, alias="classID")
    canceled: bool = False
    no_show: bool = Field(default=False, alias="noShow")  # present once canceled
    certificate: Annotated[str | None, BeforeValidator(_blank_to_none)] = None  # package/gift/coupon code
    notes: Text = ""
    forms: Annotated[tuple[Form, ...], _none_to(())] = ()
    addon_ids: Annotated[tuple[int, ...], _none_to(())] = Field(default=(), alias="addonIDs")
    duration: int  # minutes; Acuity sends "60"
    location: Text = ""
    calendar_timezone: Annotated[str | None, BeforeValidator(_blank_to_none)] = Field(
        default=None, alias="calendarTimezone"
    )
    timezone: Annotated[str | None, BeforeValidator(_blank_to_none)] = None  # the client's zone

    @property
    def zone(self) -> dt.tzinfo:
        """The calendar's time zone; else the offset Acuity wrote `datetime` with (the calendar's wall clock).

        The client's `timezone` is not used for dates: Acuity renders `datetime` in the calendar's zone, so its
        offset says more about the business's day than where the client lives."""
        zone = zone_or_none(self.calendar_timezone)
        if zone is not None:
            return zone
        offset = self.datetime.tzinfo
        assert offset is not None  # parse_aware_datetime guarantees it
        return offset

    @property
    def local_start(self) -> dt.datetime:
        return self.datetime.astimezone(self.zone)

    @property
    def local_date(self) -> dt.date:
        """The appointment's date in the calendar's time zone: the invoice date."""
        return self.local_start.date()

    @property
    def end(self) -> dt.datetime:
        return self.datetime + dt.timedelta(minutes=self.duration)

    @property
    def has_email(self) -> bool:
        return bool(self.email.strip())


# ------------------------------------------------------------------------------------------------ payments


class Payment(_AcuityModel):
    """GET /appointments/{id}/payments: one processor transaction."""

    transaction_id: str = Field(alias="transactionID")
    created: AwareDatetime
    processor: Text = ""
    amount: Money

    def local_date(self, zone: str | dt.tzinfo | None = None) -> dt.date:
        """The payment's date in `zone` (the calendar's, say); in the offset Acuity wrote when None or unknown."""
        target = zone_or_none(zone) if isinstance(zone, str) else zone
        return self.created.astimezone(target).date() if target is not None else self.created.date()


# ------------------------------------------------------------------------------------------------ orders


class OrderStatus(StrEnum):
    PAID = "paid"
    UNPAID = "unpaid"
    DELIVERED = "delivered"


class Order(_AcuityModel):
    """GET /orders/{id}: a package, gift certificate or subscription sold in Acuity's store."""

    id: int
    total: Money
    status: OrderStatus
    time: NaiveDatetime  # wall-clock time in the account's time zone
    first_name: Text = Field(default="", alias="firstName")
    last_name: Text = Field(default="", alias="lastName")
    email: Text = ""
    phone: Text = ""
    title: Text = ""  # the products' names
    notes: Text = ""

    def localised(self, zone: str | dt.tzinfo) -> dt.datetime:
        """`time` as an aware datetime in the account's time zone (GET /me `timezone`).

        A wall-clock time that a DST change skips or repeats takes the first (fold=0) reading."""
        target = ZoneInfo(zone) if isinstance(zone, str) else zone
        return self.time.replace(tzinfo=target)

    @property
    def local_date(self) -> dt.date:
        """The order's date in the account's time zone (its time is already local)."""
        return self.time.date()

    @property
    def has_email(self) -> bool:
        return bool(self.email.strip())


# ------------------------------------------------------------------------------------------------ account


class AccountInfo(_AcuityModel):
    """GET /me: the Acuity account the API key belongs to."""

    id: int
    name: Text = ""
    email: Text = ""
    timezone: Text = ""
    currency: Annotated[str, BeforeValidator(lambda value: "" if value is None else str(value).strip().upper())] = ""
    plan: Text = ""

    @property
    def zone(self) -> ZoneInfo | None:
        return zone_or_none(self.timezone)


# ------------------------------------------------------------------------------------------------ codes

# Acuity's certificates carry a `type`; the words for each kind that we know of (the fake Acuity answers the
# first of each; what Acuity itself writes there is UNCONFIRMED, hence the fallbacks in Certificate.kind).
_CODE_TYPES = {
    "package": CodeKind.PACKAGE,
    "counts": CodeKind.PACKAGE,
    "minutes": CodeKind.PACKAGE,
    "gift": CodeKind.GIFT,
    "gift_certificate": CodeKind.GIFT,
    "giftcertificate": CodeKind.GIFT,
    "value": CodeKind.GIFT,
    "subscription": CodeKind.SUBSCRIPTION,
    "coupon": CodeKind.COUPON,
}


class Certificate(_AcuityModel):
    """GET /certificates and /certificates/check: a package, gift certificate, subscription or coupon code."""

    id: int | None = None
    certificate: str
    type: Text = ""
    product_id: int | None = Field(default=None, alias="productID")
    order_id: int | None = Field(default=None, alias="orderID")
    coupon_id: int | None = Field(default=None, alias="couponID")
    name: Text = ""
    email: Text = ""
    appointment_type_ids: Annotated[tuple[int, ...], _none_to(())] = Field(default=(), alias="appointmentTypeIDs")

    @property
    def kind(self) -> CodeKind:
        """By its `type`; else a code made for a coupon is a coupon, and one sold as a product or in an order was
        paid for in advance (a package); else unknown."""
        named = _CODE_TYPES.get(self.type.strip().lower().replace(" ", "_"))
        if named is not None:
            return named
        if self.coupon_id is not None:
            return CodeKind.COUPON
        if self.product_id is not None or self.order_id is not None:
            return CodeKind.PACKAGE
        return CodeKind.UNKNOWN

    def is_code(self, code: str) -> bool:
        return self.certificate.strip().casefold() == code.strip().casefold()


# ------------------------------------------------------------------------------------------------ webhooks


class Webhook(_AcuityModel):
    """A dynamic webhook subscription (POST/GET /webhooks)."""

    id: int
    event: str
    target: str
    status: Text = ""
