"""The fake Acuity answers as the real one does: checked over HTTP against ../shared/reference/acuity/."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from acuity_sync.acuity.signature import sign, signature_matches
from acuity_sync_toolkit.fakes.acuity import FakeAcuity
from acuity_sync_toolkit.fakes.acuity_admin import AcuityAdmin, AcuityAdminError
from acuity_sync_toolkit.fakes.clock import FakeClock

REFERENCE = Path(__file__).parents[2] / ".." / "shared" / "reference" / "acuity"

OFFSET_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}$")
MONEY = re.compile(r"^\d+\.\d{2}$")
ORDER_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")
DISPLAY_DATE = re.compile(r"^[A-Z][a-z]+ \d{1,2}, \d{4}$")
DISPLAY_TIME = re.compile(r"^\d{1,2}:\d{2}(am|pm)$")

USER, KEY = 1001, "key-one"
OTHER_USER, OTHER_KEY = 1002, "key-two"


def reference(name: str) -> Any:
    return json.loads((REFERENCE / name).read_text())


def json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", type(None): "null"}[
        type(value)
    ]


# ----------------------------------------------------------------------------------------------- fixtures


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook target on 127.0.0.1 that records each POST and answers the next scripted status (then 200)."""

    url: str
    received: list[Received] = field(default_factory=list)
    script: list[int] = field(default_factory=list)

    def bodies(self) -> list[bytes]:
        return [item.body for item in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                state.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                code = state.script.pop(0) if state.script else 200
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/acuity"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 4, 24, 18, 0, tzinfo=UTC), frozen=True)


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeAcuity]:
    with FakeAcuity(clock=clock) as fake:
        fake.add_account(USER, KEY, name="Front Desk", email="frontdesk@example.com", timezone="America/Denver")
        fake.add_account(OTHER_USER, OTHER_KEY, timezone="Europe/London", currency="GBP", action_format="event")
        yield fake


@pytest.fixture
def admin(fake: FakeAcuity) -> Iterator[AcuityAdmin]:
    with AcuityAdmin(fake.url) as admin:
        yield admin


@pytest.fixture
def api(fake: FakeAcuity, clock: FakeClock) -> Iterator[Callable[..., httpx.Response]]:
    """GET/POST/DELETE on the API as account USER; moves the frozen clock so tests stay under the rate limit."""
    with httpx.Client(base_url=fake.url, auth=(str(USER), KEY), trust_env=False) as client:

        def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
            clock.advance(0.2)
            return client.request(method, f"/api/v1{path}", **kwargs)

        yield call


def register(api: Callable[..., httpx.Response], target: str, *events: str) -> None:
    for event in events:
        answer = api("POST", "/webhooks", json={"event": event, "target": target})
        assert answer.status_code == 200, answer.text


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# ----------------------------------------------------------------------------------------------- shapes


def test_the_reference_appointment_round_trips_exactly(admin: AcuityAdmin, api: Callable[..., httpx.Response]) -> None:
    full = reference("appointment_full.json")
    booked = admin.book_appointment(USER, **full)
    fetched = api("GET", f"/appointments/{full['id']}").json()
    assert booked == fetched
    differing = {key for key in full if fetched[key] != full[key]}
    assert differing == {"confirmationPage", "confirmationPagePaymentLink"}, "only the random page hash differs"
    assert fetched["confirmationPagePaymentLink"] == fetched["confirmationPage"] + "&paymentLink=true#payment"


def test_the_documented_example_round_trips_with_its_forms_and_labels(admin: AcuityAdmin) -> None:
    example = reference("appointment.json")
    fields = {key: value for key, value in example.items() if key != "confirmationPage"}
    booked = admin.book_appointment(
        USER, **fields, calendarTimezone="America/Los_Angeles", datetimeCreated="2013-06-17T09:00:00-0700"
    )
    assert {key: booked[key] for key in fields} == fields


def test_appointments_have_every_reference_key_with_the_same_json_types(
    admin: AcuityAdmin, api: Callable[..., httpx.Response]
) -> None:
    full, example = reference("appointment_full.json"), reference("appointment.json")
    booked = admin.book_appointment(USER, firstName="Jane", lastName="Doe", email="jane@example.com", price="80")
    for fetched in (api("GET", f"/appointments/{booked['id']}").json(), api("GET", "/appointments").json()[0]):
        assert set(fetched) == set(full) | set(example)
        for key, value in fetched.items():
            allowed = {json_type(full.get(key, value)), json_type(example.get(key, value))}
            if key in ("labels", "classID", "certificate", "scheduledBy"):
                allowed.add("null")  # null in one reference or in Acuity's canceled example
            assert json_type(value) in allowed, key
        assert OFFSET_DATETIME.match(fetched["datetime"])
        assert OFFSET_DATETIME.match(fetched["datetimeCreated"])
        assert DISPLAY_DATE.match(fetched["date"])
        assert DISPLAY_DATE.match(fetched["dateCreated"])
        assert DISPLAY_TIME.match(fetched["time"])
        assert DISPLAY_TIME.match(fetched["endTime"])
        for money in ("price", "priceSold", "amountPaid"):
            assert MONEY.match(fetched[money]), money
        assert fetched["paid"] in ("yes", "no")
        assert fetched["duration"] == "60"


def test_payments_appear_with_unique_transaction_ids_as_amount_paid_rises(
    admin: AcuityAdmin, api: Callable[..., httpx.Response]
) -> None:
    booked = admin.book_appointment(USER, price="80.00", amountPaid="30.00")
    assert booked["paid"] == "no"
    changed = admin.change_appointment(USER, booked["id"], amountPaid="80.00", paymentProcessor="square")
    assert (changed["amountPaid"], changed["paid"]) == ("80.00", "yes")
    payments = api("GET", f"/appointments/{booked['id']}/payments").json()
    expected = reference("payments.json")[0]
    assert [set(payment) for payment in payments] == [set(expected)] * 2
    assert [payment["amount"] for payment in payments] == ["30.00", "50.00"]
    assert [payment["processor"] for payment in payments] == ["stripe", "square"]
    ids = [payment["transactionID"] for payment in payments]
    assert len(set(ids)) == 2
    assert all(re.match(r"^ch_[0-9a-f]{24}$", tid) for tid in ids)
    for payment in payments:
        assert OFFSET_DATETIME.match(payment["created"])
        assert MONEY.match(payment["amount"])
    assert sum(Decimal(payment["amount"]) for payment in payments) == Decimal(changed["amountPaid"])


def test_orders_have_the_reference_shape(admin: AcuityAdmin, api: Callable[..., httpx.Response]) -> None:
    example = reference("order.json")
    booked = admin.complete_order(USER, **example)
    fetched = api("GET", f"/orders/{example['id']}").json()
    assert booked == fetched
    assert set(fetched) == set(example)
    assert {key: json_type(value) for key, value in fetched.items()} == {
        key: json_type(value) for key, value in example.items()
    }
    assert Decimal(fetched["total"]) == Decimal(example["total"])
    assert MONEY.match(fetched["total"])
    assert ORDER_TIME.match(fetched["time"])
    assert {key: fetched[key] for key in example if key != "total"} == {
        k: v for k, v in example.items() if k != "total"
    }
    assert fetched["status"] in ("paid", "unpaid", "delivered")


def test_me_reports_currency_and_timezone(api: Callable[..., httpx.Response]) -> None:
    me = api("GET", "/me").json()
    assert (me["id"], me["currency"], me["timezone"], me["email"]) == (
        USER,
        "USD",
        "America/Denver",
        "frontdesk@example.com",
    )
    assert {"name", "plan", "schedulingPage", "embedCode", "firstDayOfWeek", "timeFormat", "description"} <= set(me)


# ----------------------------------------------------------------------------------------------- lists


def test_appointment_lists_filter_on_the_local_date_and_leave_out_canceled(
    admin: AcuityAdmin, api: Callable[..., httpx.Response]
) -> None:
    # 23:30 in Denver on April 30 is May 1 in UTC: it belongs to April 30.
    late = admin.book_appointment(USER, datetime="2025-04-30T23:30:00-0600")
    may = admin.book_appointment(USER, datetime="2025-05-02T09:00:00-0600")
    canceled = admin.book_appointment(USER, datetime="2025-04-30T10:00:00-0600")
    admin.change_appointment(USER, canceled["id"], canceled=True)
    admin.book_appointment(OTHER_USER, datetime="2025-04-30T10:00:00+0100")

    def ids(query: str) -> list[int]:
        return [appointment["id"] for appointment in api("GET", f"/appointments?{query}").json()]

    assert ids("minDate=2025-04-30&maxDate=2025-04-30") == [late["id"]]
    assert ids("minDate=2025-05-01") == [may["id"]]
    assert ids("") == [may["id"], late["id"]], "most recent first, canceled left out, own account only"
    assert ids("canceled=true") == [canceled["id"]]
    assert ids("max=1") == [may["id"]]
    assert ids("direction=ASC") == [late["id"], may["id"]]
    assert api("GET", "/appointments?minDate=someday").status_code == 400


def test_order_lists_are_most_recent_first(
    admin: AcuityAdmin, api: Callable[..., httpx.Response], clock: FakeClock
) -> None:
    first = admin.complete_order(USER, total="10.00", title="Candle")
    clock.advance(120)
    second = admin.complete_order(USER, total="25.00", title="Massage Gift Certificate")
    admin.complete_order(OTHER_USER, total="5.00")
    assert [order["id"] for order in api("GET", "/orders").json()] == [second["id"], first["id"]]
    assert [order["id"] for order in api("GET", "/orders?max=1").json()] == [second["id"]]


def test_lists_refuse_any_parameter_they_do_not_apply(admin: AcuityAdmin, api: Callable[..., httpx.Response]) -> None:
    """A filter the fake would ignore would let a client believe it filtered: every parameter is applied or
    refused (Acuity's firstName, lastName, phone and field:ID filters are not applied here, so refused)."""
    for query in ("firstName=Jane", "field:12=yes", "page=2", "minDate=2025-04-30&minDate=2025-05-01"):
        answer = api("GET", f"/appointments?{query}")
        assert answer.status_code == 400, query
        assert answer.json()["error"] == "bad_request"
    for query in ("canceled=maybe", "direction=UP", "excludeForms=perhaps", "max=0"):
        assert api("GET", f"/appointments?{query}").status_code == 400, query
    assert api("GET", "/orders?minDate=2025-01-01").status_code == 400
    assert api("GET", "/orders?max=2").status_code == 200
    assert "firstName" in api("GET", "/appointments?firstName=Jane").json()["message"]


def test_exclude_forms_leaves_the_forms_out(admin: AcuityAdmin, api: Callable[..., httpx.Response]) -> None:
    admin.book_appointment(USER, forms=[{"id": 1, "name": "Intake", "values": [{"fieldID": 1, "value": "yes"}]}])
    (with_forms,) = api("GET", "/appointments").json()
    (without,) = api("GET", "/appointments?excludeForms=true").json()
    assert with_forms["forms"][0]["name"] == "Intake"
    assert "forms" not in without
    assert {key: value for key, value in with_forms.items() if key != "forms"} == without
    assert api("GET", "/appointments?canceled=false&excludeForms=0").json() == [with_forms]


def test_a_change_made_with_deliver_false_fires_no_webhook_but_is_there(
    fake: FakeAcuity, admin: AcuityAdmin, api: Callable[..., httpx.Response], receiver: Receiver
) -> None:
    """Acuity's delivery that failed for good: the appointment or order is in Acuity, no webhook ever came."""
    register(api, receiver.url, "appointment.changed", "order.completed")
    lost = admin.book_appointment_without_webhook(USER, price="40.00")
    changed = admin.change_appointment_without_webhook(USER, lost["id"], price="45.00")
    order = admin.complete_order_without_webhook(USER, total="20.00")
    assert receiver.received == []
    assert fake.deliveries(USER) == []
    assert api("GET", f"/appointments/{lost['id']}").json()["price"] == "45.00" == changed["price"]
    assert api("GET", f"/orders/{order['id']}").status_code == 200
    delivered = admin.change_appointment(USER, lost["id"], price="50.00")  # the default still delivers
    assert receiver.bodies() == [
        f"action=changed&id={delivered['id']}&calendarID={delivered['calendarID']}&appointmentTypeID={delivered['appointmentTypeID']}".encode()
    ]
    with httpx.Client(base_url=fake.url, trust_env=False) as raw:
        assert raw.post(f"/_admin/orders?account={USER}&deliver=later", json={}).status_code == 400
        assert raw.post(f"/_admin/orders?account={USER}&notify=no", json={}).status_code == 400


# ----------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "auth",
    [None, (str(USER), "wrong-key"), ("not-a-number", KEY), (str(OTHER_USER), KEY), ("9999", KEY)],
    ids=["none", "wrong-key", "non-numeric-user", "another-accounts-user", "unknown-user"],
)
def test_401_without_or_with_wrong_basic_auth(fake: FakeAcuity, auth: tuple[str, str] | None) -> None:
    answer = httpx.get(f"{fake.url}/api/v1/appointments", auth=auth, trust_env=False)
    assert answer.status_code == 401
    assert answer.json() == {"status_code": 401, "error": "unauthorized", "message": "Unauthorized"}


def test_404_for_another_accounts_or_an_unknown_appointment(admin: AcuityAdmin, fake: FakeAcuity) -> None:
    theirs = admin.book_appointment(OTHER_USER, firstName="Not yours")
    order = admin.complete_order(OTHER_USER, total="5.00")
    with httpx.Client(base_url=f"{fake.url}/api/v1", auth=(str(USER), KEY), trust_env=False) as mine:
        for path in (
            f"/appointments/{theirs['id']}",
            f"/appointments/{theirs['id']}/payments",
            f"/orders/{order['id']}",
        ):
            answer = mine.get(path)
            assert answer.status_code == 404, path
            assert answer.json()["status_code"] == 404
            assert answer.json()["error"] == "not_found"
            assert isinstance(answer.json()["message"], str)
        assert mine.get("/appointments/123456789").status_code == 404
        assert mine.get("/appointments/abc").json()["message"] == "Not Found. Did you mean `/appointments/{id:number}`?"
    with httpx.Client(base_url=f"{fake.url}/api/v1", auth=(str(OTHER_USER), OTHER_KEY), trust_env=False) as owner:
        assert owner.get(f"/appointments/{theirs['id']}").status_code == 200


def test_400_bodies(api: Callable[..., httpx.Response]) -> None:
    not_json = api("POST", "/webhooks", content=b"event=appointment.changed", headers={"Content-Type": "text/plain"})
    assert not_json.status_code == 400
    assert not_json.json() == {"status_code": 400, "error": "bad_request", "message": "Expected a JSON object."}
    unknown = api("POST", "/webhooks", json={"event": "appointment.deleted", "target": "https://example.com/h"})
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "bad_request"
    assert api("GET", "/webhooks").json() == []


def test_429_after_ten_requests_in_a_second(fake: FakeAcuity, clock: FakeClock, admin: AcuityAdmin) -> None:
    with httpx.Client(base_url=f"{fake.url}/api/v1", auth=(str(USER), KEY), trust_env=False) as client:
        assert [client.get("/me").status_code for _ in range(10)] == [200] * 10
        refused = client.get("/me")
        assert refused.status_code == 429
        assert refused.json() == {
            "status_code": 429,
            "error": "too_many_requests",
            "message": "Rate limit reached. Limit 10req/s and 20 concurrent connections.",
        }
        # The limit is per IP for all accounts together, and bad credentials count too.
        other = httpx.get(f"{fake.url}/api/v1/me", auth=(str(OTHER_USER), OTHER_KEY), trust_env=False)
        assert other.status_code == 429
        # Admin endpoints are not limited.
        assert [admin.book_appointment(USER)["paid"] for _ in range(12)] == ["no"] * 12
        admin.advance_clock(1.0)
        assert client.get("/me").status_code == 200


def test_rate_limits_are_configurable(clock: FakeClock) -> None:
    with FakeAcuity(clock=clock, rate_limit_per_second=3) as fake:
        fake.add_account(USER, KEY)
        with httpx.Client(base_url=fake.url, auth=(str(USER), KEY), trust_env=False) as client:
            assert [client.get("/api/v1/me").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_planned_faults_answer_in_acuitys_error_shape_then_the_api_answers_again(
    fake: FakeAcuity, api: Callable[..., httpx.Response]
) -> None:
    fake.plan_fault(str(USER), 503, path_contains="/appointments")
    fake.plan_fault(str(USER), 429, retry_after=2)
    with httpx.Client(base_url=fake.url, auth=(str(USER), "wrong"), trust_env=False) as stranger:
        assert stranger.get("/api/v1/me").status_code == 401, "only the account's own requests take its faults"

    throttled = api("GET", "/me")  # the 503 waits for an /appointments request; the 429 takes any path
    assert (throttled.status_code, throttled.headers["retry-after"]) == (429, "2")
    assert throttled.json() == {
        "status_code": 429,
        "error": "too_many_requests",
        "message": "Rate limit reached. Limit 10req/s and 20 concurrent connections.",
    }
    unavailable = api("GET", "/appointments")
    assert unavailable.status_code == 503
    assert unavailable.json() == {"status_code": 503, "error": "service_unavailable", "message": "Planned fault."}
    assert "retry-after" not in unavailable.headers
    assert api("GET", "/appointments").status_code == 200
    assert fake.pending_faults(str(USER)) == 0


def test_at_most_25_webhooks_per_account(fake: FakeAcuity, api: Callable[..., httpx.Response]) -> None:
    created = [
        api("POST", "/webhooks", json={"event": "appointment.changed", "target": f"https://example.com/{n}"})
        for n in range(25)
    ]
    assert [answer.status_code for answer in created] == [200] * 25
    first = created[0].json()
    assert first == {
        "id": first["id"],
        "event": "appointment.changed",
        "target": "https://example.com/0",
        "status": "active",
    }
    refused = api("POST", "/webhooks", json={"event": "order.completed", "target": "https://example.com/26"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "bad_request"
    assert len(api("GET", "/webhooks").json()) == 25
    with httpx.Client(base_url=f"{fake.url}/api/v1", auth=(str(OTHER_USER), OTHER_KEY), trust_env=False) as other:
        assert (
            other.post("/webhooks", json={"event": "order.completed", "target": "https://example.com/x"}).status_code
            == 200
        )
        assert other.delete(f"/webhooks/{first['id']}").status_code == 404, "not theirs"
    assert api("DELETE", f"/webhooks/{first['id']}").status_code == 204
    assert (
        api("POST", "/webhooks", json={"event": "order.completed", "target": "https://example.com/26"}).status_code
        == 200
    )


# ----------------------------------------------------------------------------------------------- webhooks


def test_signed_deliveries_carry_the_exact_body_and_signature(
    admin: AcuityAdmin, api: Callable[..., httpx.Response], receiver: Receiver
) -> None:
    register(api, receiver.url, "appointment.scheduled", "appointment.changed")
    booked = admin.book_appointment(USER, calendarID=27238, appointmentTypeID=1, price="10.00")
    expected = [
        f"action={action}&id={booked['id']}&calendarID=27238&appointmentTypeID=1".encode()
        for action in ("scheduled", "changed")
    ]
    assert receiver.bodies() == expected, "delivered before the admin call answered, scheduled first"
    for item in receiver.received:
        assert item.path == "/hooks/acuity"
        assert item.headers["content-type"] == "application/x-www-form-urlencoded"
        assert item.headers["x-acuity-signature"] == sign(item.body, KEY)
        assert signature_matches(item.body, KEY, item.headers["x-acuity-signature"])
        assert not signature_matches(item.body, OTHER_KEY, item.headers["x-acuity-signature"])
    deliveries = admin.deliveries(USER)
    assert [(d["event"], d["action"], d["status"], d["attempt"]) for d in deliveries] == [
        ("appointment.scheduled", "scheduled", 200, 1),
        ("appointment.changed", "changed", 200, 1),
    ]
    assert [d["body"].encode() for d in deliveries] == expected
    assert all(d["target"] == receiver.url and d["error"] is None and d["will_retry"] is False for d in deliveries)


@pytest.mark.parametrize(
    ("changes", "actions"),
    [
        ({"datetime": "2025-05-01T09:00:00-0600"}, ["rescheduled", "changed"]),
        ({"canceled": True}, ["canceled", "changed"]),
        ({"email": "new@example.com"}, ["changed"]),
        ({"amountPaid": "10.00"}, ["changed"]),
        ({"notes": ""}, []),  # nothing changed: nothing to tell
    ],
)
def test_changes_fire_the_specific_event_then_changed(
    admin: AcuityAdmin,
    api: Callable[..., httpx.Response],
    receiver: Receiver,
    changes: dict[str, Any],
    actions: list[str],
) -> None:
    events = ["appointment.scheduled", "appointment.rescheduled", "appointment.canceled", "appointment.changed"]
    register(api, receiver.url, *events)
    booked = admin.book_appointment(USER, datetime="2025-04-30T09:00:00-0600", price="10.00")
    receiver.received.clear()
    admin.change_appointment(USER, booked["id"], **changes)
    assert [item.body.decode().split("&")[0] for item in receiver.received] == [f"action={a}" for a in actions]


def test_orders_fire_order_completed(
    admin: AcuityAdmin, api: Callable[..., httpx.Response], receiver: Receiver
) -> None:
    register(api, receiver.url, "order.completed", "appointment.changed")
    order = admin.complete_order(USER, total="55.00")
    assert receiver.bodies() == [f"action=order.completed&id={order['id']}".encode()]
    assert receiver.received[0].headers["x-acuity-signature"] == sign(receiver.bodies()[0], KEY)


def test_event_action_format_sends_the_event_name(fake: FakeAcuity, admin: AcuityAdmin, receiver: Receiver) -> None:
    with httpx.Client(base_url=f"{fake.url}/api/v1", auth=(str(OTHER_USER), OTHER_KEY), trust_env=False) as other:
        for event in ("appointment.scheduled", "order.completed"):
            other.post("/webhooks", json={"event": event, "target": receiver.url}).raise_for_status()
    booked = admin.book_appointment(OTHER_USER, calendarID=5, appointmentTypeID=6)
    order = admin.complete_order(OTHER_USER, total="5.00")
    assert receiver.bodies() == [
        f"action=appointment.scheduled&id={booked['id']}&calendarID=5&appointmentTypeID=6".encode(),
        f"action=order.completed&id={order['id']}".encode(),
    ]
    assert all(item.headers["x-acuity-signature"] == sign(item.body, OTHER_KEY) for item in receiver.received)


def test_a_5xx_is_retried_after_the_delay_on_the_clock(
    admin: AcuityAdmin, api: Callable[..., httpx.Response], receiver: Receiver, fake: FakeAcuity
) -> None:
    register(api, receiver.url, "appointment.changed")
    receiver.script = [500]
    booked = admin.book_appointment(USER)
    first = admin.deliveries(USER)
    assert [(d["attempt"], d["status"], d["will_retry"]) for d in first] == [(1, 500, True)]
    # The retry waits on the frozen clock: due in the first delay (1 s), whatever real time passes.
    assert fake.pending_retries() == 1
    assert fake.next_retry_in() == pytest.approx(1.0)
    assert len(receiver.received) == 1
    admin.advance_clock(0.5)
    assert fake.next_retry_in() == pytest.approx(0.5)
    admin.advance_clock(0.5)
    wait_for(lambda: len(admin.deliveries(USER)) == 2)
    second = admin.deliveries(USER)[1]
    assert (second["attempt"], second["status"], second["will_retry"]) == (2, 200, False)
    assert receiver.bodies()[0] == receiver.bodies()[1]
    assert (
        receiver.bodies()[1]
        == f"action=changed&id={booked['id']}&calendarID={booked['calendarID']}&appointmentTypeID=1".encode()
    )
    assert fake.pending_retries() == 0


def test_unreachable_targets_are_retried_until_the_delays_run_out(clock: FakeClock) -> None:
    with FakeAcuity(clock=clock, retry_delays=(0.5, 0.5)) as fake, AcuityAdmin(fake.url) as admin:
        fake.add_account(USER, KEY)
        with httpx.Client(base_url=fake.url, auth=(str(USER), KEY), trust_env=False) as client:
            closed_port = "http://127.0.0.1:9/nobody-listens"
            client.post("/api/v1/webhooks", json={"event": "appointment.changed", "target": closed_port})
        admin.book_appointment(USER)
        for attempts in (2, 3):
            admin.advance_clock(0.5)
            wait_for(lambda: len(admin.deliveries(USER)) == attempts)  # noqa: B023 - called before the loop moves on
        deliveries = admin.deliveries(USER)
        assert [(d["attempt"], d["status"], d["will_retry"]) for d in deliveries] == [
            (1, None, True),
            (2, None, True),
            (3, None, False),
        ]
        assert all(d["error"] for d in deliveries)


def test_4xx_answers_are_final(
    admin: AcuityAdmin, api: Callable[..., httpx.Response], receiver: Receiver, fake: FakeAcuity
) -> None:
    register(api, receiver.url, "appointment.changed")
    receiver.script = [401]
    admin.book_appointment(USER)
    assert [(d["status"], d["will_retry"]) for d in admin.deliveries(USER)] == [(401, False)]
    assert fake.pending_retries() == 0


# ----------------------------------------------------------------------------------------------- admin client


def test_admin_client_raises_with_acuitys_error_body() -> None:
    with FakeAcuity() as fake, AcuityAdmin(fake.url) as admin:
        created = admin.create_account(7, "key-7", name="Studio Seven", timezone="Europe/Paris", currency="EUR")
        assert (created["user_id"], created["name"], created["currency"]) == (7, "Studio Seven", "EUR")
        with pytest.raises(AcuityAdminError) as raised:
            admin.book_appointment(8, firstName="Nobody")
        assert raised.value.status_code == 404
        assert raised.value.body["error"] == "not_found"
        moved = admin.advance_clock(60)
        assert datetime.fromisoformat(moved["now"]) - datetime.now(UTC) > timedelta(seconds=55)
