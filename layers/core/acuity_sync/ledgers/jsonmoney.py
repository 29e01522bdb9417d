"""JSON with money as exact numbers: `Decimal("80.10")` is written `80.10`, never through a float."""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from typing import Any


def _mark(value: Any, mark: str) -> Any:
    if isinstance(value, Decimal):
        return f"{mark}{value:f}"
    if isinstance(value, dict):
        return {key: _mark(item, mark) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mark(item, mark) for item in value]
    return value


def dumps(document: Any) -> str:
    """`json.dumps`, with each Decimal written as the number it is. Decimals are first written as strings with
    a mark made for this call (no caller's text can carry it), then unquoted."""
    mark = f"decimal-{secrets.token_hex(8)}:"
    text = json.dumps(_mark(document, mark), separators=(",", ":"), ensure_ascii=False)
    return re.sub('"' + re.escape(mark) + r'(-?[0-9]+(?:\.[0-9]+)?)"', lambda match: match.group(1), text)


def loads(text: str | bytes) -> Any:
    """`json.loads`, reading every non-integer number as a Decimal (never a float)."""
    return json.loads(text, parse_float=Decimal)


def money(value: Decimal) -> Decimal:
    """An amount as a ledger takes it: to the cent, written exactly by `dumps`."""
    return value.quantize(Decimal("0.01"))


def to_decimal(value: Any) -> Decimal:
    """An amount a ledger answered (a Decimal from `loads`, an int, or a string), to the cent."""
    return Decimal(str(value)).quantize(Decimal("0.01"))
