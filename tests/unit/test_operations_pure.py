"""The pure parts of operations: fingerprints, the reconciliation window, the maintenance run's "now", and what
`explain` says for each state."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from acuity_sync.acuity.fingerprint import appointment_fingerprint, order_fingerprint
from acuity_sync.acuity.models import Appointment, Order
from acuity_sync.domain.message import SyncRequest
from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.domain.record import SyncRecord, WrittenInvoice, WrittenPayment
from acuity_sync.domain.steps import EnsureCustomer
from acuity_sync.operations.reconcile import Window, business_today
from acuity_sync.secret import Secret
from acuity_sync.store.parking import ParkedEvent, ResumeOn
from acuity_sync.store.tenants import TenantProfile
from acuity_sync.wiring.maintenance import run_time
from acuity_sync_toolkit.cli.explain import LedgerFacts, explain

APPOINTMENT: dict[str, Any] = {
    "id": 1000001,
    "firstName": "Jane",
    "lastName": "Doe",
    "email": "jane@example.com",
    "datetime": "2026-12-03T15:00:00-0500",
    "price": "80.00",
    "amountPaid": "0.00",
    "appointmentTypeID": 7,
    "calendarID": 27238,
    "duration": "60",
    "calendarTimezone": "America/New_York",
    "confirmationPage": "https://example.test/a",
    "date": "December 3, 2026",
}
TENANT = "0123456789abcdef0123456789abcdef"


# --------------------------------------------------------------------------------- fingerprints


def test_an_appointment_read_by_list_or_by_id_has_one_fingerprint_and_a_change_moves_it() -> None:
    single = Appointment.model_validate(APPOINTMENT)
    listed = Appointment.model_validate({**APPOINTMENT, "confirmationPage": "https://example.test/b", "labels": []})
    assert appointment_fingerprint(single) == appointment_fingerprint(listed)  # display strings and links left out
    for change in (
        {"price": "95.00"},
        {"amountPaid": "80.00"},
        {"canceled": True},
        {"email": "jane@other.test"},
        {"datetime": "2026-12-04T15:00:00-0500"},
        {"certificate": "GIFT1"},
    ):
        changed = Appointment.model_validate({**APPOINTMENT, **change})
        assert appointment_fingerprint(changed) != appointment_fingerprint(single), change


def test_an_orders_fingerprint_follows_its_total_and_status() -> None:
    order = {"id": 5, "total": "55.00", "status": "unpaid", "time": "2026-11-28 10:00"}
    base = order_fingerprint(Order.model_validate(order))
    assert base == order_fingerprint(Order.model_validate({**order, "notes": None}))
    assert base != order_fingerprint(Order.model_validate({**order, "status": "paid"}))
    assert base != order_fingerprint(Order.model_validate({**order, "total": "60"}))


# --------------------------------------------------------------------------------- the window and the run's time


def test_the_window_is_today_in_the_business_time_zone_and_days_each_side() -> None:
    late_evening_in_new_york = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # Dec 3, 10pm in New York
    profile = TenantProfile(TENANT, "Studio", "1", Secret("k"), timezone="America/New_York")
    assert business_today(profile, late_evening_in_new_york) == date(2026, 12, 3)
    assert business_today(TenantProfile(TENANT, "S", "1", Secret("k")), late_evening_in_new_york) == date(2026, 12, 4)
    assert Window.around(date(2026, 12, 3), 7) == Window(date(2026, 11, 26), date(2026, 12, 10))
    with pytest.raises(ValueError, match="days"):
        Window.around(date(2026, 12, 3), -1)


def test_a_runs_now_is_the_scheduled_events_time_unless_this_machines_is_later() -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert run_time({"time": "2026-12-04T12:00:00Z"}, now) == datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    assert run_time({"time": "2026-12-03T11:55:00Z"}, now) == now  # EventBridge's minute, a little behind
    assert run_time({}, now) == now  # invoked by hand
    assert run_time({"time": "soon"}, now) == now


# --------------------------------------------------------------------------------- explain


def entry(
    decision: str, rule: str, detail: str, request_id: str, at: str, event: str = "webhook changed"
) -> dict[str, str]:
    return {"decision": decision, "rule": rule, "detail": detail, "request_id": request_id, "at": at, "event": event}


def facts(**overrides: Any) -> LedgerFacts:
    base: dict[str, Any] = {
        "ledger": LedgerName.XERO,
        "record": SyncRecord(),
        "pending": None,
        "entries": [],
        "parked": None,
        "dead_letters": 0,
    }
    return LedgerFacts(**(base | overrides))


def explained(*ledgers: LedgerFacts, webhook: list[dict[str, str]] | None = None) -> dict[str, Any]:
    answer = explain(TENANT, "Studio", EventKind.APPOINTMENT, 1000001, webhook or [], ledgers)
    assert answer is not None
    return answer.document["ledgers"]["xero"]  # type: ignore[no-any-return]


def test_a_synced_appointment_shows_its_documents_and_no_problem() -> None:
    record = SyncRecord(
        customer_id="C-1",
        invoice=WrittenInvoice("I-1", "INV-0001", date(2026, 12, 3), "memo", ()),
        payments=(WrittenPayment("ch_1", "P-1", Decimal("80.00")),),
    )
    entries = [
        entry("written", "sync", "customer created", "r1", "2026-12-03T10:00:00.000001+00:00"),
        entry("written", "sync", "invoice INV-0001 created", "r1", "2026-12-03T10:00:01.000001+00:00"),
    ]
    answer = explained(facts(record=record, entries=entries))
    assert answer["state"] == "synced"
    assert (answer["problem"], answer["next_step"]) == (None, None)
    assert answer["invoice"] == {"id": "I-1", "number": "INV-0001", "total": "0.00"}
    assert answer["payments"] == [{"transaction_id": "ch_1", "payment_id": "P-1", "amount": "80.00"}]
    assert [event["detail"] for event in answer["events"]] == ["customer created", "invoice INV-0001 created"]
    assert set(answer["events"][0]) == {"at", "decision", "rule", "detail"}


def test_a_skipped_appointment_names_its_rule_and_how_to_change_it() -> None:
    entries = [entry("skipped", "customer_only_mode", "customer only: no invoice", "r1", "2026-12-03T10:00:00+00:00")]
    answer = explained(facts(entries=entries))
    assert answer["state"] == "skipped"
    assert answer["problem"] is None
    assert "set mode=draft" in answer["next_step"]


def test_a_parked_appointment_says_why_in_the_ledgers_words_and_what_resumes_it() -> None:
    request = SyncRequest(TENANT, EventKind.APPOINTMENT, 1000001, "changed", "2026-12-03T10:00:00+00:00", "r1")
    parked = ParkedEvent(
        request,
        LedgerName.XERO,
        "needs_reauth",
        "Xero refused to renew the connection",
        ResumeOn.RECONNECT,
        None,
        datetime(2026, 12, 3, tzinfo=UTC),
    )
    answer = explained(facts(parked=parked, entries=[entry("parked", "needs_reauth", "x", "r1", "2026-12-03T10:00")]))
    assert (answer["state"], answer["problem"]) == ("parked", "Xero refused to renew the connection")
    assert "reconnect Xero" in answer["next_step"]
    limited = ParkedEvent(
        request,
        LedgerName.XERO,
        "rate_limited",
        "day limit",
        ResumeOn.TIME,
        datetime(2026, 12, 4, 0, 5, tzinfo=UTC),
        datetime(2026, 12, 3, tzinfo=UTC),
    )
    assert "resumes by itself at 2026-12-04 00:05 UTC" in explained(facts(parked=limited))["next_step"]


def test_a_failed_pending_or_unheard_of_appointment() -> None:
    failed = explained(facts(dead_letters=1, entries=[entry("retry later", "backoff", "x", "r1", "2026-12-03")]))
    assert failed["state"] == "failed"
    assert "replay --ledger xero --dlq" in failed["next_step"]
    retrying = explained(facts(entries=[entry("retry later", "backoff", "Xero is busy", "r1", "2026-12-03")]))
    assert (retrying["state"], retrying["problem"]) == ("pending", "Xero is busy")
    resolving = explained(facts(pending=EnsureCustomer(), entries=[entry("written", "sync", "x", "r1", "2026")]))
    assert resolving["state"] == "pending"
    webhook_only = [entry("no ledger", "no_ledger", "nothing connected then", "r0", "2026-12-01")]
    unseen = explained(facts(), webhook=webhook_only)
    assert unseen["state"] == "pending"
    assert "reconcile" in unseen["next_step"]
    assert explain(TENANT, "Studio", EventKind.APPOINTMENT, 1, [], [facts()]) is None


def test_the_latest_request_decides_and_the_words_say_what_arrived() -> None:
    entries = [
        entry("written", "sync", "invoice created", "r1", "2026-12-03T10:00:00+00:00"),
        entry(
            "skipped",
            "update_on_change_off",
            "changes are not synced",
            "r2",
            "2026-12-04T10:00:00+00:00",
            event="reconcile changed",
        ),
    ]
    answer = explain(TENANT, "Studio", EventKind.APPOINTMENT, 1000001, [], [facts(entries=entries)])
    assert answer is not None
    assert answer.document["ledgers"]["xero"]["state"] == "skipped"
    words = "\n".join(answer.lines)
    assert "Appointment 1000001 of Studio" in words
    assert "Xero: skipped" in words
    assert "reconcile changed: skipped (update_on_change_off) — changes are not synced" in words
    assert "2026-12-03 10:00:00  webhook changed: written — invoice created" in words
