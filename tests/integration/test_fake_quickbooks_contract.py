"""The fake QuickBooks answers the recorded sandbox requests as the real service did.

Each recording in ../shared/reference/quickbooks/recorded/ that concerns what the fake models is replayed over HTTP
after setting up the state the recorded request relied on (the sandbox's sample customers, the invoice it voided or
deleted); the answer must have the recorded status and shape: the same JSON keys at every level and the same JSON
types (ids, timestamps and amounts may differ). Recordings of what the fake does not model are listed in SKIPPED,
with the reason; a test checks that every recording is either replayed or skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.quickbooks import FakeQuickBooks
from acuity_sync_toolkit.fakes.quickbooks.jsontext import loads

RECORDED = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "quickbooks" / "recorded"
REALM = "9130355"

REPLAYED = {
    "create__customer.yml",
    "create__invoice.yml",
    "delete__invoice.yml",
    "void__invoice.yml",
    "update__customer.yml",
    "all__customers.yml",
    "all__alt_select.yml",
    "get__display_name.yml",
    "get__id.yml",
    "batch__basic.yml",
    "error__400.yml",
    "error__400_json.yml",
    "error__401.yml",
    "error__500.yml",
    "error__validation.yml",
}
SKIPPED = {
    # Entities the fake does not model (the integration writes customers, items and sales documents only).
    "all__employees_including_active.yml": "Employee",
    "deactivate__employee.yml": "Employee",
    "all__vendors_by_5.yml": "Vendor",
    "get__inactive_vendors.yml": "Vendor",
    "misc__ampersand.yml": "Vendor (a DisplayName with '&')",
    "deactivate__account.yml": "Account",
    "all__sales_receipts.yml": "SalesReceipt",
    "update__sales_receipt.yml": "SalesReceipt",
    "attachment__create_for_invoice.yml": "Attachable uploads",
    "attachment__delete_attachment.yml": "Attachable",
    "attachment__error_estimate.yml": "Attachable / Estimate",
    "attachment__read_attachment.yml": "Attachable",
    "reports__gl.yml": "reports",
    "reports__profit_and_loss.yml": "reports",
    "cdc__basic.yml": "change data capture (Estimate)",
    "get_pdf__invoice.yml": "invoice PDF",
}


@dataclass(frozen=True)
class Interaction:
    method: str
    path: str
    query: str
    body: str
    status: int
    headers: dict[str, list[str]]
    response: Any


def cassette(name: str) -> list[Interaction]:
    """The recorded interactions; URIs are made to name the company (some lost `/company/-COMPANY_ID-`)."""
    document = yaml.safe_load((RECORDED / name).read_text())
    interactions = []
    for entry in document["http_interactions"]:
        request, response = entry["request"], entry["response"]
        uri = urlsplit(request["uri"].replace("-COMPANY_ID-", REALM))
        path = uri.path if uri.path.startswith("/v3/company/") else uri.path.replace("/v3/", f"/v3/company/{REALM}/", 1)
        text = response["body"].get("string", "")
        interactions.append(
            Interaction(
                method=request["method"].upper(),
                path=path,
                query=uri.query,
                body=request["body"].get("string", ""),
                status=response["status"]["code"],
                headers=response["headers"],
                response=json.loads(text) if text else None,
            )
        )
    return interactions


def shape(value: Any) -> Any:
    """Keys at every level and JSON types; numbers are numbers whether written 100.00 or 0."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", type(None): "null"}[type(value)]


def without_time(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "time"}


# ----------------------------------------------------------------------------------------------- fixtures


@pytest.fixture
def qbo() -> Iterator[FakeQuickBooks]:
    with FakeQuickBooks(clock=FakeClock(frozen=True), per_second=10_000, per_minute=10_000) as server:
        yield server


def company(qbo: FakeQuickBooks, *, sample_customers: bool = False) -> httpx.Client:
    """The company, with the sandbox's "Crew #" custom field; optionally its 41 sample customers (ids kept)."""
    qbo.add_company(REALM, custom_fields=["Crew #"])
    if sample_customers:
        recorded = (RECORDED / "all__customers.yml").read_text()
        body = yaml.safe_load(recorded)["http_interactions"][1]["response"]["body"]["string"]
        for customer in loads(body)["QueryResponse"]["Customer"]:
            qbo.seed(REALM, "Customer", customer)
    token = qbo.issue_tokens(REALM).access_token
    return httpx.Client(base_url=qbo.url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})


def replay(client: httpx.Client, interaction: Interaction, ids: dict[str, str] | None = None) -> httpx.Response:
    """Send the recorded request, with recorded ids replaced by the ones the fake gave (`ids`)."""
    path, body = interaction.path, interaction.body
    for recorded_id, new_id in (ids or {}).items():
        path = "/".join(new_id if part == recorded_id else part for part in path.split("/"))
        body = body.replace(f'"Id":"{recorded_id}"', f'"Id":"{new_id}"')
    url = f"{path}?{interaction.query}" if interaction.query else path
    headers = {"Content-Type": "application/json"} if body else {}
    return client.request(interaction.method, url, content=body.encode() if body else None, headers=headers)


def check(response: httpx.Response, interaction: Interaction) -> dict[str, Any]:
    """Same status, same shape, an Intuit-Tid, the recorded Content-Type; returns the body."""
    assert response.status_code == interaction.status, response.text
    assert response.headers.get("Intuit-Tid", "").startswith("1-")
    assert response.headers["Content-Type"].lower() == interaction.headers["Content-Type"][0].lower()
    body: dict[str, Any] = response.json()
    assert shape(body) == shape(interaction.response)
    return body


def created_invoice(client: httpx.Client) -> str:
    """An invoice made by create__invoice.yml's request, as the recordings' void and delete start from."""
    response = replay(client, cassette("create__invoice.yml")[0])
    assert response.status_code == 200, response.text
    return str(response.json()["Invoice"]["Id"])


# ----------------------------------------------------------------------------------------------- replays


def test_every_recording_is_replayed_or_skipped_with_a_reason() -> None:
    names = {path.name for path in RECORDED.glob("*.yml")}
    assert names == REPLAYED | set(SKIPPED)
    assert not REPLAYED & set(SKIPPED)


def test_create_customer(qbo: FakeQuickBooks) -> None:
    (interaction,) = cassette("create__customer.yml")
    body = check(replay(company(qbo), interaction), interaction)
    assert body["Customer"]["DisplayName"] == body["Customer"]["PrintOnCheckName"] == "Doe5, Jane"
    assert body["Customer"]["SyncToken"] == "0"


def test_create_invoice_fills_in_what_the_sandbox_fills_in(qbo: FakeQuickBooks) -> None:
    (interaction,) = cassette("create__invoice.yml")
    body = check(replay(company(qbo, sample_customers=True), interaction), interaction)
    invoice, recorded = body["Invoice"], interaction.response["Invoice"]
    for key in ("CustomerRef", "BillAddr", "ShipAddr", "CurrencyRef", "CustomField", "Line", "TotalAmt", "Balance"):
        assert invoice[key] == recorded[key], key
    assert (invoice["EmailStatus"], invoice["PrintStatus"], invoice["LinkedTxn"]) == ("NotSet", "NeedToPrint", [])


def test_read_then_delete_invoice(qbo: FakeQuickBooks) -> None:
    client = company(qbo, sample_customers=True)
    invoice_id = created_invoice(client)
    read, delete = cassette("delete__invoice.yml")
    check(replay(client, read, {"266": invoice_id}), read)
    body = check(replay(client, delete, {"266": invoice_id}), delete)
    assert body["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": invoice_id}
    again = client.get(f"/v3/company/{REALM}/invoice/{invoice_id}")
    assert again.status_code == 400
    assert again.json()["Fault"]["Error"][0]["code"] == "610"


def test_read_then_void_invoice(qbo: FakeQuickBooks) -> None:
    client = company(qbo, sample_customers=True)
    invoice_id = created_invoice(client)
    read, void = cassette("void__invoice.yml")
    check(replay(client, read, {"264": invoice_id}), read)
    body = check(replay(client, void, {"264": invoice_id}), void)
    invoice = body["Invoice"]
    assert (invoice["PrivateNote"], invoice["SyncToken"], invoice["TotalAmt"], invoice["Balance"]) == (
        "Voided",
        "1",
        0,
        0,
    )
    assert [line["Amount"] for line in invoice["Line"]] == [0, 0]
    assert list(invoice) == list(void.response["Invoice"])  # PrivateNote lands where QBO puts it


def test_full_update_of_a_customer(qbo: FakeQuickBooks) -> None:
    client = company(qbo)
    created = client.post(f"/v3/company/{REALM}/customer", json={"DisplayName": "Doe2, Jane"}).json()["Customer"]
    read, update = cassette("update__customer.yml")
    check(replay(client, read, {"68": created["Id"]}), read)
    body = check(replay(client, update, {"68": created["Id"]}), update)
    customer = body["Customer"]
    assert (customer["DisplayName"], customer["FullyQualifiedName"], customer["PrintOnCheckName"]) == ("Jack Moe",) * 3
    assert (customer["SyncToken"], customer["PrimaryPhone"]) == ("1", {"FreeFormNumber": "(415) 444-1234"})


@pytest.mark.parametrize(
    "name", ["all__customers.yml", "all__alt_select.yml", "get__display_name.yml", "error__400.yml"]
)
def test_queries_on_the_sample_customers(qbo: FakeQuickBooks, name: str) -> None:
    client = company(qbo, sample_customers=True)
    for interaction in cassette(name):
        body = check(replay(client, interaction), interaction)
        if "QueryResponse" in interaction.response:
            recorded, answered = interaction.response["QueryResponse"], body["QueryResponse"]
            assert [c["Id"] for c in answered.get("Customer", [])] == [c["Id"] for c in recorded.get("Customer", [])]
            assert {k: v for k, v in answered.items() if k != "Customer"} == {
                k: v for k, v in recorded.items() if k != "Customer"
            }
        else:  # the misspelt entity: word for word
            assert without_time(body) == without_time(interaction.response)


def test_get_customer_by_id(qbo: FakeQuickBooks) -> None:
    """The sandbox's query answer for customer 5 lacks the DefaultTaxCodeRef its read shows, so the prior state is
    the read's own customer."""
    (interaction,) = cassette("get__id.yml")
    client = company(qbo)
    qbo.seed(REALM, "Customer", interaction.response["Customer"])
    body = check(replay(client, interaction), interaction)
    assert without_time(body) == without_time(interaction.response)


def test_duplicate_display_name_is_6240_word_for_word(qbo: FakeQuickBooks) -> None:
    (interaction,) = cassette("error__validation.yml")
    body = check(replay(company(qbo, sample_customers=True), interaction), interaction)
    assert without_time(body) == without_time(interaction.response)


def test_unknown_property_is_2010(qbo: FakeQuickBooks) -> None:
    (interaction,) = cassette("error__400_json.yml")
    error = check(replay(company(qbo), interaction), interaction)["Fault"]["Error"][0]
    recorded = interaction.response["Fault"]["Error"][0]
    assert (error["Message"], error["code"]) == (recorded["Message"], recorded["code"])
    assert error["Detail"].startswith('Property Name:Unrecognized field "BadJson" (class com.intuit.schema.finance')


def test_expired_token_is_the_gateway_401(qbo: FakeQuickBooks) -> None:
    (interaction,) = cassette("error__401.yml")
    client = company(qbo)
    qbo.clock.advance(3601)
    response = replay(client, interaction)
    body = check(response, interaction)
    assert response.headers["WWW-Authenticate"] == interaction.headers["Www-Authenticate"][0]
    error, recorded = body["fault"]["error"][0], interaction.response["fault"]["error"][0]
    assert (error["message"], error["code"], body["fault"]["type"]) == (
        recorded["message"],
        recorded["code"],
        "AUTHENTICATION",
    )
    assert error["detail"].startswith("Token expired: ")


def test_unsupported_path_and_invalid_id(qbo: FakeQuickBooks) -> None:
    client = company(qbo, sample_customers=True)
    for interaction in cassette("error__500.yml"):
        body = check(replay(client, interaction), interaction)
        error, recorded = body["Fault"]["Error"][0], interaction.response["Fault"]["Error"][0]
        assert {k: v for k, v in error.items() if k != "Detail"} == {k: v for k, v in recorded.items() if k != "Detail"}
    invalid_id = cassette("error__500.yml")[1]
    assert without_time(check(replay(client, invalid_id), invalid_id)) == invalid_id.response  # no `time`


def test_batch_answers_each_item(qbo: FakeQuickBooks) -> None:
    """batch__basic.yml: a create, a delete of a missing invoice (610), a stale update (5010), a query. Vendor and
    SalesReceipt are out of scope, so their items become a Customer create, a stale Invoice update and an Invoice
    query; each answer is compared with the recorded item's shape (the Fault ones word for word)."""
    client = company(qbo, sample_customers=True)
    invoice_id = created_invoice(client)
    (interaction,) = cassette("batch__basic.yml")
    items = json.loads(interaction.body)["BatchItemRequest"]
    items[0] = {"bId": "bid1", "operation": "create", "Customer": {"DisplayName": "Boraski Family Store"}}
    items[2] = {"bId": "bid3", "operation": "update", "Invoice": {"sparse": True, "Id": invoice_id, "SyncToken": "7"}}
    items[3] = {"bId": "bid4", "Query": "select * from Invoice where TotalAmt > '50.00'"}
    response = client.post(f"/v3/company/{REALM}/batch", json={"BatchItemRequest": items})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["BatchItemResponse", "time"]
    answers, recorded = body["BatchItemResponse"], interaction.response["BatchItemResponse"]
    assert [answer["bId"] for answer in answers] == ["bid1", "bid2", "bid3", "bid4"]
    customer_shape = shape(cassette("create__customer.yml")[0].response["Customer"])
    assert shape(answers[0]) == {"Customer": customer_shape, "bId": "string"}
    assert answers[1] == recorded[1]  # 610, word for word
    assert shape(answers[2]) == shape(recorded[2])
    assert (answers[2]["Fault"]["Error"][0]["code"], answers[2]["Fault"]["Error"][0]["Message"]) == (
        "5010",
        "Stale Object Error",
    )
    query_answer = answers[3]["QueryResponse"]
    assert sorted(query_answer) == sorted(["Invoice", "startPosition", "maxResults"])
    assert [invoice["Id"] for invoice in query_answer["Invoice"]] == [invoice_id]
