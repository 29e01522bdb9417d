"""Acuity's shapes read into models: every reference payload, the fake's answers, money to the cent, local dates."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from acuity_sync.acuity.models import (
    AccountInfo,
    Appointment,
    Order,
    OrderStatus,
    Payment,
    Webhook,
    format_money,
    parse_aware_datetime,
    parse_money,
    parse_yes_no,
)
from acuity_sync_toolkit.fakes.acuity import FakeAcuity
from acuity_sync_toolkit.fakes.clock import FakeClock

REFERENCE = Path(__file__).parents[2] / ".." / "shared" / "reference" / "acuity"
USER, KEY = 1001, "key-one"


def reference(name: str) -> Any:
    return json.loads((REFERENCE / name).read_text())


def appointment(**changes: Any) -> Appointment:
    """The documented example with `changes` (Acuity's field names) applied."""
    return Appointment.model_validate({**reference("appointment.json"), **changes})


def order(**changes: Any) -> Order:
    return Order.model_validate({**reference("order.json"), **changes})


def round_trips(model: Appointment | Order | Payment | AccountInfo) -> bool:
    """Dumped to JSON by alias (as a snapshot would be) and read back, the model is unchanged."""
    dumped = json.loads(json.dumps(model.model_dump(mode="json", by_alias=True)))
    return type(model).model_validate(dumped) == model


# ----------------------------------------------------------------------------------------------- reference payloads


def test_the_documented_appointment_example() -> None:
    example = appointment()
    assert example.id == 54321
    assert (example.first_name, example.last_name, example.phone) == ("Bob", "McTest", "")
    assert example.email == "bob.mctest@example.com"
    assert example.has_email
    assert example.datetime == datetime(2013, 7, 2, 17, 15, tzinfo=UTC)
    assert example.datetime.utcoffset() == timedelta(hours=-7)
    assert example.price == Decimal("10.00")
    assert example.price.as_tuple().exponent == -2
    assert example.price_sold is None  # absent from this older payload
    assert example.amount_paid == Decimal("0.00")
    assert example.paid is False
    assert (example.type, example.appointment_type_id, example.calendar_id) == ("Regular Visit", 1, 27238)
    assert example.class_id is None
    assert example.addon_ids == (1,)
    assert example.duration == 60
    assert example.end == datetime(2013, 7, 2, 18, 15, tzinfo=UTC)
    assert example.certificate is None
    assert example.notes == "Notes"
    assert example.canceled is False
    assert example.no_show is False
    assert example.calendar_timezone is None
    assert example.timezone == "America/New_York"
    assert len(example.forms) == 1
    assert example.forms[0].name == "Example Intake Form"
    assert [(value.name, value.value, value.field_id) for value in example.forms[0].values] == [
        ("Is this your first visit?", "yes", 1),
        ("What is your goal for this appointment?", "Ninja", 2),
    ]
    assert not hasattr(example, "labels")  # extra fields are ignored
    assert round_trips(example)


def test_the_full_appointment_payload() -> None:
    full = Appointment.model_validate(reference("appointment_full.json"))
    assert full.email == ""
    assert not full.has_email
    assert full.price == full.price_sold == full.amount_paid == Decimal("0.00")
    assert full.calendar_timezone == "America/Denver"
    assert full.datetime_created == datetime(2025, 4, 25, 1, 0, tzinfo=UTC)
    assert full.local_date == date(2025, 4, 25)
    assert full.location == "4510 S Reservoir Rd."
    assert full.forms == ()
    assert full.addon_ids == ()
    assert round_trips(full)


def test_the_documented_order() -> None:
    documented = order()
    assert documented.id == 1234
    assert documented.total == Decimal("55.00")
    assert str(documented.total) == "55.00"  # "55" is read to the cent
    assert documented.status is OrderStatus.PAID
    assert documented.time == datetime(2014, 9, 23, 14, 22)
    assert documented.time.tzinfo is None
    assert documented.local_date == date(2014, 9, 23)
    assert documented.localised("America/New_York") == datetime(2014, 9, 23, 18, 22, tzinfo=UTC)
    assert documented.localised(ZoneInfo("Europe/London")) == datetime(2014, 9, 23, 13, 22, tzinfo=UTC)
    assert (documented.first_name, documented.last_name, documented.phone) == ("Testy", "McTest", "1234567890")
    assert documented.title == "Massage Gift Certificate, Relaxing Candle"
    assert documented.notes == "Some notes from the client"
    assert round_trips(documented)


def test_the_documented_payments() -> None:
    payments = [Payment.model_validate(item) for item in reference("payments.json")]
    assert len(payments) == 1
    payment = payments[0]
    assert payment.transaction_id == "ch_123456abcdef"
    assert payment.created == datetime(2016, 1, 22, 17, 27, 51, tzinfo=UTC)
    assert payment.processor == "stripe"
    assert payment.amount == Decimal("300.00")
    assert payment.local_date() == date(2016, 1, 22)
    assert payment.local_date("Asia/Tokyo") == date(2016, 1, 23)
    assert round_trips(payment)


def test_webhook_bodies_name_ids_the_reference_models_carry() -> None:
    """Each reference webhook body points at the id of the reference appointment or order."""
    ids = {appointment().id, order().id}
    for line in (REFERENCE / "webhook_bodies.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            fields = dict(pair.split("=", 1) for pair in line.split("&"))
            assert int(fields["id"]) in ids


def test_models_are_frozen() -> None:
    example = appointment()
    with pytest.raises(ValidationError):
        example.price = Decimal("1.00")


# ----------------------------------------------------------------------------------------------- the fake's answers


@pytest.fixture
def fake() -> FakeAcuity:
    """Not started: its in-process methods answer exactly what the HTTP API renders."""
    fake = FakeAcuity(clock=FakeClock(datetime(2025, 4, 24, 18, 0, tzinfo=UTC), frozen=True))
    fake.add_account(USER, KEY, name="Studio", timezone="America/Denver", currency="usd")
    return fake


def test_the_fakes_appointments_and_payments_read_into_models(fake: FakeAcuity) -> None:
    fake.add_certificate(USER, {"certificate": "GIFT-1", "type": "gift"})
    booked = fake.book_appointment(
        USER,
        {
            "firstName": "Jane",
            "email": "jane@example.com",
            "datetime": "2025-11-02T01:30:00-0600",
            "calendarTimezone": "America/Chicago",
            "timezone": "Europe/Paris",
            "price": "80",
            "amountPaid": "30.5",
            "certificate": "GIFT-1",
            "forms": [{"id": 4, "name": "Intake", "values": [{"id": 1, "fieldID": 9, "name": "Q", "value": None}]}],
        },
    )
    model = Appointment.model_validate(booked)
    assert model.price == Decimal("80.00")
    assert model.amount_paid == Decimal("30.50")
    assert model.paid is False
    assert model.certificate == "GIFT-1"
    assert model.forms[0].values[0].value == ""
    assert model.local_date == date(2025, 11, 2)
    assert round_trips(model)
    changed = Appointment.model_validate(fake.change_appointment(USER, model.id, {"amountPaid": "80.00"}))
    assert changed.paid is True
    payments = [Payment.model_validate(item) for item in fake.payments(USER, model.id)]
    assert [payment.amount for payment in payments] == [Decimal("30.50"), Decimal("49.50")]
    assert len({payment.transaction_id for payment in payments}) == 2
    assert all(payment.created.tzinfo is not None for payment in payments)
    canceled = Appointment.model_validate(fake.change_appointment(USER, model.id, {"canceled": True, "noShow": True}))
    assert (canceled.canceled, canceled.no_show) == (True, True)


def test_the_fakes_orders_read_into_models(fake: FakeAcuity) -> None:
    rendered = fake.complete_order(USER, {"total": "120", "status": "unpaid", "time": "2025-03-09T02:30:00-0600"})
    model = Order.model_validate(rendered)
    assert model.total == Decimal("120.00")
    assert model.status is OrderStatus.UNPAID
    assert model.time.tzinfo is None
    assert model.localised("America/Denver").utcoffset() == timedelta(hours=-7)
    assert round_trips(model)


def test_account_info_from_the_fakes_me(fake: FakeAcuity) -> None:
    info = AccountInfo.model_validate(fake.me(USER))
    assert (info.id, info.name, info.currency, info.timezone) == (USER, "Studio", "USD", "America/Denver")
    assert info.zone == ZoneInfo("America/Denver")
    assert round_trips(info)


def test_webhook_model() -> None:
    hook = Webhook.model_validate(
        {"id": 1, "event": "appointment.changed", "target": "https://x/y", "status": "active"}
    )
    assert (hook.id, hook.event, hook.status) == (1, "appointment.changed", "active")


# ----------------------------------------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("55", "55.00"),
        ("55.00", "55.00"),
        ("55.5", "55.50"),
        ("10.000", "10.00"),
        (" 12.30 ", "12.30"),
        ("0", "0.00"),
        (".5", "0.50"),
        (7, "7.00"),
        (Decimal("19.9"), "19.90"),
        ("99999999.99", "99999999.99"),
    ],
)
def test_money_parses_to_the_cent(raw: object, expected: str) -> None:
    amount = parse_money(raw)
    assert str(amount) == expected
    assert amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "raw",
    ["10.005", "0.001", "-5.00", "-0.01", "", " ", "abc", "1e3", "1,000.00", "$5", "NaN", "Infinity", "--1", "5 00"],
)
def test_money_that_is_not_an_amount_to_the_cent_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="amount"):
        parse_money(raw)


@pytest.mark.parametrize("raw", [10.5, 0.1, True, False, None, [], {}])
def test_money_is_never_a_float_or_a_boolean(raw: object) -> None:
    with pytest.raises(ValueError, match="amount"):
        parse_money(raw)


def test_more_than_cents_is_an_error_never_rounded() -> None:
    with pytest.raises(ValidationError, match="more precision than a cent"):
        appointment(price="10.005")
    with pytest.raises(ValidationError, match="negative"):
        appointment(amountPaid="-1.00")
    with pytest.raises(ValidationError, match="more precision than a cent"):
        order(total="55.499")


def test_price_sold_may_be_missing_or_blank_but_price_may_not() -> None:
    assert appointment(priceSold="").price_sold is None
    assert appointment(priceSold=None).price_sold is None
    assert appointment(priceSold="8").price_sold == Decimal("8.00")
    with pytest.raises(ValidationError):
        appointment(price="")
    without_price = {key: value for key, value in reference("appointment.json").items() if key != "price"}
    with pytest.raises(ValidationError):
        Appointment.model_validate(without_price)


cents = st.integers(min_value=0, max_value=10**15)


@given(cents)
def test_money_round_trips_through_acuitys_notation(amount_in_cents: int) -> None:
    amount = Decimal(amount_in_cents) / 100
    text = format_money(amount)
    assert parse_money(text) == amount
    assert format_money(parse_money(text)) == text
    assert parse_money(f"{amount_in_cents // 100}.{amount_in_cents % 100:02d}000") == amount
    if amount_in_cents % 100 == 0:
        whole = parse_money(str(amount_in_cents // 100))
        assert (whole, whole.as_tuple().exponent) == (amount, -2)


@given(cents, st.integers(min_value=1, max_value=9), st.integers(min_value=3, max_value=8))
def test_any_digit_beyond_the_cent_is_refused(amount_in_cents: int, digit: int, place: int) -> None:
    text = f"{Decimal(amount_in_cents) / 100:.2f}" + "0" * (place - 3) + str(digit)
    with pytest.raises(ValueError, match="precision"):
        parse_money(text)


@given(cents)
def test_an_appointment_round_trips_with_any_price(amount_in_cents: int) -> None:
    price = format_money(Decimal(amount_in_cents) / 100)
    model = appointment(price=price, priceSold=price, amountPaid=price)
    assert model.price == model.price_sold == model.amount_paid == Decimal(price)
    assert round_trips(model)


# ----------------------------------------------------------------------------------------------- flags and times


@pytest.mark.parametrize(("raw", "expected"), [("yes", True), ("no", False), ("YES", True), (True, True)])
def test_paid_yes_no(raw: object, expected: bool) -> None:
    assert parse_yes_no(raw) is expected
    assert appointment(paid=raw).paid is expected


@pytest.mark.parametrize("raw", ["maybe", "", "1", 1, None])
def test_paid_must_be_yes_or_no(raw: object) -> None:
    with pytest.raises(ValidationError, match="yes"):
        appointment(paid=raw)


@pytest.mark.parametrize(
    ("raw", "offset_hours"),
    [("2013-07-02T10:15:00-0700", -7), ("2013-07-02T10:15:00-07:00", -7), ("2013-07-02T10:15:00+0530", 5.5)],
)
def test_datetimes_with_an_offset_with_or_without_a_colon(raw: str, offset_hours: float) -> None:
    moment = parse_aware_datetime(raw)
    assert moment.utcoffset() == timedelta(hours=offset_hours)
    assert (moment.hour, moment.minute) == (10, 15)


@pytest.mark.parametrize("raw", ["2013-07-02T10:15:00", "July 2, 2013", "", 1372785300])
def test_an_appointment_time_without_an_offset_is_refused(raw: object) -> None:
    with pytest.raises(ValidationError, match="datetime"):
        appointment(datetime=raw)


def test_an_order_time_with_an_offset_or_an_unknown_status_is_refused() -> None:
    with pytest.raises(ValidationError, match="without a UTC offset"):
        order(time="2014-09-23T14:22:00-0400")
    with pytest.raises(ValidationError, match="status"):
        order(status="refunded")


@pytest.mark.parametrize(
    ("when", "calendar_zone", "expected"),
    [
        # Late evening on the US west coast is already tomorrow in UTC: the calendar's date wins.
        ("2025-07-01T23:30:00-0700", "America/Los_Angeles", date(2025, 7, 1)),
        # Written in UTC, booked in a New Zealand calendar: already the next day there.
        ("2025-06-30T20:00:00+0000", "Pacific/Auckland", date(2025, 7, 1)),
        # The night clocks go forward in London (2025-03-30 01:00 UTC) and back (2025-10-26 01:00 UTC).
        ("2025-03-29T23:30:00+0000", "Europe/London", date(2025, 3, 29)),
        ("2025-03-30T00:30:00+0000", "Europe/London", date(2025, 3, 30)),
        ("2025-10-25T23:30:00+0000", "Europe/London", date(2025, 10, 26)),  # 00:30 BST
        # New York: 01:30 happens twice on 2025-11-02; both are that date; 23:30 EDT the evening before is not.
        ("2025-11-02T01:30:00-0400", "America/New_York", date(2025, 11, 2)),
        ("2025-11-02T01:30:00-0500", "America/New_York", date(2025, 11, 2)),
        ("2025-11-02T03:30:00+0000", "America/New_York", date(2025, 11, 1)),
        ("2025-03-09T06:59:00+0000", "America/New_York", date(2025, 3, 9)),  # 01:59 EST, before the gap
    ],
)
def test_local_date_is_the_calendars_date(when: str, calendar_zone: str, expected: date) -> None:
    booked = appointment(datetime=when, calendarTimezone=calendar_zone, timezone="Asia/Tokyo")
    assert booked.local_date == expected
    assert booked.local_start.tzinfo == ZoneInfo(calendar_zone)


def test_without_a_calendar_zone_the_date_is_that_of_acuitys_offset_not_the_clients_zone() -> None:
    # 20:00 at -0700 is already the next day in Tokyo, where the client is; the business's day is the 1st.
    booked = appointment(datetime="2025-07-01T20:00:00-0700", timezone="Asia/Tokyo")
    assert booked.calendar_timezone is None
    assert booked.local_date == date(2025, 7, 1)
    unknown = appointment(datetime="2025-07-01T20:00:00-0700", calendarTimezone="Mars/Olympus_Mons")
    assert unknown.local_date == date(2025, 7, 1)
    blank = appointment(datetime="2025-07-01T20:00:00-0700", calendarTimezone="")
    assert blank.calendar_timezone is None


def test_order_times_are_localised_across_dst() -> None:
    assert order(time="2025-07-04 10:00").localised("America/New_York").utcoffset() == timedelta(hours=-4)
    assert order(time="2025-01-04 10:00").localised("America/New_York").utcoffset() == timedelta(hours=-5)
    # 01:30 on 2025-11-02 happens twice in New York: the first (EDT) is taken.
    assert order(time="2025-11-02 01:30").localised("America/New_York").utcoffset() == timedelta(hours=-4)


def test_nulls_where_acuity_sometimes_writes_empty_values() -> None:
    sparse = appointment(email=None, phone=None, notes=None, forms=None, addonIDs=None, certificate="")
    assert (sparse.email, sparse.phone, sparse.notes) == ("", "", "")
    assert (sparse.forms, sparse.addon_ids, sparse.certificate) == ((), (), None)
