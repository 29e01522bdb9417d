"""Field values of a request body, read as QBO reads them (numbers may come as strings; "" is absent)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from acuity_sync_toolkit.fakes.quickbooks import faults
from acuity_sync_toolkit.fakes.quickbooks.jsontext import to_decimal


def check_fields(body: Mapping[str, Any], known: Iterable[str], entity: str) -> None:
    """2010 for the first field the entity does not have (error__400_json.yml)."""
    allowed = frozenset(known)
    for name in body:
        if name not in allowed:
            raise faults.unsupported_property(name, entity, allowed)


def ref_value(ref: object) -> str | None:
    """`{"value": "1", "name": ...}` -> "1"; a bare string or number is taken as the value."""
    if isinstance(ref, Mapping):
        ref = ref.get("value")
    if ref is None or ref == "" or isinstance(ref, bool | Mapping | list):
        return None
    return str(ref)


def sparse_flag(body: Mapping[str, Any]) -> bool:
    value = body.get("sparse")
    return value is True or (isinstance(value, str) and value.lower() == "true")


def parse_date(value: object, name: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise faults.invalid_property(name, value) from None


def parse_amount(value: object, name: str) -> Decimal | None:
    try:
        return to_decimal(value)
    except ValueError:
        raise faults.invalid_property(name, value) from None


def parse_enum(value: object, allowed: tuple[str, ...], name: str, default: str | None) -> str | None:
    if value is None or value == "":
        return default
    if value not in allowed:
        raise faults.invalid_property(name, value)
    return str(value)


def check_currency(home: str, fields: Mapping[str, Any]) -> None:
    currency = ref_value(fields.get("CurrencyRef"))
    if currency is not None and currency != home:
        raise faults.business_validation(f"Multicurrency is off: {currency} is not the home currency.")
