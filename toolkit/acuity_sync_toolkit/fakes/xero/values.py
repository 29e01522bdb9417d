"""Xero's JSON conventions: MS-JSON dates, money as Decimal, the ValidationException body."""

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
