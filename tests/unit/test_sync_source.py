"""Acuity's reference payloads (../shared/reference/acuity/) turned into what the plan bills."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from acuity_sync.acuity.models import Appointment, Order, Payment
from acuity_sync.domain.names import EventKind
from acuity_sync.sync.source import billable_from_appointment, billable_from_order, describe_appointment

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "acuity"


def load(name: str) -> Any:
    return json.loads((REFERENCE / name).read_text(encoding="utf-8"))


def test_the_reference_appointment_with_its_payments() -> None:
    appointment = Appointment.model_validate(load("appointment.json"))
    payments = [Payment.model_validate(item) for item in load("payments.json")]
    billable = billable_from_appointment(appointment, payments, "USD")
    assert billable.kind is EventKind.APPOINTMENT
    assert billable.source_id == 54321
    assert billable.reference == "acuity:appointment:54321"
    assert (billable.client.first_name, billable.client.email) == ("Bob", "bob.mctest@example.com")
    assert billable.price == Decimal("10.00")
    assert billable.service_date == date(2013, 7, 2)  # 10:15 at -0700: still July 2nd there
    assert billable.item_key == "1"
    assert [(p.transaction_id, p.amount) for p in billable.payments] == [("ch_123456abcdef", Decimal("300.00"))]
    assert ("Is this your first visit?", "yes") in billable.client.form_answers
    assert billable.description == "Regular Visit (60 min), Tue Jul 2 2013 10:15am"


def test_an_appointment_without_email_and_a_free_price() -> None:
    appointment = Appointment.model_validate(load("appointment_full.json"))
    billable = billable_from_appointment(appointment, [], "USD")
    assert billable.client.email is None
    assert billable.price == Decimal("0.00")
    assert billable.service_date == date(2025, 4, 25)  # 7pm in Denver
    assert not billable.canceled


def test_the_local_date_is_the_calendars_not_utcs() -> None:
    late = load("appointment_full.json") | {"datetime": "2025-04-25T23:30:00-0600"}
    assert billable_from_appointment(Appointment.model_validate(late), [], "USD").service_date == date(2025, 4, 25)
    assert describe_appointment(Appointment.model_validate(late)).endswith("11:30pm")


def test_a_paid_order_carries_one_payment_of_its_total() -> None:
    order = Order.model_validate(load("order.json"))
    billable = billable_from_order(order, "USD")
    assert (billable.kind, billable.source_id, billable.price) == (EventKind.ORDER, 1234, Decimal("55.00"))
    assert [(p.transaction_id, p.amount) for p in billable.payments] == [("acuity-order-1234", Decimal("55.00"))]
    assert billable.description == "Massage Gift Certificate, Relaxing Candle"
    assert billable.service_date == date(2014, 9, 23)


def test_an_unpaid_order_carries_no_payment() -> None:
    order = Order.model_validate(load("order.json") | {"status": "unpaid"})
    assert billable_from_order(order, "USD").payments == ()
