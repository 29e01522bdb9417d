"""JSON and time as QuickBooks Online writes them.

- Numbers keep their scale: QBO serialises Java BigDecimals, so an amount is `100.00` while a zero balance is `0`
  (void__invoice.yml, create__customer.yml). `dumps` writes a Decimal as its own text; `loads` parses every JSON
  number with a fraction into a Decimal, so no amount passes through a float.
- Times are in the company's zone with an offset: MetaData `2020-09-29T05:58:07-07:00` (seconds), the envelope's
  `time` `2020-09-29T05:58:07.300-07:00` (milliseconds), dates `2020-09-29`. Sandbox companies answer in US Pacific
  time (every recording), so every fake company does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

JsonObject = dict[str, Any]

COMPANY_ZONE = ZoneInfo("America/Los_Angeles")
CENTS = Decimal("0.01")


class NotJson(ValueError):
    """The body is not JSON (or holds NaN/Infinity, which QBO's parser refuses)."""


def _refuse_constant(name: str) -> Any:
    raise NotJson(f"{name} is not a JSON number")


def loads(text: str | bytes) -> Any:
    """JSON with every non-integer number as a Decimal."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as error:
        raise NotJson(str(error)) from None


def dumps(value: Any) -> str:
    """Compact JSON; a Decimal is written with its own digits (`100.00`, `0`)."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(json.dumps(str(key)))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, Decimal):
        out.append(_decimal_text(value))
    else:
        out.append(json.dumps(value))


def _decimal_text(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"{value} cannot be written as JSON")
    text = f"{value:f}"
    return "0" if value == 0 else text


def money(value: Decimal) -> Decimal:
    """An amount as QBO answers it: two decimals, except an exact zero, which is `0`."""
    if value == 0:
        return Decimal(0)
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


def to_decimal(value: object) -> Decimal | None:
    """A JSON number (or numeric string, as Jackson coerces one) as a Decimal; None for absent, null or ""."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
        if parsed.is_finite():
            return parsed
    raise ValueError(f"{value!r} is not a number")


def meta_time(moment: datetime) -> str:
    """MetaData's CreateTime/LastUpdatedTime: seconds, with the company's offset."""
    return moment.astimezone(COMPANY_ZONE).isoformat(timespec="seconds")


def envelope_time(moment: datetime) -> str:
    """The `time` of a response envelope: milliseconds, with the company's offset."""
    return moment.astimezone(COMPANY_ZONE).isoformat(timespec="milliseconds")


def local_date(moment: datetime) -> date:
    return moment.astimezone(COMPANY_ZONE).date()


def epoch_millis(moment: datetime) -> int:
    """The gateway's `time`: milliseconds since the epoch (error__401.yml)."""
    return int(moment.timestamp() * 1000)
