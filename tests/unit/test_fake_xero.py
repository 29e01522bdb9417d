"""Unit tests of the fake Xero's parts: money, where filters, entity rules, limits, idempotency, tokens, spec."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.httpserver import Response
from acuity_sync_toolkit.fakes.limits import Decision, RateLimiter
from acuity_sync_toolkit.fakes.xero import invoices, spec
from acuity_sync_toolkit.fakes.xero.entities import Organisation, where_filter
from acuity_sync_toolkit.fakes.xero.idempotency import KEEP_SECONDS, IdempotencyStore
from acuity_sync_toolkit.fakes.xero.limits import rate_limit_headers, tenant_limiter
from acuity_sync_toolkit.fakes.xero.values import XeroError

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
# A machine uptime at which `start + 60 - now`, with start == now, is 60.00000000001 in floating point: this
# test once failed with Retry-After '61' == '60' when the frozen clock counted from such a reading.
AWKWARD_UPTIME = 262084.33289225525


def headers(decision: Decision) -> dict[str, str]:
    return dict(rate_limit_headers(decision))


@pytest.fixture
def org() -> Organisation:
    organisation = Organisation(str(uuid.uuid4()), "Test", "USD", NOW)
    organisation.save_contact({"Name": "Jane", "EmailAddress": "jane@example.com"}, create_only=True, now=NOW)
    return organisation


def _contact_id(org: Organisation) -> str:
    return next(iter(org.contacts))


def _invoice(org: Organisation, status: str = "AUTHORISED", **extra: object) -> dict[str, object]:
    data = {
        "Type": "ACCREC",
        "Contact": {"ContactID": _contact_id(org)},
        "LineItems": [{"Description": "Massage", "Quantity": 1, "UnitAmount": Decimal("100.00"), "AccountCode": "200"}],
        "Status": status,
        **extra,
    }
    return invoices.save_invoice(org, data, create_only=True, now=NOW)


def test_chart_of_accounts_has_sales_revenue_and_bank_accounts(org: Organisation) -> None:
    types = {account["Type"] for account in org.accounts}
    assert {"REVENUE", "SALES", "BANK"} <= types
    assert any(a["Type"] == "BANK" and "Code" not in a for a in org.accounts)
    assert any(a["Type"] != "BANK" and a["EnablePaymentsToAccount"] for a in org.accounts)


def test_where_filter_parses_equalities_and_refuses_the_rest() -> None:
    assert where_filter('EmailAddress=="a@b.c" AND Name=="x"') == [("EmailAddress", "a@b.c"), ("Name", "x")]
    with pytest.raises(XeroError):
        where_filter('Name.StartsWith("x")')


def test_contact_name_is_unique(org: Organisation) -> None:
    with pytest.raises(XeroError, match="must be unique across all active contacts"):
        org.save_contact({"Name": "Jane"}, create_only=True, now=NOW)
    assert org.find_contacts('EmailAddress=="JANE@example.com"')[0]["Name"] == "Jane"


@pytest.mark.parametrize(
    ("amount_types", "subtotal", "tax", "total"),
    [("Exclusive", 100.0, 15.0, 115.0), ("Inclusive", 86.96, 13.04, 100.0), ("NoTax", 100.0, 0.0, 100.0)],
)
def test_line_amount_types(org: Organisation, amount_types: str, subtotal: float, tax: float, total: float) -> None:
    invoice = _invoice(org, LineAmountTypes=amount_types)
    assert (invoice["SubTotal"], invoice["TotalTax"], invoice["Total"]) == (subtotal, tax, total)
    assert invoice["AmountDue"] == total


def test_status_transitions(org: Organisation) -> None:
    draft = _invoice(org, "DRAFT")
    with pytest.raises(XeroError, match="cannot be changed to VOIDED"):
        invoices.save_invoice(org, {"InvoiceID": draft["InvoiceID"], "Status": "VOIDED"}, create_only=False, now=NOW)
    invoices.save_invoice(org, {"InvoiceID": draft["InvoiceID"], "Status": "DELETED"}, create_only=False, now=NOW)
    assert draft["Status"] == "DELETED"
    approved = _invoice(org)
    with pytest.raises(XeroError, match="cannot be changed to DELETED"):
        invoices.save_invoice(
            org, {"InvoiceID": approved["InvoiceID"], "Status": "DELETED"}, create_only=False, now=NOW
        )
    invoices.save_invoice(org, {"InvoiceID": approved["InvoiceID"], "Status": "VOIDED"}, create_only=False, now=NOW)
    assert approved["Status"] == "VOIDED"
    with pytest.raises(XeroError):
        _invoice(org, "PAID")


def test_payment_rules_and_paid_invoice_is_locked(org: Organisation) -> None:
    draft = _invoice(org, "DRAFT")
    bank = {"Code": "090"}
    with pytest.raises(XeroError, match="AUTHORISED"):
        invoices.create_payment(org, {"Invoice": {"InvoiceID": draft["InvoiceID"]}, "Account": bank, "Amount": 1}, NOW)
    invoice = _invoice(org)
    ref = {"InvoiceID": invoice["InvoiceID"]}
    with pytest.raises(XeroError, match="exceeds the amount outstanding"):
        invoices.create_payment(org, {"Invoice": ref, "Account": bank, "Amount": Decimal("115.01")}, NOW)
    with pytest.raises(XeroError, match="not a BANK account"):
        invoices.create_payment(org, {"Invoice": ref, "Account": {"Code": "200"}, "Amount": 1}, NOW)
    invoices.create_payment(org, {"Invoice": ref, "Account": bank, "Amount": Decimal("15.00")}, NOW)
    assert (invoice["AmountPaid"], invoice["AmountDue"], invoice["Status"]) == (15.0, 100.0, "AUTHORISED")
    invoices.create_payment(org, {"Invoice": ref, "Account": {"Code": "880"}, "Amount": Decimal("100.00")}, NOW)
    assert (invoice["AmountDue"], invoice["Status"]) == (0.0, "PAID")
    with pytest.raises(XeroError, match="not of valid status for modification"):
        invoices.save_invoice(org, {"InvoiceID": invoice["InvoiceID"], "Reference": "x"}, create_only=False, now=NOW)


def test_email_refused_for_draft(org: Organisation) -> None:
    draft = _invoice(org, "DRAFT")
    with pytest.raises(XeroError, match="cannot be emailed"):
        invoices.email_invoice(org, str(draft["InvoiceID"]))
    approved = _invoice(org)
    invoices.email_invoice(org, str(approved["InvoiceID"]))
    assert approved["SentToContact"] is True


def test_credit_note_allocation(org: Organisation) -> None:
    invoice = _invoice(org)
    note = invoices.create_credit_note(
        org,
        {
            "Type": "ACCRECCREDIT",
            "Status": "AUTHORISED",
            "Contact": {"ContactID": _contact_id(org)},
            "LineItems": [{"Description": "refund", "Quantity": 1, "UnitAmount": 20, "AccountCode": "200"}],
        },
        NOW,
    )
    invoices.allocate_credit(
        org, str(note["CreditNoteID"]), {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": 23}, NOW
    )
    assert (invoice["AmountCredited"], invoice["AmountDue"], note["RemainingCredit"]) == (23.0, 92.0, 0.0)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A frozen clock made on a machine whose uptime makes float arithmetic on raw readings inexact."""
    monkeypatch.setattr("acuity_sync_toolkit.fakes.clock.time.monotonic", lambda: AWKWARD_UPTIME)
    return FakeClock(frozen=True)


def test_limiter_minute_window_and_concurrency(clock: FakeClock) -> None:
    limiter: RateLimiter = tenant_limiter(clock, per_minute=2, per_day=10, max_concurrent=5)
    for remaining in ("1", "0"):
        allowed = limiter.acquire("t")
        assert allowed.allowed
        assert headers(allowed) == {
            "X-DayLimit-Remaining": str(8 + int(remaining)),
            "X-MinLimit-Remaining": remaining,
            "X-AppMinLimit-Remaining": str(9998 + int(remaining)),
        }
        limiter.release("t")
    refused = limiter.acquire("t")
    assert not refused.allowed
    assert headers(refused)["X-Rate-Limit-Problem"] == "minute"
    assert headers(refused)["Retry-After"] == "60"
    clock.advance(59.5)
    assert headers(limiter.acquire("t"))["Retry-After"] == "1", "whole seconds, rounded up"
    clock.advance(0.5)
    assert limiter.acquire("t").allowed
    busy = tenant_limiter(clock, per_minute=9, per_day=9, max_concurrent=1)
    assert busy.acquire("t").allowed
    concurrent = busy.acquire("t")
    assert headers(concurrent)["X-Rate-Limit-Problem"] == "concurrent"
    assert "Retry-After" not in headers(concurrent)


def test_idempotency_store() -> None:
    clock = FakeClock(frozen=True)
    store = IdempotencyStore(clock)
    first = store.fingerprint("PUT", "/x", b"{}")
    store.keep("t", "k", first, Response(200, b"ok"))
    assert store.lookup("t", "k", first) == Response(200, b"ok")
    assert isinstance(store.lookup("t", "k", store.fingerprint("PUT", "/x", b"{1}")), str)
    clock.advance(KEEP_SECONDS + 1)
    assert store.lookup("t", "k", first) is None


def test_spec_unknown_fields() -> None:
    body = b'{"Invoices": [{"Type": "ACCREC", "Refrence": "x", "LineItems": [{"AccountCod": "200"}]}]}'
    assert spec.unknown_fields("PUT", "/Invoices", body) == [
        "Invoices[0].Refrence",
        "Invoices[0].LineItems[0].AccountCod",
    ]


def test_limiter_day_window(clock: FakeClock) -> None:
    limiter = tenant_limiter(clock, per_minute=100, per_day=2, max_concurrent=5)
    for _ in range(2):
        assert limiter.acquire("t").allowed
        limiter.release("t")
    refused = headers(limiter.acquire("t"))
    assert (refused["X-Rate-Limit-Problem"], refused["X-DayLimit-Remaining"]) == ("day", "0")
    assert refused["Retry-After"] == "86400"
    assert limiter.acquire("other").allowed  # limits are per tenant


def test_contacts_search_term_is_case_insensitive_across_names_and_email(org: Organisation) -> None:
    org.save_contact({"Name": "Mary Jane", "EmailAddress": "mary@example.com"}, create_only=True, now=NOW)
    assert [c["Name"] for c in org.find_contacts(None, "JANE@EXAMPLE.com")] == ["Jane"]
    assert [c["Name"] for c in org.find_contacts(None, "jane")] == ["Jane", "Mary Jane"]
    assert org.find_contacts(None, "nobody") == []
