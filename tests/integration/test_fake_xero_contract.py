"""The fake Xero over HTTP, checked against Xero's official OpenAPI spec and Xero's documented rules."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.xero import FakeXero, spec

TENANT = str(uuid.uuid4())


@pytest.fixture
def xero() -> Iterator[FakeXero]:
    with FakeXero(clock=FakeClock(frozen=True), per_minute=1000) as fake:
        fake.add_organisation(TENANT, name="Calm Clinic")
        yield fake
        assert fake.spec_violations == []


@pytest.fixture
def api(xero: FakeXero) -> Iterator[httpx.Client]:
    tokens = xero.issue_tokens(TENANT)
    headers = {"Authorization": f"Bearer {tokens.access_token}", "xero-tenant-id": TENANT, "Accept": "application/json"}
    with httpx.Client(base_url=f"{xero.url}/api.xro/2.0", headers=headers, timeout=30) as client:
        yield client


def _contact(api: httpx.Client, name: str = "Jane Doe", email: str = "jane@example.com") -> str:
    response = api.put("/Contacts", json={"Contacts": [{"Name": name, "EmailAddress": email}]})
    assert response.status_code == 200, response.text
    return str(response.json()["Contacts"][0]["ContactID"])


def _invoice(api: httpx.Client, contact_id: str, status: str = "AUTHORISED", **extra: Any) -> dict[str, Any]:
    line = {"Description": "Massage 60 min", "Quantity": 1, "UnitAmount": 80.0, "AccountCode": "200"}
    body = {"Type": "ACCREC", "Contact": {"ContactID": contact_id}, "LineItems": [line], "Status": status, **extra}
    response = api.put("/Invoices", json={"Invoices": [body]})
    assert response.status_code == 200, response.text
    invoice: dict[str, Any] = response.json()["Invoices"][0]
    return invoice


def _message(response: httpx.Response) -> str:
    return str(response.json()["Elements"][0]["ValidationErrors"][0]["Message"])


def test_responses_match_the_spec_and_carry_rate_headers(api: httpx.Client) -> None:
    for path in ("/Organisation", "/Accounts", "/Contacts", "/Invoices", "/Payments"):
        response = api.get(path)
        assert response.status_code == 200
        assert spec.response_errors("GET", f"/api.xro/2.0{path}", {}, {}, b"", 200, response.content) == []
        for header in ("X-MinLimit-Remaining", "X-DayLimit-Remaining", "X-AppMinLimit-Remaining"):
            assert int(response.headers[header]) >= 0


def test_an_answer_off_spec_is_caught() -> None:
    bad = json.dumps({"Invoices": [{"InvoiceID": "not-a-uuid"}]}).encode()
    assert spec.response_errors("GET", "/api.xro/2.0/Invoices", {}, {}, b"", 200, bad)


def test_misspelled_field_refused_in_either_mode(xero: FakeXero, api: httpx.Client) -> None:
    """Xero would drop a field it does not know without a word; the fake never does (strict mode names it as
    unknown to the spec, the other as not supported), so a misspelling cannot pass a test."""
    response = api.put("/Contacts", json={"Contacts": [{"Name": "Jo", "EmailAdress": "jo@example.com"}]})
    assert response.status_code == 400
    assert "unknown field Contacts[0].EmailAdress" in _message(response)
    xero.strict = False
    response = api.put("/Contacts", json={"Contacts": [{"Name": "Jo", "EmailAdress": "x"}]})
    assert response.status_code == 400
    assert "Contacts[0].EmailAdress of Contact is not supported by this fake" in _message(response)
    assert xero.state(TENANT)["Contacts"] == []


def test_request_off_spec_refused(api: httpx.Client) -> None:
    response = api.put("/Invoices", json={"Invoices": [{"Type": "NOT_A_TYPE"}]})
    assert response.status_code == 400
    assert "does not match the Xero API" in _message(response)


def test_contacts_find_by_email_and_unique_name(api: httpx.Client) -> None:
    contact_id = _contact(api)
    found = api.get("/Contacts", params={"where": 'EmailAddress=="jane@example.com"'}).json()["Contacts"]
    assert [c["ContactID"] for c in found] == [contact_id]
    duplicate = api.put("/Contacts", json={"Contacts": [{"Name": "Jane Doe"}]})
    assert duplicate.status_code == 400
    assert duplicate.json()["Type"] == "ValidationException"
    assert "must be unique across all active contacts" in _message(duplicate)
    updated = api.post("/Contacts", json={"Contacts": [{"ContactID": contact_id, "FirstName": "Jane"}]})
    assert updated.json()["Contacts"][0]["FirstName"] == "Jane"


def test_invoice_totals_reference_and_account_id(xero: FakeXero, api: httpx.Client) -> None:
    contact_id = _contact(api)
    invoice = _invoice(api, contact_id, Reference="acuity-123", LineAmountTypes="Inclusive")
    assert (invoice["Total"], invoice["AmountDue"], invoice["AmountPaid"]) == (80.0, 80.0, 0.0)
    sales = next(a for a in xero.state(TENANT)["Accounts"] if a["Type"] == "SALES")
    line = {"Description": "x", "Quantity": 2, "UnitAmount": 10.0, "AccountID": sales["AccountID"]}
    body = {"Type": "ACCREC", "Contact": {"ContactID": contact_id}, "LineItems": [line], "LineAmountTypes": "NoTax"}
    draft = api.put("/Invoices", json={"Invoices": [body]}).json()["Invoices"][0]
    assert (draft["Status"], draft["Total"], draft["LineItems"][0]["AccountCode"]) == ("DRAFT", 20.0, "210")
    found = api.get("/Invoices", params={"where": 'Reference=="acuity-123"'}).json()["Invoices"]
    assert [i["InvoiceID"] for i in found] == [invoice["InvoiceID"]]


def test_invoice_transitions_over_http(api: httpx.Client) -> None:
    contact_id = _contact(api)
    draft = _invoice(api, contact_id, "DRAFT")
    url = f"/Invoices/{draft['InvoiceID']}"
    assert api.post(f"{url}/Email", json={}).status_code == 400
    approved = api.post(url, json={"Invoices": [{"Status": "AUTHORISED"}]})
    assert approved.json()["Invoices"][0]["Status"] == "AUTHORISED"
    assert api.post(f"{url}/Email", json={}).status_code == 204
    assert api.get(url).json()["Invoices"][0]["SentToContact"] is True
    assert api.post(url, json={"Invoices": [{"Status": "DELETED"}]}).status_code == 400
    assert api.post(url, json={"Invoices": [{"Status": "VOIDED"}]}).json()["Invoices"][0]["Status"] == "VOIDED"


def test_payments_and_paid_invoice_locked(xero: FakeXero, api: httpx.Client) -> None:
    contact_id = _contact(api)
    invoice = _invoice(api, contact_id)
    bank = next(a for a in xero.state(TENANT)["Accounts"] if a["Type"] == "BANK" and "Code" not in a)
    payment = {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Account": {"AccountID": bank["AccountID"]}}
    too_much = api.put("/Payments", json={"Payments": [{**payment, "Amount": 92.01, "Date": "2026-03-01"}]})
    assert "exceeds the amount outstanding" in _message(too_much)
    paid = api.put("/Payments", json={"Payments": [{**payment, "Amount": 92.0, "Date": "2026-03-01"}]})
    assert paid.status_code == 200, paid.text
    assert len(api.get("/Payments").json()["Payments"]) == 1
    after = api.get(f"/Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]
    assert (after["Status"], after["AmountDue"], after["AmountPaid"]) == ("PAID", 0.0, 92.0)
    edit = api.post(f"/Invoices/{invoice['InvoiceID']}", json={"Invoices": [{"Reference": "changed"}]})
    assert "not of valid status for modification" in _message(edit)


def test_credit_note_allocation_over_http(api: httpx.Client) -> None:
    contact_id = _contact(api)
    invoice = _invoice(api, contact_id)
    line = {"Description": "refund", "Quantity": 1, "UnitAmount": 10.0, "AccountCode": "200"}
    note = {"Type": "ACCRECCREDIT", "Status": "AUTHORISED", "Contact": {"ContactID": contact_id}, "LineItems": [line]}
    created = api.put("/CreditNotes", json={"CreditNotes": [note]})
    assert created.status_code == 200, created.text
    note_id = created.json()["CreditNotes"][0]["CreditNoteID"]
    allocation = {"Amount": 11.5, "Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Date": "2026-03-01"}
    allocated = api.put(f"/CreditNotes/{note_id}/Allocations", json={"Allocations": [allocation]})
    assert allocated.status_code == 200, allocated.text
    assert api.get(f"/Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]["AmountDue"] == 80.5


def test_idempotency_key(xero: FakeXero, api: httpx.Client) -> None:
    body = {"Contacts": [{"Name": "Once"}]}
    first = api.put("/Contacts", json=body, headers={"Idempotency-Key": "k-1"})
    again = api.put("/Contacts", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.json() == again.json()
    assert len(xero.state(TENANT)["Contacts"]) == 1
    other = api.put("/Contacts", json={"Contacts": [{"Name": "Other"}]}, headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 400
    assert "different request" in _message(other)
    xero.clock.advance(6 * 60 + 1)
    assert api.put("/Contacts", json=body, headers={"Idempotency-Key": "k-1"}).status_code == 400  # name taken


def test_rate_limit_429_and_planned_fault() -> None:
    with FakeXero(clock=FakeClock(frozen=True), per_minute=2) as xero:
        xero.add_organisation(TENANT)
        headers = {"Authorization": f"Bearer {xero.issue_tokens(TENANT).access_token}", "xero-tenant-id": TENANT}
        with httpx.Client(base_url=f"{xero.url}/api.xro/2.0", headers=headers, timeout=30) as api:
            assert api.get("/Organisation").headers["X-MinLimit-Remaining"] == "1"
            assert api.get("/Organisation").status_code == 200
            limited = api.get("/Organisation")
            assert limited.status_code == 429
            assert (limited.headers["X-Rate-Limit-Problem"], limited.headers["Retry-After"]) == ("minute", "60")
            xero.clock.advance(60)
            assert api.get("/Organisation").status_code == 200
            xero.plan_fault(TENANT, 503)
            assert api.get("/Organisation").status_code == 503
            assert len(xero.requests(TENANT)) == 5


def test_auth_tenant_token_refresh_and_connections(xero: FakeXero) -> None:
    tokens = xero.issue_tokens(TENANT)
    with httpx.Client(base_url=xero.url, timeout=30) as client:
        assert client.get("/api.xro/2.0/Organisation", headers={"xero-tenant-id": TENANT}).status_code == 401
        bearer = {"Authorization": f"Bearer {tokens.access_token}"}
        wrong = {**bearer, "xero-tenant-id": str(uuid.uuid4())}
        assert client.get("/api.xro/2.0/Organisation", headers=wrong).status_code == 403
        connections = client.get("/connections", headers=bearer).json()
        assert connections[0]["tenantId"] == TENANT
        form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
        first = client.post("/connect/token", data=form).json()
        assert first["expires_in"] == 1800
        assert client.post("/connect/token", data=form).json() == first  # within the grace: the same answer
        xero.clock.advance(1801)
        assert client.post("/connect/token", data=form).json() == {"error": "invalid_grant"}
        fresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        assert client.post("/connect/token", data=fresh).status_code == 200


def test_unknown_ids_are_404_and_connections_match_the_identity_spec(xero: FakeXero, api: httpx.Client) -> None:
    assert api.get(f"/Invoices/{uuid.uuid4()}").status_code == 404
    assert api.post(f"/Invoices/{uuid.uuid4()}/Email", json={}).status_code == 404
    assert spec.connections_errors(b'[{"id": "not-a-uuid"}]')
    with httpx.Client(base_url=xero.url, timeout=30) as client:
        bearer = {"Authorization": f"Bearer {xero.issue_tokens(TENANT).access_token}"}
        answer = client.get("/connections", headers=bearer)
    assert spec.connections_errors(answer.content) == []


def test_credit_notes_and_contacts_are_filtered_as_asked(api: httpx.Client) -> None:
    contact_id = _contact(api)
    _contact(api, "Someone Else", "someone@example.com")
    searched = api.get("/Contacts", params={"searchTerm": "JANE@example"}).json()["Contacts"]
    assert [c["ContactID"] for c in searched] == [contact_id]
    line = {"Description": "refund", "Quantity": 1, "UnitAmount": 10.0, "AccountCode": "200"}
    for reference in ("credit-1", "credit-2"):
        note = {
            "Type": "ACCRECCREDIT",
            "Contact": {"ContactID": contact_id},
            "LineItems": [line],
            "Reference": reference,
        }
        assert api.put("/CreditNotes", json={"CreditNotes": [note]}).status_code == 200
    found = api.get("/CreditNotes", params={"where": 'Reference=="credit-2"'}).json()["CreditNotes"]
    assert [n["Reference"] for n in found] == ["credit-2"]
