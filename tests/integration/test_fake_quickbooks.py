"""The fake QuickBooks' rules over HTTP: SyncToken, void, requestid, e-mail, payments, names, queries, limits, tokens,
faults."""

from __future__ import annotations

import base64
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.quickbooks import FakeQuickBooks

REALM = "4620816365"
OTHER = "4620816366"


class Api:
    """A client of one company's API with the company's access token."""

    def __init__(self, server: FakeQuickBooks, realm: str, token: str) -> None:
        self.server, self.realm = server, realm
        self.http = httpx.Client(
            base_url=f"{server.url}/v3/company/{realm}", headers={"Authorization": f"Bearer {token}"}
        )

    def post(self, path: str, body: Any = None, **params: str) -> httpx.Response:
        return self.http.post(path, json=body, params=params)

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.http.get(path, params=params)

    def ok(self, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def query(self, text: str) -> dict[str, Any]:
        return self.ok(self.get("/query", query=text))["QueryResponse"]  # type: ignore[no-any-return]

    def customer(self, name: str, **fields: Any) -> dict[str, Any]:
        return self.ok(self.post("/customer", {"DisplayName": name, **fields}))["Customer"]  # type: ignore[no-any-return]

    def invoice(self, customer_id: str, amount: str = "100.00", **fields: Any) -> dict[str, Any]:
        line = {
            "Amount": amount,
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
        }
        body = {"CustomerRef": {"value": customer_id}, "Line": [line], **fields}
        return self.ok(self.post("/invoice", body))["Invoice"]  # type: ignore[no-any-return]

    def payment(self, customer_id: str, invoice_id: str, amount: str, **fields: Any) -> httpx.Response:
        line = {"Amount": amount, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}
        return self.post(
            "/payment", {"TotalAmt": amount, "CustomerRef": {"value": customer_id}, "Line": [line], **fields}
        )


def fault(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["Fault"]["Error"][0]
    return error


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(frozen=True)


@pytest.fixture
def server(clock: FakeClock) -> Iterator[FakeQuickBooks]:
    with FakeQuickBooks(clock=clock, per_second=10_000, per_minute=10_000, max_concurrent=100) as qbo:
        qbo.add_company(REALM)
        yield qbo


@pytest.fixture
def api(server: FakeQuickBooks) -> Api:
    return Api(server, REALM, server.issue_tokens(REALM).access_token)


# ----------------------------------------------------------------------------------------------- SyncToken


def test_a_stale_sync_token_is_5010_and_changes_nothing(api: Api) -> None:
    customer = api.customer("Jane Doe")
    invoice = api.invoice(customer["Id"])
    updated = api.ok(api.post("/invoice", {"Id": invoice["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "x"}))
    assert updated["Invoice"]["SyncToken"] == "1"
    stale = fault(api.post("/invoice", {"Id": invoice["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "y"}))
    assert (stale["code"], stale["Message"], stale["element"]) == ("5010", "Stale Object Error", "")
    assert api.ok(api.get(f"/invoice/{invoice['Id']}"))["Invoice"]["PrivateNote"] == "x"


def test_sparse_update_keeps_what_is_not_sent_and_full_update_drops_it(api: Api) -> None:
    customer = api.customer("Jane Doe")
    invoice = api.invoice(customer["Id"], PrivateNote="note", CustomerMemo={"value": "Thanks"}, DocNumber="ACU-1")
    sparse = api.ok(
        api.post("/invoice", {"Id": invoice["Id"], "SyncToken": "0", "sparse": True, "TxnDate": "2026-03-02"})
    )
    assert sparse["Invoice"]["PrivateNote"] == "note"
    assert sparse["Invoice"]["TotalAmt"] == 100
    assert sparse["Invoice"]["Line"][0]["Id"] == invoice["Line"][0]["Id"]
    lines = [{"Amount": 70, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"Qty": 2, "UnitPrice": 35}}]
    full = api.ok(
        api.post(
            "/invoice", {"Id": invoice["Id"], "SyncToken": "1", "CustomerRef": {"value": customer["Id"]}, "Line": lines}
        )
    )
    document = full["Invoice"]
    assert "PrivateNote" not in document
    assert "CustomerMemo" not in document
    assert (document["TotalAmt"], document["Balance"], document["DocNumber"], document["SyncToken"]) == (
        70,
        70,
        "ACU-1",
        "2",
    )


# ----------------------------------------------------------------------------------------------- void and delete


def test_void_zeroes_amounts_and_prefixes_the_note(api: Api, server: FakeQuickBooks) -> None:
    customer = api.customer("Jane Doe")
    invoice = api.invoice(customer["Id"], amount="150.00", PrivateNote="acuity:appointment=1")
    voided = api.ok(api.post("/invoice", {"Id": invoice["Id"], "SyncToken": "0"}, operation="void"))["Invoice"]
    assert voided["PrivateNote"] == "Voided - acuity:appointment=1"
    assert (voided["TotalAmt"], voided["Balance"], voided["SyncToken"]) == (0, 0, "1")
    assert all(line["Amount"] == 0 for line in voided["Line"])
    assert server.state(REALM)["Customer"][0]["Balance"] == 0


def test_an_invoice_with_a_payment_cannot_be_voided_or_deleted(api: Api) -> None:
    customer = api.customer("Jane Doe")
    invoice = api.invoice(customer["Id"])
    api.ok(api.payment(customer["Id"], invoice["Id"], "100.00"))
    token = api.ok(api.get(f"/invoice/{invoice['Id']}"))["Invoice"]["SyncToken"]
    assert fault(api.post("/invoice", {"Id": invoice["Id"], "SyncToken": token}, operation="void"))["code"] == "6000"
    assert fault(api.post("/invoice", {"Id": invoice["Id"], "SyncToken": token}, operation="delete"))["code"] == "6000"
    assert api.ok(api.get(f"/invoice/{invoice['Id']}"))["Invoice"]["SyncToken"] == token


def test_deleting_twice_is_610(api: Api) -> None:
    invoice = api.invoice(api.customer("Jane Doe")["Id"])
    deleted = api.ok(api.post("/invoice", {"Id": invoice["Id"], "SyncToken": "0"}, operation="delete"))
    assert deleted["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": invoice["Id"]}
    assert fault(api.post("/invoice", {"Id": invoice["Id"], "SyncToken": "0"}, operation="delete"))["code"] == "610"


# ----------------------------------------------------------------------------------------------- requestid


def test_a_replayed_requestid_returns_the_first_answer_and_writes_nothing(api: Api, server: FakeQuickBooks) -> None:
    customer = api.customer("Jane Doe")
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": [{"Amount": 10, "DetailType": "SalesItemLineDetail"}]}
    first = api.post("/invoice", body, requestid="appt-1-create")
    again = api.post("/invoice", body, requestid="appt-1-create")
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert len(server.state(REALM)["Invoice"]) == 1
    other = api.post("/invoice", body, requestid="appt-2-create")
    assert other.json()["Invoice"]["Id"] != first.json()["Invoice"]["Id"]
    assert [entry["replayed"] for entry in server.requests(REALM) if entry["requestid"] == "appt-1-create"] == [
        False,
        True,
    ]


def test_a_failed_write_is_not_remembered_under_its_requestid(api: Api) -> None:
    customer = api.customer("Jane Doe")
    assert fault(api.post("/invoice", {"CustomerRef": {"value": customer["Id"]}}, requestid="r1"))["code"] == "2020"
    line = {"Amount": 10, "DetailType": "SalesItemLineDetail"}
    retried = api.post("/invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line]}, requestid="r1")
    assert retried.status_code == 200


# ----------------------------------------------------------------------------------------------- e-mail


def test_email_status_and_send(api: Api, server: FakeQuickBooks) -> None:
    customer = api.customer("Jane Doe")
    line = {"Amount": 5, "DetailType": "SalesItemLineDetail"}
    unaddressed = {"CustomerRef": {"value": customer["Id"]}, "EmailStatus": "NeedToSend", "Line": [line]}
    assert fault(api.post("/invoice", unaddressed))["code"] == "2020"
    invoice = api.invoice(customer["Id"], EmailStatus="NeedToSend", BillEmail={"Address": "jane@example.com"})
    assert invoice["EmailStatus"] == "NeedToSend"
    sent = api.ok(api.post(f"/invoice/{invoice['Id']}/send"))["Invoice"]
    assert (sent["EmailStatus"], sent["DeliveryInfo"]["DeliveryType"], sent["SyncToken"]) == ("EmailSent", "Email", "1")
    resent = api.ok(api.post(f"/invoice/{invoice['Id']}/send", sendTo="other@example.com"))["Invoice"]
    assert resent["BillEmail"] == {"Address": "other@example.com"}
    no_address = api.invoice(customer["Id"])
    assert fault(api.post(f"/invoice/{no_address['Id']}/send"))["code"] == "2020"
    assert server.emails_sent(REALM) == 2


# ----------------------------------------------------------------------------------------------- payments


def test_a_payment_lowers_the_balance_and_is_linked_both_ways(api: Api, server: FakeQuickBooks) -> None:
    customer = api.customer("Jane Doe")
    invoice = api.invoice(customer["Id"])
    payment = api.ok(api.payment(customer["Id"], invoice["Id"], "40.00", PaymentRefNum="ch_1", PrivateNote="stripe"))
    paid = payment["Payment"]
    assert (paid["PaymentRefNum"], paid["PrivateNote"], paid["UnappliedAmt"]) == ("ch_1", "stripe", 0)
    read = api.ok(api.get(f"/invoice/{invoice['Id']}"))["Invoice"]
    assert read["Balance"] == 60
    assert read["LinkedTxn"] == [{"TxnId": paid["Id"], "TxnType": "Payment"}]
    assert api.ok(api.get(f"/payment/{paid['Id']}"))["Payment"]["Line"][0]["LinkedTxn"][0]["TxnId"] == invoice["Id"]
    assert server.state(REALM)["Customer"][0]["Balance"] == 60
    assert fault(api.payment(customer["Id"], invoice["Id"], "61.00"))["code"] == "6000"  # more than is owed
    api.ok(api.post("/payment", {"Id": paid["Id"], "SyncToken": "0"}, operation="delete"))
    after = api.ok(api.get(f"/invoice/{invoice['Id']}"))["Invoice"]
    assert (after["Balance"], after["LinkedTxn"]) == (100, [])


def test_a_payment_for_another_customers_invoice_is_620(api: Api, server: FakeQuickBooks) -> None:
    jane, john = api.customer("Jane Doe"), api.customer("John Doe")
    invoice = api.invoice(jane["Id"])
    assert fault(api.payment(john["Id"], invoice["Id"], "10.00"))["code"] == "620"
    assert server.state(REALM)["Payment"] == []


def test_credit_memo(api: Api) -> None:
    customer = api.customer("Jane Doe")
    line = {"Amount": "25.00", "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}
    memo = api.ok(
        api.post("/creditmemo", {"CustomerRef": {"value": customer["Id"]}, "Line": [line], "PrivateNote": "refund"})
    )
    created = memo["CreditMemo"]
    assert (created["TotalAmt"], created["RemainingCredit"], created["PrivateNote"]) == (25, 25, "refund")
    assert (
        api.ok(api.get(f"/creditmemo/{created['Id']}"))["CreditMemo"]["Line"][-1]["DetailType"] == "SubTotalLineDetail"
    )


# ----------------------------------------------------------------------------------------------- names and invoices


def test_display_names_are_unique_ignoring_case_even_when_inactive(api: Api) -> None:
    jane = api.customer("Jane Doe")
    api.ok(api.post("/customer", {"Id": jane["Id"], "SyncToken": "0", "sparse": True, "Active": False}))
    assert fault(api.post("/customer", {"DisplayName": "jane doe"}))["code"] == "6240"
    john = api.customer("John Doe")
    renamed = api.post("/customer", {"Id": john["Id"], "SyncToken": "0", "sparse": True, "DisplayName": "JANE DOE"})
    assert fault(renamed) == {
        "Message": "Duplicate Name Exists Error",
        "Detail": "The name supplied already exists. : null",
        "code": "6240",
    }


def test_doc_numbers_amounts_and_tax_codes(server: FakeQuickBooks, api: Api) -> None:
    customer = api.customer("Jane Doe")
    assert [api.invoice(customer["Id"])["DocNumber"] for _ in range(2)] == ["1001", "1002"]
    api.invoice(customer["Id"], DocNumber="ACU-7")
    body = {
        "CustomerRef": {"value": customer["Id"]},
        "DocNumber": "ACU-7",
        "Line": [{"Amount": 1, "DetailType": "SalesItemLineDetail"}],
    }
    assert fault(api.post("/invoice", body))["code"] == "6140"
    assert api.post("/invoice", body, include="allowduplicatedocnum").status_code == 200
    assert fault(api.post("/invoice", body | {"DocNumber": "X" * 22}))["code"] == "2050"
    mismatch = [{"Amount": 99, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"Qty": 2, "UnitPrice": 50}}]
    assert fault(api.post("/invoice", body | {"DocNumber": "ACU-8", "Line": mismatch}))["code"] == "6070"
    server.add_company(OTHER, country="GB", currency="GBP", automated_sales_tax=False)
    uk = Api(server, OTHER, server.issue_tokens(OTHER).access_token)
    uk_customer = uk.customer("Jane Doe")
    uk_body = {
        "CustomerRef": {"value": uk_customer["Id"]},
        "Line": [{"Amount": 10, "DetailType": "SalesItemLineDetail"}],
    }
    assert fault(uk.post("/invoice", uk_body | {"GlobalTaxCalculation": "TaxExcluded"}))["code"] == "6000"
    assert (
        uk.ok(uk.post("/invoice", uk_body | {"GlobalTaxCalculation": "NotApplicable"}))["Invoice"]["CurrencyRef"][
            "value"
        ]
        == "GBP"
    )
    assert "PartnerTaxEnabled" not in uk.ok(uk.get("/preferences"))["Preferences"]["TaxPrefs"]


def test_company_info_and_preferences(api: Api) -> None:
    info = api.ok(api.get(f"/companyinfo/{REALM}"))["CompanyInfo"]
    assert info["Country"] == "US"
    assert info["CompanyName"]
    preferences = api.ok(api.get("/preferences"))["Preferences"]
    assert preferences["CurrencyPrefs"]["HomeCurrency"] == {"value": "USD"}
    assert preferences["TaxPrefs"]["PartnerTaxEnabled"] is True
    assert api.ok(api.get("/item/1"))["Item"]["Name"] == "Services"


# ----------------------------------------------------------------------------------------------- queries


def test_queries_escape_quotes_filter_and_page(api: Api) -> None:
    amy = api.customer("Amy's Bird Sanctuary", PrimaryEmailAddr={"Address": "birds@example.com"})
    for name in ("Bob", "Carla", "Dan"):
        api.customer(name)
    assert [
        c["Id"] for c in api.query(r"SELECT * FROM Customer WHERE DisplayName = 'Amy\'s Bird Sanctuary'")["Customer"]
    ] == [amy["Id"]]
    assert (
        fault(api.get("/query", query="SELECT * FROM Customer WHERE DisplayName = 'Amy''s Bird Sanctuary'"))["code"]
        == "4000"
    )
    assert (
        api.query("select * from customer where PrimaryEmailAddr = 'BIRDS@example.com'")["Customer"][0]["Id"]
        == amy["Id"]
    )
    assert api.query("SELECT COUNT(*) FROM Customer")["totalCount"] == 4
    page = api.query("SELECT * FROM Customer WHERE DisplayName IN ('Bob', 'Carla', 'Dan') STARTPOSITION 2 MAXRESULTS 1")
    assert ([c["DisplayName"] for c in page["Customer"]], page["startPosition"], page["maxResults"]) == (
        ["Carla"],
        2,
        1,
    )
    assert [
        c["DisplayName"] for c in api.query("SELECT * FROM Customer WHERE DisplayName LIKE '%ARL%'")["Customer"]
    ] == ["Carla"]
    assert api.query("SELECT * FROM Customer WHERE DisplayName = 'Nobody'") == {}
    assert fault(api.get("/query", query="SELECT * FROM Customer WHERE Id = '1' OR Id = '2'"))["code"] == "4000"
    assert fault(api.get("/query", query="SELECT * FROM Customers"))["code"] == "4001"
    invoice = api.invoice(amy["Id"], DocNumber="ACU-42")
    assert api.query("SELECT * FROM Invoice WHERE DocNumber = 'ACU-42'")["Invoice"][0]["Id"] == invoice["Id"]
    posted = api.http.post("/query", content=b"SELECT * FROM Invoice WHERE CustomerRef = '" + amy["Id"].encode() + b"'",
                           headers={"Content-Type": "application/text"})  # fmt: skip
    assert api.ok(posted)["QueryResponse"]["Invoice"][0]["Id"] == invoice["Id"]


def test_inactive_customers_are_left_out_unless_asked_for(api: Api) -> None:
    gone = api.customer("Gone")
    api.ok(api.post("/customer", {"Id": gone["Id"], "SyncToken": "0", "sparse": True, "Active": False}))
    assert api.query("SELECT * FROM Customer WHERE DisplayName = 'Gone'") == {}
    found = api.query("SELECT * FROM Customer WHERE DisplayName = 'Gone' AND Active IN (true, false)")
    assert found["Customer"][0]["Active"] is False


# ----------------------------------------------------------------------------------------------- limits


def test_ten_a_second_then_429_until_the_clock_moves(clock: FakeClock) -> None:
    with FakeQuickBooks(clock=clock) as server:
        server.add_company(REALM)
        api = Api(server, REALM, server.issue_tokens(REALM).access_token)
        assert [api.get("/item/1").status_code for _ in range(10)] == [200] * 10
        throttled = api.get("/item/1")
        assert fault(throttled, 429) == {
            "Message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
            "Detail": "The request limit was reached.  Try again later",
            "code": "3001",
        }
        assert throttled.json()["Fault"]["type"] == "SERVICE"
        clock.advance(1.0)
        assert api.get("/item/1").status_code == 200


def test_five_hundred_a_minute(clock: FakeClock) -> None:
    with FakeQuickBooks(clock=clock, per_minute=5, per_second=100) as server:
        server.add_company(REALM)
        api = Api(server, REALM, server.issue_tokens(REALM).access_token)
        assert [api.get("/item/1").status_code for _ in range(6)] == [200] * 5 + [429]
        clock.advance(59.0)
        assert api.get("/item/1").status_code == 429
        clock.advance(1.0)
        assert api.get("/item/1").status_code == 200


def test_concurrent_requests_beyond_the_limit_are_429(clock: FakeClock) -> None:
    with FakeQuickBooks(clock=clock, per_second=100, max_concurrent=2) as server:
        server.add_company(REALM)
        token = server.issue_tokens(REALM).access_token
        server.plan_fault(REALM, count=2, hang_seconds=0.5)
        statuses: list[int] = []
        threads = [
            threading.Thread(target=lambda: statuses.append(Api(server, REALM, token).get("/item/1").status_code))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 5
        while server.in_flight(REALM) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert Api(server, REALM, token).get("/item/1").status_code == 429
        for thread in threads:
            thread.join()
        assert statuses == [200, 200]


def test_a_throttle_can_answer_in_xml(clock: FakeClock) -> None:
    with FakeQuickBooks(clock=clock, per_second=1, throttle_format="xml") as server:
        server.add_company(REALM)
        api = Api(server, REALM, server.issue_tokens(REALM).access_token)
        api.get("/item/1")
        response = api.get("/item/1")
        assert response.status_code == 429
        assert response.headers["Content-Type"] == "application/xml"
        error = ET.fromstring(response.content).find(  # noqa: S314 - the fake's own answer
            "{http://schema.intuit.com/finance/v3}Fault/{http://schema.intuit.com/finance/v3}Error"
        )
        assert error is not None
        assert error.get("code") == "3001"


# ----------------------------------------------------------------------------------------------- tokens


def test_an_access_token_lives_an_hour(api: Api, clock: FakeClock) -> None:
    assert api.get("/item/1").status_code == 200
    clock.advance(3601)
    expired = api.get("/item/1")
    assert expired.status_code == 401
    assert expired.headers["WWW-Authenticate"] == 'Bearer realm="Intuit", error="invalid_token"'
    assert expired.json()["fault"]["error"][0]["code"] == "3200"


CLIENT_SECRET = "local-secret"  # the fake's default


def refresh(server: FakeQuickBooks, refresh_token: str, secret: str = CLIENT_SECRET) -> httpx.Response:
    credentials = base64.b64encode(f"local-client:{secret}".encode()).decode()
    return httpx.post(
        f"{server.url}/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers={"Authorization": f"Basic {credentials}", "Accept": "application/json"},
    )


def test_refresh_rotates_and_the_old_refresh_token_lasts_24_hours(server: FakeQuickBooks, clock: FakeClock) -> None:
    first = server.issue_tokens(REALM)
    answer = refresh(server, first.refresh_token)
    assert answer.status_code == 200
    assert answer.headers["Intuit-Tid"]
    second = answer.json()
    assert (second["token_type"], second["expires_in"]) == ("bearer", 3600)
    assert second["refresh_token"] != first.refresh_token
    assert second["x_refresh_token_expires_in"] > 86400
    assert Api(server, REALM, second["access_token"]).get("/item/1").status_code == 200
    clock.advance(23 * 3600)
    assert refresh(server, first.refresh_token).status_code == 200  # still within its 24 h
    clock.advance(3600 + 1)
    late = refresh(server, first.refresh_token)
    assert (late.status_code, late.json()) == (400, {"error": "invalid_grant"})
    assert refresh(server, "AB11-unknown").json() == {"error": "invalid_grant"}
    assert refresh(server, second["refresh_token"], secret="wrong").status_code == 401


def test_a_token_of_another_company_is_403(server: FakeQuickBooks) -> None:
    server.add_company(OTHER)
    outsider = Api(server, REALM, server.issue_tokens(OTHER).access_token)
    assert outsider.get("/item/1").status_code == 403


# ----------------------------------------------------------------------------------------------- faults and admin


def test_planned_faults_then_normal_answers(server: FakeQuickBooks, api: Api) -> None:
    admin = httpx.Client(base_url=server.url)
    assert admin.post("/_admin/faults", json={"realm": REALM, "next": 2, "status": 500}).json() == {"pending": 2}
    first, second = api.get("/item/1"), api.get("/item/1")
    assert fault(first, 500)["code"] == "10000"
    assert first.json()["Fault"]["type"] == "SystemFault"
    assert second.status_code == 500
    admin.post("/_admin/faults", json={"realm": REALM, "status": 429, "format": "xml"})
    xml = api.get("/item/1")
    assert xml.status_code == 429
    assert b'<Error code="3001">' in xml.content
    assert api.get("/item/1").status_code == 200
    assert admin.post("/_admin/faults", json={"realm": REALM, "status": 418}).status_code == 400


def test_admin_companies_state_clock_and_request_log(server: FakeQuickBooks) -> None:
    admin = httpx.Client(base_url=server.url)
    created = admin.post("/_admin/companies", json={"realm_id": "777", "country": "CA", "currency": "CAD"})
    assert created.status_code == 201
    assert created.json()["currency"] == "CAD"
    assert admin.post("/_admin/companies", json={"realm_id": "777"}).status_code == 409
    api = Api(server, "777", created.json()["tokens"]["access_token"])
    api.customer("Jane Doe")
    state = admin.get("/_admin/companies/777/state").json()
    assert [c["DisplayName"] for c in state["Customer"]] == ["Jane Doe"]
    assert state["Item"][0]["Id"] == "1"
    log = admin.get("/_admin/requests", params={"realm": "777"}).json()
    assert [(e["method"], e["path"], e["status"]) for e in log] == [("POST", "/v3/company/777/customer", 200)]
    before = admin.get("/_admin/clock").json()["now"]
    assert admin.post("/_admin/clock", json={"advance": 3601}).json()["now"] > before
    assert api.get("/item/1").status_code == 401
    assert admin.get("/_admin/companies/nope/state").status_code == 404


def test_batch_items_fail_alone(api: Api, server: FakeQuickBooks) -> None:
    items = [
        {"bId": "1", "operation": "create", "Customer": {"DisplayName": "Batch One"}},
        {"bId": "2", "operation": "create", "Vendor": {"DisplayName": "A Vendor"}},
        {"bId": "3", "operation": "create", "Customer": {"DisplayName": "batch one"}},
    ]
    answers = api.ok(api.post("/batch", {"BatchItemRequest": items}))["BatchItemResponse"]
    assert answers[0]["Customer"]["DisplayName"] == "Batch One"
    assert answers[1]["Fault"]["Error"][0]["code"] == "500"
    assert "time" not in answers[1]["Fault"]
    assert answers[2]["Fault"]["Error"][0]["code"] == "6240"
    assert [c["DisplayName"] for c in server.state(REALM)["Customer"]] == ["Batch One"]
