"""The fake Acuity's parts, in process (no server): formats, webhook bodies, the state rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from acuity_sync_toolkit.fakes.acuity import FakeAcuity, FakeAcuityError
from acuity_sync_toolkit.fakes.acuity.formats import (
    format_display_date,
    format_display_time,
    format_money,
    format_offset_datetime,
    format_order_time,
    parse_datetime,
    parse_money,
)
from acuity_sync_toolkit.fakes.acuity.webhooks import appointment_webhook_body, order_webhook_body, webhook_action
from acuity_sync_toolkit.fakes.clock import FakeClock

DENVER = ZoneInfo("America/Denver")
NEW_YORK = ZoneInfo("America/New_York")


# ----------------------------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("amount", "expected"),
    [(Decimal("10"), "10.00"), (Decimal("55"), "55.00"), (Decimal("0.005"), "0.01"), (Decimal("1234.5"), "1234.50")],
)
def test_money_is_a_string_with_two_decimals(amount: Decimal, expected: str) -> None:
    assert format_money(amount) == expected


def test_parse_money_accepts_strings_ints_and_decimals() -> None:
    assert parse_money("10", "price") == Decimal("10.00")
    assert parse_money(" 45.5 ", "price") == Decimal("45.50")
    assert parse_money(7, "price") == Decimal("7.00")
    assert parse_money(Decimal("0.1"), "price") == Decimal("0.10")


@pytest.mark.parametrize("value", [10.5, True, None, "ten", "-1.00", "NaN", [1]])
def test_parse_money_refuses_floats_negatives_and_garbage(value: object) -> None:
    with pytest.raises(FakeAcuityError) as raised:
        parse_money(value, "price")
    assert (raised.value.status_code, raised.value.error) == (400, "bad_request")


def test_datetimes_have_an_offset_without_a_colon_in_the_calendar_zone() -> None:
    summer = datetime(2025, 4, 26, 1, 0, tzinfo=UTC)  # 7 pm the day before in Denver, daylight time
    winter = datetime(2025, 1, 15, 17, 30, tzinfo=UTC)
    assert format_offset_datetime(summer, DENVER) == "2025-04-25T19:00:00-0600"
    assert format_offset_datetime(winter, DENVER) == "2025-01-15T10:30:00-0700"
    assert format_offset_datetime(winter, ZoneInfo("Asia/Kolkata")) == "2025-01-15T23:00:00+0530"


def test_display_dates_and_times_are_acuitys_strings() -> None:
    moment = datetime(2013, 7, 2, 10, 15, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert format_display_date(moment, ZoneInfo("America/Los_Angeles")) == "July 2, 2013"
    assert format_display_time(moment, ZoneInfo("America/Los_Angeles")) == "10:15am"
    assert format_display_time(moment.replace(hour=0, minute=5), ZoneInfo("America/Los_Angeles")) == "12:05am"
    assert format_display_time(moment.replace(hour=12, minute=0), ZoneInfo("America/Los_Angeles")) == "12:00pm"
    assert format_display_time(moment.replace(hour=19, minute=0), ZoneInfo("America/Los_Angeles")) == "7:00pm"


def test_order_time_is_local_without_an_offset() -> None:
    assert format_order_time(datetime(2014, 9, 23, 18, 22, tzinfo=UTC), NEW_YORK) == "2014-09-23 14:22"


def test_parse_datetime_reads_both_offset_spellings_and_local_times() -> None:
    expected = datetime(2013, 7, 2, 17, 15, tzinfo=UTC)
    assert parse_datetime("2013-07-02T10:15:00-0700", NEW_YORK) == expected
    assert parse_datetime("2013-07-02T10:15:00-07:00", NEW_YORK) == expected
    assert parse_datetime("2013-07-02T13:15:00", NEW_YORK) == expected  # naive: the calendar's local time
    with pytest.raises(FakeAcuityError):
        parse_datetime("July 2, 2013", NEW_YORK)


def test_webhook_actions_and_bodies() -> None:
    assert webhook_action("appointment.scheduled", "plain") == "scheduled"
    assert webhook_action("appointment.scheduled", "event") == "appointment.scheduled"
    assert webhook_action("order.completed", "plain") == "order.completed"
    rendered = {"id": 54321, "calendarID": 27238, "appointmentTypeID": 1}
    assert (
        appointment_webhook_body("scheduled", rendered)
        == b"action=scheduled&id=54321&calendarID=27238&appointmentTypeID=1"
    )
    assert order_webhook_body("order.completed", 1234) == b"action=order.completed&id=1234"


# ----------------------------------------------------------------------------------------------- state (in process)


@pytest.fixture
def fake() -> FakeAcuity:
    fake = FakeAcuity(clock=FakeClock(datetime(2025, 4, 24, 12, 0, tzinfo=UTC), frozen=True))
    fake.add_account(1, "key-1", timezone="America/Denver")
    return fake


def test_a_booking_is_filled_in_as_acuity_would(fake: FakeAcuity) -> None:
    appointment = fake.book_appointment(1, {"firstName": "Meredith", "lastName": "Gray", "price": "45.5"})
    assert appointment["price"] == appointment["priceSold"] == "45.50"
    assert (appointment["amountPaid"], appointment["paid"], appointment["canceled"]) == ("0.00", "no", False)
    # Tomorrow at 10:00 in the calendar's zone, 60 minutes by default.
    assert appointment["datetime"] == "2025-04-25T10:00:00-0600"
    assert (appointment["date"], appointment["time"], appointment["endTime"]) == (
        "April 25, 2025",
        "10:00am",
        "11:00am",
    )
    assert (appointment["dateCreated"], appointment["datetimeCreated"]) == (
        "April 24, 2025",
        "2025-04-24T06:00:00-0600",
    )
    assert appointment["calendarTimezone"] == appointment["timezone"] == "America/Denver"
    assert appointment["formsText"] == "Name: Meredith Gray"
    assert "noShow" not in appointment


def test_paid_needs_a_payment_covering_the_price(fake: FakeAcuity) -> None:
    free = fake.book_appointment(1, {"price": "0.00"})
    assert free["paid"] == "no", "as the reference: $0 with nothing paid is not 'paid'"
    partly = fake.book_appointment(1, {"price": "80.00", "amountPaid": "30.00"})
    assert partly["paid"] == "no"
    assert fake.change_appointment(1, partly["id"], {"amountPaid": "80.00"})["paid"] == "yes"
    tipped = fake.book_appointment(1, {"price": "80.00", "amountPaid": "90.00"})
    assert tipped["paid"] == "yes"


def test_a_price_change_moves_price_sold_unless_given(fake: FakeAcuity) -> None:
    appointment = fake.book_appointment(1, {"price": "80.00"})
    assert fake.change_appointment(1, appointment["id"], {"price": "60"})["priceSold"] == "60.00"
    changed = fake.change_appointment(1, appointment["id"], {"price": "70", "priceSold": "65"})
    assert (changed["price"], changed["priceSold"]) == ("70.00", "65.00")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amountPaid": "10.00"}, "refunds"),
        ({"nickname": "x"}, "Unknown field"),
        ({"id": 5}, "Cannot change id"),
        ({"firstName": 3}, "firstName must be a string"),
        ({"datetime": "soon"}, "not a valid date-time"),
        ({"duration": "0"}, "duration"),
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"paymentProcessor": "cash", "amountPaid": "60.00"}, "paymentProcessor"),
        ({"firstName": "Changed", "duration": "0"}, "duration"),
        ({"amountPaid": "80.00", "canceled": "yes"}, "canceled must be a boolean"),
    ],
)
def test_invalid_changes_are_refused(fake: FakeAcuity, changes: dict[str, object], message: str) -> None:
    appointment = fake.book_appointment(1, {"price": "80.00", "amountPaid": "50.00"})
    with pytest.raises(FakeAcuityError, match=message) as raised:
        fake.change_appointment(1, appointment["id"], changes)
    assert raised.value.status_code == 400
    assert fake.appointment(1, appointment["id"]) == appointment, "a refused change changes nothing"
    assert [payment["amount"] for payment in fake.payments(1, appointment["id"])] == ["50.00"]


def test_a_canceled_appointment_cannot_be_uncanceled_and_shows_no_show(fake: FakeAcuity) -> None:
    appointment = fake.book_appointment(1, {})
    canceled = fake.change_appointment(1, appointment["id"], {"canceled": True})
    assert (canceled["canceled"], canceled["noShow"]) == (True, False)
    with pytest.raises(FakeAcuityError, match="un-canceled"):
        fake.change_appointment(1, appointment["id"], {"canceled": False})
    assert fake.change_appointment(1, appointment["id"], {"noShow": True})["noShow"] is True


def test_a_refused_booking_stores_nothing(fake: FakeAcuity) -> None:
    with pytest.raises(FakeAcuityError, match="paymentProcessor"):
        fake.book_appointment(1, {"id": 77, "amountPaid": "10.00", "paymentProcessor": "cash"})
    with pytest.raises(FakeAcuityError) as raised:
        fake.appointment(1, 77)
    assert raised.value.status_code == 404
    assert fake.book_appointment(1, {"id": 77})["id"] == 77


def test_ids_are_unique_across_accounts(fake: FakeAcuity) -> None:
    fake.add_account(2, "key-2")
    first = fake.book_appointment(1, {})
    second = fake.book_appointment(2, {})
    assert first["id"] != second["id"]
    with pytest.raises(FakeAcuityError, match="already exists"):
        fake.book_appointment(2, {"id": first["id"]})
    with pytest.raises(FakeAcuityError) as raised:
        fake.change_appointment(2, first["id"], {"notes": "not mine"})
    assert raised.value.status_code == 404


def test_add_account_updates_an_existing_account_and_validates(fake: FakeAcuity) -> None:
    fake.book_appointment(1, {})
    updated = fake.add_account(1, "rotated", timezone="Europe/London", currency="gbp", action_format="event")
    assert (updated["api_key"], updated["currency"], updated["action_format"]) == ("rotated", "GBP", "event")
    assert len(fake.deliveries(1)) == 0
    for bad in ({"action_format": "json"}, {"timezone": "Nowhere/City"}, {"currency": "dollars"}):
        with pytest.raises(FakeAcuityError):
            fake.add_account(3, "key", **bad)
