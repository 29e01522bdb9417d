"""The fake Acuity's admin routes (acuity/admin.py, declared in accepted.ADMIN) apply or refuse each query parameter
and body field: what the toolkit's admin client (acuity_admin.AcuityAdmin) sends is accepted; a made-up parameter
or field is a 400 saying it is not supported by this fake, and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from acuity_sync_toolkit.fakes.acuity import FakeAcuity
from acuity_sync_toolkit.fakes.acuity_admin import AcuityAdmin
from acuity_sync_toolkit.fakes.clock import FakeClock

USER = 1234
NOT_SUPPORTED = "not supported by this fake"


@pytest.fixture
def fake() -> Iterator[FakeAcuity]:
    with FakeAcuity(clock=FakeClock(datetime(2025, 4, 24, 18, 0, tzinfo=UTC), frozen=True)) as fake:
        fake.add_account(USER, "key-1234", timezone="America/Denver")
        yield fake


@pytest.fixture
def raw(fake: FakeAcuity) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, timeout=30, trust_env=False) as client:
        yield client


def test_what_the_admin_client_sends_is_accepted(fake: FakeAcuity) -> None:
    with AcuityAdmin(fake.url) as admin:
        account = admin.create_account(5678, "key-5678", name="Studio", email="a@example.com", currency="EUR")
        assert fake.has_account(5678), account
        booked = admin.book_appointment(USER, firstName="Jane", price="80.00")
        admin.change_appointment(USER, booked["id"], amountPaid="80.00")
        admin.change_appointment_without_webhook(USER, booked["id"], notes="later")
        admin.complete_order(USER, total="10.00", title="Candle")
        made = admin.add_certificate(USER, "GIFT-1", "gift", email="jane@example.com", remainingCounts=1)
        assert made["certificate"] == "GIFT-1"
        admin.add_certificate(USER, "TENOFF", "coupon", discountType="percentage", discountAmount="10")
        assert isinstance(admin.deliveries(USER), list)
        before = fake.clock.monotonic()
        assert admin.advance_clock(30)["monotonic"] == before + 30


# Each admin route with its own good request; a made-up parameter is refused on every one.
ROUTES: list[tuple[str, str, dict[str, Any], Any]] = [
    ("POST", "/_admin/accounts", {}, {"user_id": 9, "api_key": "key-9"}),
    ("POST", "/_admin/appointments", {"account": USER}, {"price": "20.00"}),
    ("POST", "/_admin/orders", {"account": USER}, {"total": "5.00"}),
    ("POST", "/_admin/certificates", {"account": USER}, {"certificate": "PKG", "type": "package"}),
    ("GET", "/_admin/deliveries", {"account": USER}, None),
    ("GET", "/_admin/clock", {}, None),
    ("POST", "/_admin/clock", {}, {"advance": 1}),
]


def _refused(answer: httpx.Response, name: str) -> None:
    assert answer.status_code == 400, answer.text
    message = answer.json()["message"]
    assert NOT_SUPPORTED in message
    assert name in message


@pytest.mark.parametrize(("method", "path", "params", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
def test_a_made_up_parameter_of_an_admin_route_is_refused(
    fake: FakeAcuity, raw: httpx.Client, method: str, path: str, params: dict[str, Any], body: Any
) -> None:
    before = fake.clock.monotonic()
    _refused(raw.request(method, path, params={**params, "made_up": "1"}, json=body), "made_up")
    assert fake.clock.monotonic() == before
    assert not fake.has_account(9)
    assert raw.request(method, path, params=params, json=body).status_code in (200, 201), "the same without it"


def test_a_made_up_parameter_of_a_change_is_refused(fake: FakeAcuity, raw: httpx.Client) -> None:
    booked = fake.book_appointment(USER, {"price": "20.00"})
    answer = raw.patch(f"/_admin/appointments/{booked['id']}", params={"account": USER, "made_up": "1"}, json={})
    _refused(answer, "made_up")


@pytest.mark.parametrize(
    ("path", "params", "body"),
    [
        ("/_admin/accounts", {}, {"user_id": 9, "api_key": "key-9", "made_up": "x"}),
        ("/_admin/appointments", {"account": USER}, {"price": "20.00", "made_up": "x"}),
        ("/_admin/orders", {"account": USER}, {"total": "5.00", "made_up": "x"}),
        ("/_admin/certificates", {"account": USER}, {"certificate": "PKG", "type": "package", "made_up": "x"}),
        ("/_admin/clock", {}, {"advance": 1, "made_up": "x"}),
    ],
)
def test_a_made_up_body_field_of_an_admin_route_is_refused(
    fake: FakeAcuity, raw: httpx.Client, path: str, params: dict[str, Any], body: dict[str, Any]
) -> None:
    before = fake.clock.monotonic()
    _refused(raw.post(path, params=params, json=body), "made_up")
    assert fake.clock.monotonic() == before
    assert not fake.has_account(9)
    assert fake.deliveries(USER) == [], "nothing was booked or sold"
