"""The fake FreshBooks answers in the shapes of the real API's bodies in ../shared/reference/freshbooks/fixtures/:
the same keys at every level of the envelopes (users/me, clients, errors, tokens), the same value types."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.freshbooks import FakeFreshBooks
from acuity_sync_toolkit.paths import REFERENCE

FIXTURES = REFERENCE / "freshbooks" / "fixtures"
ACCOUNT = "ABC123"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def same_shape(real: Any, fake: Any, where: str = "$") -> None:
    """Every key of `real` is in `fake` with a value of a compatible type (None matches anything), recursively;
    lists are compared by their first items."""
    if real is None or fake is None:
        return
    if isinstance(real, dict):
        assert isinstance(fake, dict), f"{where}: expected an object, got {fake!r}"
        missing = sorted(set(real) - set(fake))
        assert not missing, f"{where}: missing keys {missing}"
        for key, value in real.items():
            same_shape(value, fake[key], f"{where}.{key}")
    elif isinstance(real, list):
        assert isinstance(fake, list), f"{where}: expected a list, got {fake!r}"
        if real and fake:
            same_shape(real[0], fake[0], f"{where}[0]")
    elif isinstance(real, bool):
        assert isinstance(fake, bool), f"{where}: expected a boolean, got {fake!r}"
    elif isinstance(real, int | float):
        assert isinstance(fake, int | float), f"{where}: expected a number, got {fake!r}"
        assert not isinstance(fake, bool), f"{where}: expected a number, got {fake!r}"
    else:
        assert isinstance(fake, type(real)), f"{where}: expected {type(real).__name__}, got {fake!r}"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeFreshBooks]:
    with FakeFreshBooks(clock=FakeClock(frozen=True)) as fb:
        fb.add_business(ACCOUNT, currency="CAD", name="Commonwealth of Independent Systems")
        yield fb


@pytest.fixture(scope="module")
def http(server: FakeFreshBooks) -> Iterator[httpx.Client]:
    token = server.issue_tokens(ACCOUNT).access_token
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def test_the_reference_fixtures_are_checked_out() -> None:
    # CI always has ../shared beside the project: without it this contract cannot be checked, which is a failure.
    assert FIXTURES.is_dir(), f"{FIXTURES} is missing: check out ../shared/reference beside the project"
    assert sorted(path.name for path in FIXTURES.glob("*.json")), f"{FIXTURES} holds no fixtures"


def test_users_me(http: httpx.Client) -> None:
    response = http.get("/auth/api/v1/users/me")
    assert response.status_code == 200
    real = fixture("auth_me_response.json")
    real["response"]["business_memberships"][0]["business"]["address"] = None  # the fake has no address
    real["response"]["business_memberships"][0]["business"]["phone_number"] = None
    for keyed_by_account in ("permissions", "subscription_statuses"):  # keys are the fixture's account ids
        real["response"][keyed_by_account] = {}
    same_shape(real, response.json())
    business = response.json()["response"]["business_memberships"][0]["business"]
    assert business["account_id"] == ACCOUNT


def test_users_me_without_auth(server: FakeFreshBooks) -> None:
    response = httpx.get(f"{server.url}/auth/api/v1/users/me")
    assert response.status_code == 401
    assert response.json() == fixture("auth_me_response__no_auth.json")


def test_an_accounting_call_with_an_expired_token_is_401_and_logged(server: FakeFreshBooks) -> None:
    before = len(server.requests(ACCOUNT))
    stale = {"Authorization": "Bearer no-longer-valid"}
    response = httpx.get(f"{server.url}/accounting/account/{ACCOUNT}/users/clients", headers=stale, timeout=30)
    assert response.status_code == 401
    assert [entry["status"] for entry in server.requests(ACCOUNT)[before:]] == [401]


def test_create_client(http: httpx.Client) -> None:
    response = http.post(
        f"/accounting/account/{ACCOUNT}/users/clients", json={"client": {"email": "john.doe@abcorp.com"}}
    )
    assert response.status_code == 200
    body = response.json()
    same_shape(fixture("create_client_response.json"), body)
    assert body["response"]["result"]["client"]["organization"] == "john.doe@abcorp.com"
    assert body["response"]["result"]["client"]["currency_code"] == "CAD"


def test_get_and_list_clients(http: httpx.Client) -> None:
    created = http.post(
        f"/accounting/account/{ACCOUNT}/users/clients", json={"client": {"fname": "Gordon", "lname": "Shumway"}}
    )
    client_id = created.json()["response"]["result"]["client"]["id"]
    real = fixture("get_client_response.json")
    for key in ("grand_total_balance", "outstanding_balance", "test_amount"):  # only with include[]=...
        del real["response"]["result"]["client"][key]
    same_shape(real, http.get(f"/accounting/account/{ACCOUNT}/users/clients/{client_id}").json())
    listed = http.get(f"/accounting/account/{ACCOUNT}/users/clients").json()
    same_shape(fixture("list_clients_response.json"), listed)
    assert set(listed["response"]["result"]) == set(fixture("list_clients_response.json")["response"]["result"])


def test_client_not_found(http: httpx.Client) -> None:
    response = http.get(f"/accounting/account/{ACCOUNT}/users/clients/12345")
    assert response.status_code == 404
    assert response.json() == fixture("get_client_response__not_found.json")


def test_validation_error_has_the_error_entry_shape(http: httpx.Client) -> None:
    response = http.post(f"/accounting/account/{ACCOUNT}/invoices/invoices", json={"invoice": {"customerid": 1}})
    assert response.status_code == 422
    same_shape(fixture("get_client_response__not_found.json"), response.json())


def test_token_response(server: FakeFreshBooks) -> None:
    tokens = server.issue_tokens(ACCOUNT)
    body = {
        "grant_type": "refresh_token",
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "refresh_token": tokens.refresh_token,
        "redirect_uri": "https://localhost/callback",
    }
    response = httpx.post(f"{server.url}/auth/oauth/token", json=body)
    assert response.status_code == 200
    same_shape(fixture("auth_token_response.json"), response.json())
    assert set(response.json()) == set(fixture("auth_token_response.json"))
    assert response.json()["token_type"] == "Bearer"
    again = httpx.post(f"{server.url}/auth/oauth/token", json=body)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_invoice_and_payment_envelopes(http: httpx.Client) -> None:
    created = http.post(f"/accounting/account/{ACCOUNT}/users/clients", json={"client": {"email": "p@example.com"}})
    customer = created.json()["response"]["result"]["client"]["id"]
    line = {
        "name": "Session",
        "description": "Acuity appt #1",
        "qty": 1,
        "unit_cost": {"amount": "80.00", "code": "CAD"},
    }
    invoice = http.post(
        f"/accounting/account/{ACCOUNT}/invoices/invoices",
        json={
            "invoice": {"customerid": customer, "create_date": "2026-07-20", "po_number": "acuity-1", "lines": [line]}
        },
    ).json()["response"]["result"]["invoice"]
    assert invoice["currency_code"] == "CAD"
    listed = http.get(f"/accounting/account/{ACCOUNT}/invoices/invoices", params={"search[po_number]": "acuity-1"})
    assert set(listed.json()["response"]["result"]) == {"invoices", "page", "pages", "per_page", "total"}
    payment = http.post(
        f"/accounting/account/{ACCOUNT}/payments/payments",
        json={
            "payment": {"invoiceid": invoice["id"], "amount": {"amount": "80.00"}, "date": "2026-07-21", "type": "Cash"}
        },
    ).json()["response"]["result"]["payment"]
    assert {"id", "logid", "clientid", "invoiceid", "amount", "date", "type", "vis_state", "overpaymentid"} <= set(
        payment
    )
    assert payment["amount"] == {"amount": "80.00", "code": "CAD"}
