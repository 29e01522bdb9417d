"""AcuityClient against a running FakeAcuity (and, for answers the fake never gives, a scripted transport)."""

from __future__ import annotations

import base64
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from acuity_sync.acuity.client import (
    AcuityBadData,
    AcuityBadResponse,
    AcuityClient,
    AcuityCredentialsRefused,
    AcuityError,
    AcuityForbidden,
    AcuityNotFound,
    AcuityRateLimited,
    AcuityRejected,
    AcuityUnavailable,
)
from acuity_sync.acuity.models import OrderStatus
from acuity_sync.domain.billable import CodeKind
from acuity_sync.secret import Secret
from acuity_sync_toolkit.fakes.acuity import MAX_WEBHOOKS_PER_ACCOUNT, FakeAcuity
from acuity_sync_toolkit.fakes.acuity_admin import AcuityAdmin, AcuityAdminError
from acuity_sync_toolkit.fakes.clock import FakeClock

USER, KEY = 1001, "key-one-SECRET-value"
OTHER_USER, OTHER_KEY = 1002, "key-two-SECRET-value"
EMAIL = "jane.client@example.com"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 4, 24, 18, 0, tzinfo=UTC), frozen=True)


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeAcuity]:
    with FakeAcuity(clock=clock) as fake:
        fake.add_account(USER, KEY, name="Front Desk", timezone="America/Denver", currency="USD")
        fake.add_account(OTHER_USER, OTHER_KEY, timezone="Europe/London", currency="GBP")
        yield fake


@pytest.fixture
def admin(fake: FakeAcuity) -> Iterator[AcuityAdmin]:
    with AcuityAdmin(fake.url) as admin:
        yield admin


@pytest.fixture
def client(fake: FakeAcuity, clock: FakeClock) -> Iterator[AcuityClient]:
    """USER's client; each request moves the frozen clock 0.2 s, so a test stays under 10 requests a second."""

    def tick(request: httpx.Request) -> None:
        clock.advance(0.2)

    with (
        httpx.Client(trust_env=False, event_hooks={"request": [tick]}) as http,
        AcuityClient(fake.url, USER, Secret(KEY), http=http) as client,
    ):
        yield client


def scripted(handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> AcuityClient:
    """A client whose every request is answered by `handler` (for answers the fake never gives)."""
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return AcuityClient("https://acuity.test", USER, Secret(KEY), http=http, **kwargs)


def always(response: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        return response

    return answer


def assert_discreet(error: AcuityError) -> None:
    """No API key and no e-mail in what a log line or a page would show."""
    for text in (str(error), repr(error)):
        assert KEY not in text
        assert "@" not in text


# ----------------------------------------------------------------------------------------------- every method


def test_me(client: AcuityClient) -> None:
    me = client.me()
    assert (me.id, me.name, me.currency, me.timezone) == (USER, "Front Desk", "USD", "America/Denver")


def test_appointment_and_its_payments(client: AcuityClient, admin: AcuityAdmin) -> None:
    admin.add_certificate(USER, "PKG-7", "package", email=EMAIL)
    booked = admin.book_appointment(
        USER,
        firstName="Jane",
        email=EMAIL,
        datetime="2025-05-01T21:30:00-0600",
        price="80",
        amountPaid="30.00",
        certificate="PKG-7",
    )
    admin.change_appointment(USER, booked["id"], amountPaid="80.00", paymentProcessor="square")
    fetched = client.appointment(booked["id"])
    assert fetched.id == booked["id"]
    assert (fetched.first_name, fetched.email, fetched.certificate) == ("Jane", EMAIL, "PKG-7")
    assert (fetched.price, fetched.amount_paid, fetched.paid) == (Decimal("80.00"), Decimal("80.00"), True)
    assert fetched.local_date == date(2025, 5, 1)  # 03:30 UTC on the 2nd
    payments = client.appointment_payments(booked["id"])
    assert [(payment.amount, payment.processor) for payment in payments] == [
        (Decimal("30.00"), "stripe"),
        (Decimal("50.00"), "square"),
    ]
    assert payments[0].transaction_id != payments[1].transaction_id


def test_appointments_filter_by_local_date_and_canceled(client: AcuityClient, admin: AcuityAdmin) -> None:
    first = admin.book_appointment(USER, datetime="2025-05-01T10:00:00-0600")["id"]
    second = admin.book_appointment(USER, datetime="2025-05-02T23:00:00-0600")["id"]  # the 3rd in UTC
    third = admin.book_appointment(USER, datetime="2025-05-03T10:00:00-0600")["id"]
    canceled = admin.book_appointment(USER, datetime="2025-05-02T09:00:00-0600")["id"]
    admin.change_appointment(USER, canceled, canceled=True)
    admin.book_appointment(OTHER_USER, datetime="2025-05-02T10:00:00+0100")  # another account's

    assert {a.id for a in client.appointments()} == {first, second, third}
    in_range = client.appointments(min_date=date(2025, 5, 2), max_date=date(2025, 5, 2))
    assert [a.id for a in in_range] == [second]
    assert [a.id for a in client.appointments(canceled=True)] == [canceled]
    assert client.appointments(canceled=True)[0].canceled is True
    assert len(client.appointments(max=2)) == 2
    assert {a.id for a in client.appointments(min_date=date(2025, 5, 2))} == {second, third}


def test_order_and_orders(client: AcuityClient, admin: AcuityAdmin) -> None:
    older = admin.complete_order(USER, total="55", status="paid", time="2025-03-01T09:00:00-0700", email=EMAIL)
    newer = admin.complete_order(USER, total="120.50", status="unpaid", time="2025-03-10T02:30:00-0600")
    fetched = client.order(older["id"])
    assert (fetched.total, fetched.status, fetched.email) == (Decimal("55.00"), OrderStatus.PAID, EMAIL)
    assert fetched.time == datetime(2025, 3, 1, 9, 0)
    me = client.me()
    assert fetched.localised(me.timezone) == datetime(2025, 3, 1, 16, 0, tzinfo=UTC)
    orders = client.orders()
    assert [order.id for order in orders] == [newer["id"], older["id"]]  # most recent first
    assert orders[0].localised(me.timezone).utcoffset() == timedelta(hours=-6)  # MDT from 2025-03-09
    assert [order.id for order in client.orders(max=1)] == [newer["id"]]


def test_codes_are_checked_listed_and_told_apart(client: AcuityClient, admin: AcuityAdmin) -> None:
    admin.add_certificate(USER, "PKG-10", "package", email=EMAIL, remainingCounts=1, appointmentTypeIDs=[7])
    admin.add_certificate(USER, "GIFT-1", "gift", email=EMAIL)
    admin.add_certificate(USER, "SUB-1", "subscription", email=EMAIL)
    admin.add_certificate(USER, "SPRING20", "coupon", discountType="percentage", discountAmount="20")
    checked = client.check_certificate("pkg-10", 7)
    assert checked is not None
    assert (checked.certificate, checked.kind, checked.product_id is not None) == ("PKG-10", CodeKind.PACKAGE, True)
    assert client.check_certificate("PKG-10", 8) is None  # not for that appointment type: Acuity's 400
    assert client.check_certificate("NOPE") is None
    coupon = client.check_certificate("SPRING20")
    assert coupon is not None
    assert (coupon.kind, coupon.coupon_id is not None) == (CodeKind.COUPON, True)
    assert sorted(c.certificate for c in client.certificates(email=EMAIL)) == ["GIFT-1", "PKG-10", "SUB-1"]
    assert [c.certificate for c in client.certificates(appointment_type_id=8)] == ["GIFT-1", "SUB-1"]
    kinds = {code: client.code_kind(code, 7, EMAIL) for code in ("PKG-10", "GIFT-1", "SUB-1", "SPRING20", "NOPE")}
    assert kinds == {
        "PKG-10": CodeKind.PACKAGE,
        "GIFT-1": CodeKind.GIFT,
        "SUB-1": CodeKind.SUBSCRIPTION,
        "SPRING20": CodeKind.COUPON,
        "NOPE": CodeKind.UNKNOWN,
    }


def test_booking_with_a_code_redeems_it_and_a_cancellation_gives_a_package_use_back(
    client: AcuityClient, admin: AcuityAdmin
) -> None:
    admin.add_certificate(USER, "PKG-1", "package", email=EMAIL, remainingCounts=1)
    admin.add_certificate(USER, "TENOFF", "coupon", discountAmount="10.00")
    booked = admin.book_appointment(USER, firstName="Jane", email=EMAIL, price="80.00", certificate="PKG-1")
    assert client.check_certificate("PKG-1") is None  # its last use taken
    assert client.code_kind("PKG-1", None, EMAIL) is CodeKind.PACKAGE  # still listed, used up
    with pytest.raises(AcuityAdminError, match="PKG-1"):
        admin.book_appointment(USER, firstName="Jo", email=EMAIL, price="80.00", certificate="PKG-1")
    with pytest.raises(AcuityAdminError, match="is not valid"):
        admin.book_appointment(USER, firstName="Jo", email=EMAIL, price="80.00", certificate="UNKNOWN")
    admin.change_appointment(USER, booked["id"], canceled=True)
    assert client.check_certificate("PKG-1") is not None  # "credit for the appointment will go back"
    discounted = client.appointment(
        admin.book_appointment(USER, firstName="Jo", email=EMAIL, price="80.00", certificate="TENOFF")["id"]
    )
    assert (discounted.price, discounted.price_sold, discounted.certificate) == (
        Decimal("80.00"),
        Decimal("70.00"),
        "TENOFF",
    )


def test_webhooks_are_created_listed_and_deleted(client: AcuityClient) -> None:
    changed = client.create_webhook("appointment.changed", "https://hooks.example.test/a/1")
    completed = client.create_webhook("order.completed", "https://hooks.example.test/a/1")
    assert (changed.event, changed.target, changed.status) == (
        "appointment.changed",
        "https://hooks.example.test/a/1",
        "active",
    )
    assert {hook.id for hook in client.webhooks()} == {changed.id, completed.id}
    client.delete_webhook(changed.id)
    assert [hook.id for hook in client.webhooks()] == [completed.id]
    with pytest.raises(AcuityNotFound) as missing:
        client.delete_webhook(changed.id)
    assert str(missing.value) == f"Acuity has no webhook {changed.id} (already deleted?)."
    assert (missing.value.kind, missing.value.object_id) == ("webhook", changed.id)


def test_acuity_refusing_a_webhook_is_reported_in_its_own_words(client: AcuityClient) -> None:
    with pytest.raises(AcuityRejected) as invalid:
        client.create_webhook("appointment.exploded", "https://hooks.example.test/x")
    assert invalid.value.status_code == 400
    assert "Invalid event" in invalid.value.acuity_message
    for index in range(MAX_WEBHOOKS_PER_ACCOUNT):
        client.create_webhook("appointment.changed", f"https://hooks.example.test/{index}")
    with pytest.raises(AcuityRejected, match="Webhook limit reached"):
        client.create_webhook("appointment.changed", "https://hooks.example.test/one-too-many")


# ----------------------------------------------------------------------------------------------- errors from the fake


def test_a_missing_appointment_or_order_is_not_found_in_words(client: AcuityClient) -> None:
    with pytest.raises(AcuityNotFound) as appointment:
        client.appointment(123)
    assert str(appointment.value) == "Acuity has no appointment 123 (deleted?)."
    assert (appointment.value.kind, appointment.value.object_id) == ("appointment", 123)
    with pytest.raises(AcuityNotFound, match="Acuity has no appointment 124"):
        client.appointment_payments(124)
    with pytest.raises(AcuityNotFound) as order:
        client.order(77)
    assert str(order.value) == "Acuity has no order 77 (deleted?)."
    assert not appointment.value.retryable


def test_another_accounts_appointment_is_not_found(client: AcuityClient, admin: AcuityAdmin) -> None:
    theirs = admin.book_appointment(OTHER_USER)["id"]
    with pytest.raises(AcuityNotFound):
        client.appointment(theirs)


@pytest.mark.parametrize(("user", "key"), [(USER, "wrong-SECRET-key"), (9999, KEY), (USER, "")])
def test_refused_credentials(fake: FakeAcuity, user: int, key: str) -> None:
    with AcuityClient(fake.url, user, Secret(key)) as client, pytest.raises(AcuityCredentialsRefused) as refused:
        client.me()
    assert "API key" in str(refused.value)
    assert f"user id {user}" in str(refused.value)
    assert key not in str(refused.value) or not key
    assert_discreet(refused.value)
    assert "SECRET" not in repr(client)


def test_the_rate_limit_and_its_clock(fake: FakeAcuity, clock: FakeClock) -> None:
    """Ten requests in a second pass, the eleventh is refused until the fake's clock moves on."""
    with AcuityClient(fake.api_url, USER, Secret(KEY)) as client:  # the API root is accepted as base URL too
        for _ in range(10):
            client.me()
        with pytest.raises(AcuityRateLimited) as limited:
            client.me()
        assert limited.value.retry_after == 1.0  # Acuity sends no Retry-After: one second, its window
        assert limited.value.retryable
        assert "rate limit" in str(limited.value)
        clock.advance(0.5)
        with pytest.raises(AcuityRateLimited):
            client.webhooks()
        clock.advance(0.5)
        assert client.me().id == USER


# ----------------------------------------------------------------------------------- answers the fake never gives


def test_requests_carry_basic_auth_and_the_api_root_once() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    client = scripted(answer)
    client.appointments(min_date=date(2025, 1, 1), max_date=date(2025, 1, 31), canceled=True, max=5)
    client.orders()
    AcuityClient("https://acuity.test/api/v1/", USER, Secret(KEY), http=client._http).webhooks()
    assert [request.url.path for request in seen] == ["/api/v1/appointments", "/api/v1/orders", "/api/v1/webhooks"]
    assert dict(seen[0].url.params) == {
        "minDate": "2025-01-01",
        "maxDate": "2025-01-31",
        "canceled": "true",
        "max": "5",
    }
    assert "canceled" not in dict(seen[1].url.params)
    expected = "Basic " + base64.b64encode(f"{USER}:{KEY}".encode()).decode()
    assert all(request.headers["Authorization"] == expected for request in seen)


def test_forbidden_says_the_plan_may_lack_api_access() -> None:
    body = {"status_code": 403, "error": "forbidden", "message": f"API access is only on Powerhouse ({EMAIL})"}
    client = scripted(always(httpx.Response(403, json=body)))
    with pytest.raises(AcuityForbidden) as forbidden:
        client.appointment(5)
    assert "plan" in str(forbidden.value)
    assert "API access is only on Powerhouse" in str(forbidden.value)
    assert_discreet(forbidden.value)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        ("0.5", 0.5),
        (None, 1.0),
        ("soon", 1.0),
        ("-3", 0.0),
        ("99999999", 3600.0),
        ("an HTTP date 120 s ahead", 120.0),
    ],
)
def test_retry_after_is_honoured(header: str | None, expected: float) -> None:
    if header == "an HTTP date 120 s ahead":  # made now, not at collection
        header = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    headers = {"Retry-After": header} if header is not None else {}
    client = scripted(always(httpx.Response(429, headers=headers, json={"message": "Rate limit reached."})))
    with pytest.raises(AcuityRateLimited) as limited:
        client.me()
    assert limited.value.retry_after == pytest.approx(expected, abs=2.0 if expected == 120.0 else 1e-9)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_unavailable(status: int) -> None:
    client = scripted(always(httpx.Response(status, text="<html>oops</html>")))
    with pytest.raises(AcuityUnavailable, match=f"HTTP {status}") as unavailable:
        client.order(9)
    assert unavailable.value.retryable


def test_a_timeout_is_unavailable() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(AcuityUnavailable, match="did not answer within 3 s") as unavailable:
        scripted(hang, timeout=3.0).appointment(1)
    assert unavailable.value.__cause__ is None


def test_a_refused_connection_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        AcuityClient(f"http://127.0.0.1:{port}", USER, Secret(KEY), timeout=2.0) as client,
        pytest.raises(AcuityUnavailable, match="Could not reach Acuity") as unavailable,
    ):
        client.me()
    assert_discreet(unavailable.value)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"<html>maintenance</html>", "not JSON"),
        (b'{"id": "not a number"}', "could not read"),
        (b"[1, 2]", "could not read"),
    ],
)
def test_unreadable_bodies_are_bad_responses(content: bytes, match: str) -> None:
    client = scripted(always(httpx.Response(200, content=content)))
    with pytest.raises(AcuityBadResponse, match=match) as bad:
        client.me()
    # JSON of the wrong shape is bad data (parked: reading again reads the same); a body that is not JSON at all
    # (a proxy's error page) may pass, and is retried.
    assert isinstance(bad.value, AcuityBadData) is (match == "could not read")


def test_a_bad_appointment_names_the_field_but_never_the_values() -> None:
    payload = {
        "id": 5,
        "firstName": "Jane",
        "email": EMAIL,
        "datetime": "2025-05-01T10:00:00-0600",
        "price": "10.005",
        "appointmentTypeID": 1,
        "calendarID": 2,
        "duration": "60",
    }
    client = scripted(always(httpx.Response(200, json=payload)))
    with pytest.raises(AcuityBadData) as bad:
        client.appointment(5)
    assert "price" in str(bad.value)
    assert "cent" in str(bad.value)
    assert_discreet(bad.value)
    with pytest.raises(AcuityBadResponse, match=r"\[redacted\]|price"):
        scripted(always(httpx.Response(200, json=[payload]))).appointments()


def test_json_numbers_are_read_as_decimals_never_floats() -> None:
    order = {"id": 3, "total": 55.1, "status": "paid", "time": "2025-01-02 10:00"}
    client = scripted(always(httpx.Response(200, json=order)))
    assert client.order(3).total == Decimal("55.10")


def test_a_redirect_is_not_followed() -> None:
    client = scripted(always(httpx.Response(302, headers={"Location": "https://login.example.test"})))
    with pytest.raises(AcuityBadResponse, match="unexpected HTTP 302"):
        client.me()


def test_delete_accepts_an_empty_or_a_json_answer() -> None:
    answers = [httpx.Response(204), httpx.Response(200, json={"ok": True}), httpx.Response(200, text="<html>ok")]
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answers[len(sent) - 1]

    client = scripted(answer)
    for _ in answers:
        client.delete_webhook(4)  # no body is read, so none (not even one that is not JSON) can fail it
    assert [(request.method, request.url.path) for request in sent] == [("DELETE", "/api/v1/webhooks/4")] * 3
    with pytest.raises(AcuityNotFound) as missing:
        scripted(always(httpx.Response(404, json={"status_code": 404, "error": "not_found"}))).delete_webhook(4)
    assert (missing.value.kind, missing.value.object_id) == ("webhook", 4)
