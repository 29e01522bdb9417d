"""The fake FreshBooks' rules over HTTP: drafts, PUT phases, e-mail, delete, payments, searches, tokens,
errors, faults."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.freshbooks import FakeFreshBooks

ACCOUNT = "ABC123"
OTHER = "XYZ999"


class Api:
    def __init__(self, server: FakeFreshBooks, account: str, token: str) -> None:
        self.http = httpx.Client(
            base_url=f"{server.url}/accounting/account/{account}", headers={"Authorization": f"Bearer {token}"}
        )

    def ok(self, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()["response"]["result"]
        return result

    def client(self, **fields: Any) -> dict[str, Any]:
        client: dict[str, Any] = self.ok(self.http.post("/users/clients", json={"client": fields}))["client"]
        return client

    def invoice(self, customerid: int, **fields: Any) -> dict[str, Any]:
        body = {
            "customerid": customerid,
            "create_date": "2026-07-20",
            "lines": [
                {"name": "Session", "description": "60 min", "qty": 2, "unit_cost": {"amount": "40.00", "code": "USD"}}
            ],
            **fields,
        }
        invoice: dict[str, Any] = self.ok(self.http.post("/invoices/invoices", json={"invoice": body}))["invoice"]
        return invoice

    def put(self, invoice_id: int, **fields: Any) -> httpx.Response:
        return self.http.put(f"/invoices/invoices/{invoice_id}", json={"invoice": fields})

    def pay(self, invoice_id: int, amount: str) -> httpx.Response:
        body = {
            "invoiceid": invoice_id,
            "amount": {"amount": amount, "code": "USD"},
            "date": "2026-07-21",
            "type": "Cash",
        }
        return self.http.post("/payments/payments", json={"payment": body})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(frozen=True)


@pytest.fixture
def server(clock: FakeClock) -> Iterator[FakeFreshBooks]:
    with FakeFreshBooks(clock=clock) as fb:
        fb.add_business(ACCOUNT, name="Studio")
        fb.add_business(OTHER, currency="CAD")
        yield fb


@pytest.fixture
def api(server: FakeFreshBooks) -> Api:
    return Api(server, ACCOUNT, server.issue_tokens(ACCOUNT).access_token)


def test_new_invoice_is_a_draft_with_totals(api: Api) -> None:
    customer = api.client(email="jane@example.com", fname="Jane", lname="Doe")
    invoice = api.invoice(customer["id"], po_number="acuity-123")
    assert (invoice["v3_status"], invoice["status"], invoice["vis_state"]) == ("draft", 1, 0)
    assert invoice["amount"] == {"amount": "80.00", "code": "USD"}
    assert invoice["outstanding"] == {"amount": "80.00", "code": "USD"}
    assert invoice["lines"][0]["unit_cost"] == {"amount": "40.00", "code": "USD"}
    assert customer["organization"] == "Jane Doe"


def test_organization_defaults_to_email_and_a_name_is_required(api: Api) -> None:
    assert api.client(email="only@example.com")["organization"] == "only@example.com"
    response = api.http.post("/users/clients", json={"client": {"note": "x"}})
    assert response.status_code == 422
    assert response.json()["response"]["errors"][0]["errno"] == 1001


def test_search_clients_by_exact_email_and_like_filters(api: Api) -> None:
    api.client(email="jane@example.com", fname="Jane")
    api.client(email="jane@example.com.au", fname="Janet")
    found = api.ok(api.http.get("/users/clients", params={"search[email]": "jane@example.com"}))
    assert [c["email"] for c in found["clients"]] == ["jane@example.com"]
    assert found["total"] == 1
    liked = api.ok(api.http.get("/users/clients", params={"search[fname_like]": "jan"}))
    assert liked["total"] == 2


def test_search_invoices_by_po_number(api: Api) -> None:
    customer = api.client(email="a@example.com")
    api.invoice(customer["id"], po_number="acuity-1")
    second = api.invoice(customer["id"], po_number="acuity-2")
    found = api.ok(api.http.get("/invoices/invoices", params={"search[po_number]": "acuity-2"}))
    assert [i["id"] for i in found["invoices"]] == [second["id"]]
    by_number = api.ok(api.http.get("/invoices/invoices", params={"search[invoice_number]": second["invoice_number"]}))
    assert by_number["total"] == 1


def test_put_updates_only_given_fields(api: Api) -> None:
    invoice = api.invoice(api.client(email="a@example.com")["id"], notes="first")
    updated = api.ok(api.put(invoice["id"], notes="second"))["invoice"]
    assert updated["notes"] == "second"
    assert updated["lines"] == invoice["lines"]


def test_action_email_sends_marks_sent_and_drops_data(server: FakeFreshBooks, api: Api) -> None:
    invoice = api.invoice(api.client(email="a@example.com")["id"], notes="keep")
    sent = api.ok(api.put(invoice["id"], action_email=True, email_recipients=["a@example.com"], notes="dropped"))
    assert (sent["invoice"]["v3_status"], sent["invoice"]["status"]) == ("sent", 2)
    assert sent["invoice"]["notes"] == "keep"
    assert server.state(ACCOUNT)["emails"] == [
        {"invoiceid": invoice["id"], "recipients": ["a@example.com"], "subject": None}
    ]


def test_mark_as_sent_without_email(server: FakeFreshBooks, api: Api) -> None:
    invoice = api.invoice(api.client(email="a@example.com")["id"])
    assert api.ok(api.put(invoice["id"], action_mark_as_sent=True))["invoice"]["v3_status"] == "sent"
    assert server.state(ACCOUNT)["emails"] == []


def test_vis_state_deletes_and_drops_data(api: Api) -> None:
    invoice = api.invoice(api.client(email="a@example.com")["id"], notes="keep")
    deleted = api.ok(api.put(invoice["id"], vis_state=1, notes="dropped"))["invoice"]
    assert (deleted["vis_state"], deleted["notes"]) == (1, "keep")
    later = api.put(invoice["id"], notes="again")
    assert later.status_code == 422
    assert later.json()["response"]["errors"][0]["errno"] == 1011
    active = api.ok(api.http.get("/invoices/invoices", params={"search[vis_state]": "0"}))
    assert active["total"] == 0


def test_payments_partial_then_paid(api: Api) -> None:
    invoice = api.invoice(api.client(email="a@example.com")["id"])
    payment = api.ok(api.pay(invoice["id"], "30.00"))["payment"]
    assert payment["amount"] == {"amount": "30.00", "code": "USD"}
    partial = api.ok(api.http.get(f"/invoices/invoices/{invoice['id']}"))["invoice"]
    assert (partial["v3_status"], partial["status"], partial["outstanding"]["amount"]) == ("partial", 8, "50.00")
    api.ok(api.pay(invoice["id"], "50.00"))
    paid = api.ok(api.http.get(f"/invoices/invoices/{invoice['id']}"))["invoice"]
    assert (paid["v3_status"], paid["status"], paid["outstanding"]["amount"]) == ("paid", 4, "0.00")
    listed = api.ok(api.http.get("/payments/payments", params={"search[invoiceid]": str(invoice["id"])}))
    assert listed["total"] == 2


def test_payment_on_unknown_invoice_is_404(api: Api) -> None:
    response = api.pay(999999, "1.00")
    assert response.status_code == 404
    assert response.json()["response"]["errors"][0]["errno"] == 1012


def test_credit_note(api: Api) -> None:
    customer = api.client(email="a@example.com")
    body = {
        "clientid": customer["id"],
        "create_date": "2026-07-22",
        "lines": [{"name": "Refund", "qty": 1, "unit_cost": {"amount": "10.00"}}],
    }
    note = api.ok(api.http.post("/credit_notes/credit_notes", json={"credit_note": body}))["credit_note"]
    assert note["amount"] == {"amount": "10.00", "code": "USD"}


def test_invoice_requires_customer_and_date(api: Api) -> None:
    response = api.http.post("/invoices/invoices", json={"invoice": {"create_date": "2026-07-20"}})
    assert response.status_code == 422
    assert response.json()["response"]["errors"][0]["field"] == "customerid"


def test_unknown_records_are_404(api: Api) -> None:
    response = api.http.get("/users/clients/12345")
    assert response.status_code == 404
    assert response.json()["response"]["errors"][0] == {
        "errno": 1012, "field": "userid", "message": "Client not found.", "object": "client", "value": "12345",
    }  # fmt: skip


def test_access_token_expires_after_12_hours(server: FakeFreshBooks, clock: FakeClock, api: Api) -> None:
    clock.advance(12 * 3600 - 1)
    assert api.http.get("/users/clients").status_code == 200
    clock.advance(1)
    response = api.http.get("/users/clients")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"


def test_token_of_another_business_is_refused(server: FakeFreshBooks) -> None:
    other = Api(server, ACCOUNT, server.issue_tokens(OTHER).access_token)
    assert other.http.get("/users/clients").status_code == 401


def test_refresh_is_single_use_without_grace(server: FakeFreshBooks) -> None:
    tokens = server.issue_tokens(ACCOUNT)
    body = {
        "grant_type": "refresh_token",
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "refresh_token": tokens.refresh_token,
        "redirect_uri": "https://localhost/callback",
    }
    first = httpx.post(f"{server.url}/auth/oauth/token", json=body)
    assert first.status_code == 200
    assert first.json()["expires_in"] == 12 * 3600
    again = httpx.post(f"{server.url}/auth/oauth/token", json=body)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    body["refresh_token"] = first.json()["refresh_token"]
    assert httpx.post(f"{server.url}/auth/oauth/token", json=body).status_code == 200


def test_token_endpoint_checks_the_client(server: FakeFreshBooks) -> None:
    tokens = server.issue_tokens(ACCOUNT)
    body = {
        "grant_type": "refresh_token",
        "client_id": "x",
        "client_secret": "y",
        "refresh_token": tokens.refresh_token,
    }
    assert httpx.post(f"{server.url}/auth/oauth/token", json=body).status_code == 401


def test_planned_fault_then_recovery(server: FakeFreshBooks, api: Api) -> None:
    server.plan_fault(ACCOUNT, 503, path_contains="/invoices/")
    assert api.http.get("/users/clients").status_code == 200
    assert api.http.get("/invoices/invoices").status_code == 503
    assert api.http.get("/invoices/invoices").status_code == 200
    assert [entry["status"] for entry in server.requests(ACCOUNT)] == [200, 503, 200]


def test_pagination(api: Api) -> None:
    for n in range(3):
        api.client(email=f"c{n}@example.com")
    page = api.ok(api.http.get("/users/clients", params={"per_page": "2", "page": "2"}))
    assert (page["page"], page["pages"], page["per_page"], page["total"], len(page["clients"])) == (2, 2, 2, 3, 1)


def test_deleting_a_payment_reopens_the_invoice(api: Api) -> None:
    invoice = api.invoice(api.client(email="a@example.com")["id"])
    api.ok(api.put(invoice["id"], action_mark_as_sent=True))
    payment = api.ok(api.pay(invoice["id"], "80.00"))["payment"]
    api.ok(api.http.put(f"/payments/payments/{payment['id']}", json={"payment": {"vis_state": 1}}))
    reopened = api.ok(api.http.get(f"/invoices/invoices/{invoice['id']}"))["invoice"]
    assert (reopened["v3_status"], reopened["outstanding"]["amount"]) == ("sent", "80.00")


def test_deleted_invoices_are_listed_only_on_request(api: Api) -> None:
    invoice = api.invoice(api.client(email="a@example.com")["id"], po_number="acuity-9")
    api.ok(api.put(invoice["id"], vis_state=1))
    assert api.ok(api.http.get("/invoices/invoices", params={"search[po_number]": "acuity-9"}))["total"] == 0
    both = {"search[po_number]": "acuity-9", "search[vis_state]": "1"}
    assert api.ok(api.http.get("/invoices/invoices", params=both))["total"] == 1


def test_authorization_code_is_single_use_and_bound_to_the_redirect(server: FakeFreshBooks) -> None:
    redirect = "https://localhost/callback"
    body = {"grant_type": "authorization_code", "client_id": server.client_id, "client_secret": server.client_secret}
    code = server.authorize(ACCOUNT, redirect)
    wrong = httpx.post(f"{server.url}/auth/oauth/token", json={**body, "code": code, "redirect_uri": "https://x/"})
    assert wrong.status_code == 400
    code = server.authorize(ACCOUNT, redirect)
    first = httpx.post(f"{server.url}/auth/oauth/token", json={**body, "code": code, "redirect_uri": redirect})
    assert first.status_code == 200
    me = httpx.get(
        f"{server.url}/auth/api/v1/users/me", headers={"Authorization": f"Bearer {first.json()['access_token']}"}
    )
    assert me.json()["response"]["business_memberships"][0]["business"]["account_id"] == ACCOUNT
    again = httpx.post(f"{server.url}/auth/oauth/token", json={**body, "code": code, "redirect_uri": redirect})
    assert again.json()["error"] == "invalid_grant"


def test_line_taxes_are_percentages_added_on_top_of_the_lines(api: Api) -> None:
    """taxAmount1/taxAmount2 are percentages (freshbooks.com/api/credits: "first tax amount in percentage"); the line's
    amount stays qty x unit_cost and the invoice's amount adds each line's tax, rounded half-up to the cent."""
    customer = api.client(email="a@example.com")
    lines = [
        {"name": "Session", "qty": 1, "unit_cost": {"amount": "8.86"}, "taxName1": "HST", "taxAmount1": "13"},
        {"name": "Kit", "qty": 1, "unit_cost": {"amount": "10.00"}, "taxName1": "GST", "taxAmount1": "5",
         "taxName2": "PST", "taxAmount2": "7.5"},
        {"name": "Tip", "qty": 1, "unit_cost": {"amount": "2.00"}},
    ]  # fmt: skip
    invoice = api.invoice(customer["id"], lines=lines)
    assert [line["amount"]["amount"] for line in invoice["lines"]] == ["8.86", "10.00", "2.00"]
    assert [(line["taxName1"], line["taxAmount1"]) for line in invoice["lines"]] == [
        ("HST", "13"),
        ("GST", "5"),
        (None, None),
    ]
    # 8.86 + 1.15 (1.1518) + 10.00 + 0.50 + 0.75 + 2.00
    assert invoice["amount"]["amount"] == invoice["outstanding"]["amount"] == "23.26"
    bad = api.http.post(
        "/invoices/invoices",
        json={"invoice": {"customerid": customer["id"], "create_date": "2026-07-20", "lines": [
            {"name": "x", "qty": 1, "unit_cost": {"amount": "1.00"}, "taxAmount1": "13.1234"}]}},
    )  # fmt: skip
    assert (bad.status_code, bad.json()["response"]["errors"][0]["field"]) == (422, "taxAmount1")
