from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from acuity_sync.ledgers import jsonmoney


def test_decimals_are_written_as_exact_numbers() -> None:
    text = jsonmoney.dumps({"Amount": Decimal("80.10"), "Lines": [Decimal("-0.01"), Decimal("1E+1")], "Note": "80.10"})
    assert text == '{"Amount":80.10,"Lines":[-0.01,10],"Note":"80.10"}'


def test_text_that_looks_like_a_mark_stays_text() -> None:
    document = {"Note": "decimal-0123456789abcdef:5", "Amount": Decimal("5.00")}
    assert json.loads(jsonmoney.dumps(document))["Note"] == "decimal-0123456789abcdef:5"


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_any_amount_in_cents_round_trips_exactly(cents: int) -> None:
    amount = Decimal(cents).scaleb(-2)
    assert jsonmoney.loads(jsonmoney.dumps({"a": amount}))["a"] == amount
    assert isinstance(jsonmoney.loads("1.10"), Decimal)
