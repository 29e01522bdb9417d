"""Xero's JSON conventions: MS-JSON dates (and the date strings beside them), money as Decimal, the
ValidationException body."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

JsonObject = dict[str, Any]
CENTS = Decimal("0.01")
ZERO = Decimal("0.00")


class XeroError(Exception):
    """A request Xero refuses: 400 ValidationException (or `status`), the message in ValidationErrors."""

    def __init__(self, message: str, *, status: int = 400, element: JsonObject | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.element = element or {}


def new_id() -> str:
    return str(uuid.uuid4())


def money(value: Any, field: str) -> Decimal:
    """A JSON number (parsed as Decimal or int) as Decimal; anything else is a validation error."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, float, str)):
        raise XeroError(f"{field} must be a number")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise XeroError(f"{field} must be a number") from None


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


def number(value: Decimal) -> float:
    """Decimal to a JSON number (two places are exact enough in a double for display)."""
    return float(cents(value))


def ms_date(moment: datetime) -> str:
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def ms_day(day: date) -> str:
    return ms_date(datetime(day.year, day.month, day.day, tzinfo=UTC))


def day_string(day: date) -> str:
    """`DateString`/`DueDateString` as Xero answers them beside the MS-JSON date: `2018-10-20T00:00:00`."""
    return f"{day.isoformat()}T00:00:00"


def stamp(entity: JsonObject, now: datetime) -> None:
    """An update: `UpdatedDateUTC` and its `UpdatedDateUTCString` (`2019-03-05T18:59:06Z`), as Xero answers both."""
    entity["UpdatedDateUTC"] = ms_date(now)
    entity["UpdatedDateUTCString"] = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_day(value: Any, field: str, default: date) -> date:
    if value is None:
        return default
    text = str(value)
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise XeroError(f"{field} is not a valid date") from None


def validation_body(message: str, element: JsonObject) -> JsonObject:
    return {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": [{**element, "ValidationErrors": [{"Message": message}]}],
    }
