"""What every fake shares, in process: the clock, the one rate limiter, planned faults, credentials, the token
rules and routing."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from acuity_sync_toolkit.fakes.acuity import FakeAcuity
from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.credentials import basic_credentials
from acuity_sync_toolkit.fakes.faults import FaultPlan, FaultSupport, PlannedFault
from acuity_sync_toolkit.fakes.freshbooks import FakeFreshBooks
from acuity_sync_toolkit.fakes.httpserver import Headers, Request, Router, compile_pattern, json_response
from acuity_sync_toolkit.fakes.limits import CONCURRENT, RateLimiter, Window
from acuity_sync_toolkit.fakes.oauth_authority import (
    FRESHBOOKS_TOKENS,
    QUICKBOOKS_TOKENS,
    XERO_TOKENS,
    InvalidGrant,
    TokenAuthority,
)
from acuity_sync_toolkit.fakes.quickbooks import FakeQuickBooks
from acuity_sync_toolkit.fakes.service import FakeService
from acuity_sync_toolkit.fakes.xero import FakeXero

# A machine uptime at which `start + 60 - now`, with start == now, is 60.00000000001 in floating point: the
# limiter tests once failed with Retry-After '61' == '60' when the frozen clock counted from such a reading.
AWKWARD_UPTIME = 262084.33289225525


# ----------------------------------------------------------------------------------------------- clock


def test_clock_follows_real_time_plus_what_was_advanced() -> None:
    clock = FakeClock()
    before_now, before_mono = clock.now(), clock.monotonic()
    assert before_now.tzinfo is not None
    assert before_now.utcoffset() == timedelta(0)
    assert abs(before_now - datetime.now(UTC)) < timedelta(seconds=1)
    clock.advance(3600)
    assert clock.now() - before_now >= timedelta(hours=1)
    assert clock.monotonic() - before_mono >= 3600


def test_frozen_clock_moves_only_when_advanced_and_tells_listeners() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    clock = FakeClock(start, frozen=True)
    woken: list[int] = []
    unsubscribe = clock.on_advance(lambda: woken.append(1))
    assert clock.now() == start
    clock.advance(1.5)
    assert clock.now() == start + timedelta(seconds=1.5)
    unsubscribe()
    clock.advance(1)
    assert woken == [1]
    with pytest.raises(ValueError, match="back"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="aware"):
        FakeClock(datetime(2026, 1, 1))


def test_a_frozen_clock_reads_the_sum_of_its_advances_whatever_the_machines_uptime(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("acuity_sync_toolkit.fakes.clock.time.monotonic", lambda: AWKWARD_UPTIME)
    clock = FakeClock(frozen=True)
    assert clock.monotonic() == 0.0
    clock.advance(0.999)
    clock.advance(0.001)
    assert clock.monotonic() == 1.0


# ----------------------------------------------------------------------------------------------- rate limiter


def test_a_sliding_window_allows_its_limit_then_refuses_until_it_slides() -> None:
    clock = FakeClock(frozen=True)
    limiter = RateLimiter(clock, (Window("second", 10, 1.0),), max_concurrent=20)
    for _ in range(10):
        assert limiter.acquire("10.0.0.1").allowed
        limiter.release("10.0.0.1")
    refused = limiter.acquire("10.0.0.1")
    assert (refused.allowed, refused.refused_by, refused.retry_after) == (False, "second", 1.0)
    assert limiter.acquire("10.0.0.2").allowed, "another key has its own window"
    clock.advance(0.999)
    assert not limiter.acquire("10.0.0.1").allowed
    clock.advance(0.001)
    assert limiter.acquire("10.0.0.1").allowed


def test_refusals_do_not_use_up_the_window() -> None:
    clock = FakeClock(frozen=True)
    limiter = RateLimiter(clock, (Window("second", 2, 1.0),), max_concurrent=20)
    assert limiter.acquire("ip").allowed
    assert limiter.acquire("ip").allowed
    clock.advance(0.5)
    for _ in range(5):
        assert not limiter.acquire("ip").allowed
    clock.advance(0.5)
    assert limiter.acquire("ip").allowed
    assert limiter.acquire("ip").allowed


def test_requests_in_flight_are_capped_until_released() -> None:
    clock = FakeClock(frozen=True)
    limiter = RateLimiter(clock, (Window("second", 1000, 1.0),), max_concurrent=20)
    for _ in range(20):
        assert limiter.acquire("ip").allowed
    clock.advance(5)
    refused = limiter.acquire("ip")
    assert (refused.allowed, refused.refused_by, refused.retry_after) == (False, CONCURRENT, None)
    assert limiter.in_flight("ip") == 20
    limiter.release("ip")
    assert limiter.acquire("ip").allowed


def test_every_window_counts_and_the_first_full_one_refuses() -> None:
    clock = FakeClock(frozen=True)
    limiter = RateLimiter(clock, (Window("minute", 5, 60), Window("second", 100, 1)), max_concurrent=10)
    for _ in range(5):
        assert limiter.acquire("realm").allowed
        limiter.release("realm")
    refused = limiter.acquire("realm")
    assert (refused.refused_by, refused.remaining) == ("minute", {"minute": 0, "second": 95})
    clock.advance(59.0)
    assert not limiter.acquire("realm").allowed
    clock.advance(1.0)
    allowed = limiter.acquire("realm")
    assert (allowed.allowed, allowed.remaining) == (True, {"minute": 4, "second": 99})


def test_a_fixed_window_starts_at_the_first_request_and_restarts_whole() -> None:
    clock = FakeClock(frozen=True)
    limiter = RateLimiter(clock, (Window("minute", 2, 60, fixed=True),), max_concurrent=5)
    clock.advance(10)  # the window starts here, at the first request, not when the limiter was made
    assert limiter.acquire("t").allowed
    clock.advance(30)
    assert limiter.acquire("t").allowed
    refused = limiter.acquire("t")
    assert (refused.refused_by, refused.retry_after) == ("minute", 30.0)
    clock.advance(30)
    assert limiter.acquire("t").remaining == {"minute": 1}, "a new window: this request is its first"


def test_a_window_for_all_keys_counts_every_key() -> None:
    clock = FakeClock(frozen=True)
    windows = (Window("tenant", 10, 60, fixed=True), Window("app", 3, 60, fixed=True, per_key=False))
    limiter = RateLimiter(clock, windows, max_concurrent=5)
    assert [limiter.acquire(key).allowed for key in ("a", "b", "c", "d")] == [True, True, True, False]
    assert limiter.acquire("e").refused_by == "app"


def test_limits_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Window("second", 0, 1.0)
    with pytest.raises(ValueError, match="at least 1"):
        RateLimiter(FakeClock(frozen=True), (), max_concurrent=0)


# ----------------------------------------------------------------------------------------------- planned faults


def test_faults_are_used_in_the_order_planned_and_count_down() -> None:
    plan = FaultPlan()
    plan.add("c1", PlannedFault(503), 2)
    plan.add("c1", PlannedFault(429, retry_after=5), 1)
    assert plan.pending("c1") == 3
    assert plan.take("c2", "/x") is None, "another company's requests are not affected"
    taken = [plan.take("c1", "/x") for _ in range(4)]
    assert [fault.status if fault else None for fault in taken] == [503, 503, 429, None]
    assert plan.pending("c1") == 0


def test_a_fault_for_some_paths_waits_for_a_matching_request() -> None:
    plan = FaultPlan()
    plan.add("c1", PlannedFault(500, path_contains="/invoices/"), 1)
    plan.add("c1", PlannedFault(503), 1)
    assert plan.take("c1", "/users/clients") == PlannedFault(503)
    assert plan.take("c1", "/users/clients") is None
    assert plan.take("c1", "/invoices/invoices") == PlannedFault(500, path_contains="/invoices/")
    with pytest.raises(ValueError, match="at least 1"):
        plan.add("c1", PlannedFault(503), 0)


@pytest.mark.parametrize(
    ("support", "fault", "message"),
    [
        (FaultSupport(), PlannedFault(None, hang_seconds=1), "give a status"),
        (FaultSupport(hangs=True), PlannedFault(None), "give a status or hang_seconds"),
        (FaultSupport(statuses=(429, 500, 503)), PlannedFault(418), r"status must be one of \(429, 500, 503\)"),
        (FaultSupport(), PlannedFault(302), "error status"),
        (FaultSupport(), PlannedFault(503, hang_seconds=1), "cannot hold"),
        (FaultSupport(hangs=True), PlannedFault(503, hang_seconds=-1), "negative"),
        (FaultSupport(), PlannedFault(429, body_format="xml"), "format must be one of"),
        (FaultSupport(retry_after=False), PlannedFault(429, retry_after=5), "no Retry-After"),
    ],
)
def test_a_fake_refuses_a_fault_it_cannot_answer(support: FaultSupport, fault: PlannedFault, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        support.check(fault)


@pytest.mark.parametrize("fake_class", [FakeAcuity, FakeQuickBooks, FakeXero, FakeFreshBooks])
def test_every_fake_plans_faults_through_the_one_plan_fault(fake_class: type[FakeService]) -> None:
    fake = fake_class(clock=FakeClock(frozen=True))
    assert type(fake).plan_fault is FakeService.plan_fault
    fake.plan_fault("1234", 503, count=2)
    assert fake.pending_faults("1234") == 2
    with pytest.raises(ValueError, match="status"):
        fake.plan_fault("1234", 200)
    assert fake.pending_faults("1234") == 2, "a refused fault is not planned"


# ----------------------------------------------------------------------------------------------- credentials


def test_basic_credentials_are_read_as_the_services_read_them() -> None:
    def basic(text: str) -> str:
        return "Basic " + base64.b64encode(text.encode()).decode()

    assert basic_credentials(basic("1234:key:with:colons")) == ("1234", "key:with:colons")
    assert basic_credentials("basic " + basic("id:secret")[6:]) == ("id", "secret")
    assert basic_credentials(basic("no-separator")) is None
    assert basic_credentials("Basic not*base64") is None
    assert basic_credentials("Bearer abc") is None
    assert basic_credentials(None) is None


# ----------------------------------------------------------------------------------------------- token rules


def test_each_ledger_fake_follows_its_ledgers_token_rules() -> None:
    clock = FakeClock(frozen=True)
    assert FakeQuickBooks(clock=clock).authority.rotation == QUICKBOOKS_TOKENS.rotation == "rotating_with_grace"
    assert FakeXero(clock=clock).authority.access_ttl == XERO_TOKENS.access_ttl == 1800
    assert FakeFreshBooks(clock=clock).authority.old_refresh_grace == FRESHBOOKS_TOKENS.old_refresh_grace == 0


def test_xero_tokens_are_single_use_with_a_replaying_grace() -> None:
    clock = FakeClock(frozen=True)
    authority = TokenAuthority.following(clock, XERO_TOKENS)
    pair = authority.issue("t")
    assert authority.check_access(pair.access_token) == "t"
    fresh = authority.refresh(pair.refresh_token)
    assert authority.refresh(pair.refresh_token) == fresh
    clock.advance(1801)
    assert authority.check_access(fresh.access_token) is None
    with pytest.raises(InvalidGrant):
        authority.refresh(pair.refresh_token)


def test_freshbooks_refresh_tokens_have_no_grace() -> None:
    authority = TokenAuthority.following(FakeClock(frozen=True), FRESHBOOKS_TOKENS)
    pair = authority.issue("ABC123")
    authority.refresh(pair.refresh_token)
    with pytest.raises(InvalidGrant):
        authority.refresh(pair.refresh_token)


def test_quickbooks_tokens_look_like_intuits_and_rotate_with_a_day_of_grace() -> None:
    clock = FakeClock(frozen=True)
    authority = TokenAuthority.following(clock, QUICKBOOKS_TOKENS)
    pair = authority.issue("9130355")
    assert pair.access_token.startswith("eyJ")
    assert pair.refresh_token.startswith("AB11")
    authority.refresh(pair.refresh_token)
    clock.advance(86399)
    assert authority.refresh(pair.refresh_token).access_token != pair.access_token
    clock.advance(1)
    with pytest.raises(InvalidGrant):
        authority.refresh(pair.refresh_token)


def test_a_ledger_fake_issues_tokens_only_for_its_companies() -> None:
    fake = FakeFreshBooks(clock=FakeClock(frozen=True))
    fake.add_business("ABC123")
    assert fake.authority.check_access(fake.issue_tokens("ABC123").access_token) == "ABC123"
    with pytest.raises(KeyError):
        fake.issue_tokens("NOPE")


# ----------------------------------------------------------------------------------------------- routing


def test_patterns_match_one_segment_per_parameter() -> None:
    pattern = compile_pattern("/api/v1/appointments/{id}/payments")
    match = pattern.match("/api/v1/appointments/42/payments")
    assert match is not None
    assert match.groupdict() == {"id": "42"}
    assert pattern.match("/api/v1/appointments/4/2/payments") is None
    assert pattern.match("/api/v1/appointments/42/payments/x") is None


def test_headers_are_case_insensitive_and_keep_repeats() -> None:
    headers = Headers([("Content-Type", "text/plain"), ("X-Twice", "a"), ("x-twice", "b")])
    assert headers["content-type"] == "text/plain"
    assert "CONTENT-TYPE" in headers
    assert headers.get_all("X-TWICE") == ["a", "b"]
    assert headers.get("missing") is None


def test_a_router_answers_in_process_with_path_parameters_404_and_405() -> None:
    router = Router()
    router.add("GET", "/things/{id}", lambda request: json_response(dict(request.path_params)))

    def request(method: str, path: str) -> Request:
        return Request(method=method, path=path, query={}, headers=Headers(), body=b"")

    assert router(request("GET", "/things/7")).body == b'{"id":"7"}'
    assert router(request("GET", "/nothing")).status == 404
    refused = router(request("POST", "/things/7"))
    assert (refused.status, refused.header("Allow")) == (405, "GET")
