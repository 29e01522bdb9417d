"""The fake QuickBooks' parts, in process (no server): its exact JSON money."""

from __future__ import annotations

from decimal import Decimal

from acuity_sync_toolkit.fakes.quickbooks.jsontext import dumps, loads, money


def test_json_keeps_the_scale_of_amounts_and_zero_is_0() -> None:
    assert (
        dumps({"a": money(Decimal("100")), "b": money(Decimal("0.00")), "c": Decimal("4.5")})
        == '{"a":100.00,"b":0,"c":4.5}'
    )
    assert loads('{"x": 100.10}')["x"] == Decimal("100.10")
