"""Acuity's value formats: money as strings with two decimals, date-times with a colon-less offset in the calendar's
time zone, and the display strings of dates and times; and the parsers of what a client or a business sends."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from acuity_sync_toolkit.fakes.acuity.errors import bad_request

_CENTS = Decimal("0.01")


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
