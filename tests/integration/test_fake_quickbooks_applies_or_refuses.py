"""The fake QuickBooks never silently ignores what a client sends (issue 9, item 12).

QuickBooks publishes no OpenAPI spec; the walk comes from the reference and the fake's own field lists:
- query parameters: those the recorded sandbox traffic sends (`minorversion`, `requestid`, `operation`, `query`) and
  those the research names (`sendTo`, `include=void`, `include=allowduplicatedocnum`, node-quickbooks' `format`),
  each tried on every route our adapter and the reader call;
- body fields: every field the fake accepts for Customer, Invoice, Payment and CreditMemo (it answers any other
  with QuickBooks' own 2010 "Unrecognized field", as error__400_json.yml shows), the fields the recorded requests
  send, and the fields of a line and of a sales line's detail.
Each must change the answer as QuickBooks would (a probe below), be ignored because QuickBooks ignores it (what it
computes itself: the answer shows its value, not the one sent), or be refused with QuickBooks' 400 ValidationFault
(2010) saying it is not supported by this fake. A tour of the adapter and the reader checks the walk covers all
they send. (The answers' shapes are checked against the recordings by test_fake_quickbooks_contract.py.)
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import yaml

from acuity_sync.domain.documents import TaxMode
from acuity_sync.ledgers.quickbooks.adapter import QuickBooksLedger
from acuity_sync.secret import Secret
from acuity_sync_toolkit.demo.books import QuickBooksBooks
from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.httpserver import compile_pattern
from acuity_sync_toolkit.fakes.quickbooks import FakeQuickBooks
from acuity_sync_toolkit.fakes.quickbooks.entities import CUSTOMER_FIELDS
from acuity_sync_toolkit.fakes.quickbooks.payments import PAYMENT_FIELDS
from acuity_sync_toolkit.fakes.quickbooks.sales import CREDIT_MEMO_FIELDS, INVOICE_FIELDS
from tests.support.ledger_tour import tour

REALM = "4620816365"
NOT_SUPPORTED = "not supported by this fake"
RECORDED = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "quickbooks" / "recorded"

# The routes (below /v3/company/{realmId}/) our adapter (acuity_sync/ledgers/quickbooks/adapter.py) and the reader
# (demo/books.py) call; the tour fails if they call one that is not here.
ROUTES = (
    "GET companyinfo/{id}",
    "GET preferences",
    "GET query",
    "GET customer/{id}",
    "GET invoice/{id}",
    "GET payment/{id}",
    "POST customer",
    "POST invoice",
    "POST invoice/{id}/send",
    "POST payment",
    "POST creditmemo",
)
RESEARCH_PARAMETERS = ("sendTo", "include=void", "include=allowduplicatedocnum", "format")


def recorded_parameters() -> set[str]:
    """The query parameters the recorded sandbox requests send to the kinds of route the fake serves (entities,
    queries, batches: not reports, change data capture or attachment uploads)."""
    names: set[str] = set()
    for cassette in RECORDED.glob("*.yml"):
        for interaction in yaml.safe_load(cassette.read_text())["http_interactions"]:
            uri = urlsplit(interaction["request"]["uri"])
            if not any(part in uri.path for part in ("/reports/", "/cdc", "/upload", "/attachable")):
                names |= {name for name, _ in parse_qsl(uri.query, True)}
    return names


def recorded_fields(entity: str) -> set[str]:
    """The top-level fields the recorded requests send for `entity` (a POST of it, or a batch item)."""
    found: set[str] = set()
    for cassette in RECORDED.glob("*.yml"):
        for interaction in yaml.safe_load(cassette.read_text())["http_interactions"]:
            request = interaction["request"]
            path = urlsplit(request["uri"]).path.rstrip("/")
            try:
                body = json.loads((request.get("body") or {}).get("string") or "null")
            except ValueError:
                continue
            if isinstance(body, dict) and path.endswith(f"/{entity.lower()}"):
                found |= set(body)
            for item in body.get("BatchItemRequest", []) if isinstance(body, dict) else []:
                found |= set(item.get(entity) or {})
    return found


PARAMETERS = sorted(recorded_parameters() | set(RESEARCH_PARAMETERS))
QUERY_CASES = [(route, parameter) for route in ROUTES for parameter in PARAMETERS]


# ----------------------------------------------------------------------------------------------- the fake


@dataclass
class Company:
    fake: FakeQuickBooks
    http: httpx.Client
    names: Iterator[int] = field(default_factory=lambda: iter(range(1, 100_000)))

    def ok(self, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def customer(self, **fields: Any) -> dict[str, Any]:
        body = {"DisplayName": f"Client {next(self.names)}", **fields}
        found: dict[str, Any] = self.ok(self.http.post("customer", json=body))["Customer"]
        return found

    def invoice(self, **fields: Any) -> dict[str, Any]:
        found: dict[str, Any] = self.ok(self.http.post("invoice", json=invoice_body(self) | fields))["Invoice"]
        return found

    def query(self, text: str) -> dict[str, Any]:
        found: dict[str, Any] = self.ok(self.http.get("query", params={"query": text}))["QueryResponse"]
        return found


def sales_line(amount: str = "80.00", **detail: Any) -> dict[str, Any]:
    return {
        "Amount": amount,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": "1"}, **detail},
    }


def invoice_body(company: Company) -> dict[str, Any]:
    return {"CustomerRef": {"value": company.customer()["Id"]}, "Line": [sales_line()]}


@pytest.fixture
def company() -> Iterator[Company]:
    with FakeQuickBooks(clock=FakeClock(frozen=True), per_second=100_000, per_minute=100_000) as fake:
        fake.add_company(REALM, custom_fields=("Booking",))
        token = fake.issue_tokens(REALM).access_token
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        with httpx.Client(base_url=f"{fake.url}/v3/company/{REALM}/", headers=headers, timeout=30) as http:
            yield Company(fake, http)


def refused(response: httpx.Response, name: str) -> bool:
    """QuickBooks' 400 ValidationFault 2010, naming `name` as not supported by this fake."""
    if response.status_code != 400:
        return False
    errors = response.json().get("Fault", {}).get("Error", [])
    return any(e.get("code") == "2010" and NOT_SUPPORTED in e.get("Detail", "") and name in e["Detail"] for e in errors)


# ----------------------------------------------------------------------------------------------- query walk


def _request(company: Company, route: str, params: dict[str, str]) -> httpx.Response:
    """A request to `route` that QuickBooks (and the fake) answers 200 without `params`."""
    method, path = route.split(" ", 1)
    if path == "companyinfo/{id}":
        return company.http.get(f"companyinfo/{REALM}", params=params)
    if path == "preferences":
        return company.http.get("preferences", params=params)
    if path == "query":
        return company.http.get("query", params={"query": "SELECT * FROM Customer", **params})
    if path == "customer/{id}":
        return company.http.get(f"customer/{company.customer()['Id']}", params=params)
    if path == "invoice/{id}":
        return company.http.get(f"invoice/{company.invoice()['Id']}", params=params)
    if path == "payment/{id}":
        return company.http.get(f"payment/{_payment(company)['Id']}", params=params)
    if path == "invoice/{id}/send":
        invoice = company.invoice(BillEmail={"Address": "jane@example.com"})
        return company.http.post(f"invoice/{invoice['Id']}/send", params=params)
    bodies: dict[str, Callable[[], dict[str, Any]]] = {
        "customer": lambda: {"DisplayName": f"Client {next(company.names)}"},
        "invoice": lambda: invoice_body(company),
        "creditmemo": lambda: invoice_body(company),
        "payment": lambda: _payment_body(company),
    }
    assert method == "POST", route
    return company.http.post(path, json=bodies[path](), params=params)


def _payment_body(company: Company) -> dict[str, Any]:
    invoice = company.invoice()
    line = {"Amount": "10.00", "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
    return {"TotalAmt": "10.00", "CustomerRef": invoice["CustomerRef"], "Line": [line]}


def _payment(company: Company) -> dict[str, Any]:
    found: dict[str, Any] = company.ok(company.http.post("payment", json=_payment_body(company)))["Payment"]
    return found


def _minor_version(route: str) -> Callable[[Company], None]:
    """QuickBooks answers every request as minor version 75 whatever is asked (since 1 August 2025): the same
    answer with and without it."""

    def probe(company: Company) -> None:
        for version in ("8", "75"):
            answer = company.ok(_request(company, route, {"minorversion": version}))
            assert set(answer) - {"time"}, answer
        if route.startswith("GET companyinfo") or route == "GET preferences":
            plain = company.ok(_request(company, route, {}))
            with_version = company.ok(_request(company, route, {"minorversion": "8"}))
            assert {**plain, "time": ""} == {**with_version, "time": ""}

    return probe


def _request_id(route: str) -> Callable[[Company], None]:
    """A write repeated with the same requestid answers the first answer again and writes nothing."""

    def probe(company: Company) -> None:
        _method, path = route.split(" ", 1)
        url, body = _write_of(company, path)
        first = company.http.post(url, json=body, params={"requestid": "probe-1"})
        state = json.dumps(company.fake.state(REALM), sort_keys=True, default=str)
        again = company.http.post(url, json=body, params={"requestid": "probe-1"})
        assert first.status_code == 200, first.text
        assert again.content == first.content
        assert json.dumps(company.fake.state(REALM), sort_keys=True, default=str) == state

    return probe


def _write_of(company: Company, path: str) -> tuple[str, Any]:
    if path == "invoice/{id}/send":
        invoice = company.invoice(BillEmail={"Address": "jane@example.com"})
        return f"invoice/{invoice['Id']}/send", None
    bodies: dict[str, Callable[[], Any]] = {
        "customer": lambda: {"DisplayName": f"Client {next(company.names)}"},
        "invoice": lambda: invoice_body(company),
        "creditmemo": lambda: invoice_body(company),
        "payment": lambda: _payment_body(company),
    }
    return path, bodies[path]()


def _operation_invoice(company: Company) -> None:
    invoice = company.invoice(PrivateNote="acuity:appointment:1")
    voided = company.ok(
        company.http.post(
            "invoice", json={"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, params={"operation": "void"}
        )
    )["Invoice"]
    assert (voided["TotalAmt"], voided["PrivateNote"]) == (0, "Voided - acuity:appointment:1")
    other = company.invoice()
    deleted = company.http.post("invoice", json={"Id": other["Id"], "SyncToken": "0"}, params={"operation": "delete"})
    assert company.ok(deleted)["Invoice"]["status"] == "Deleted"
    assert company.http.get(f"invoice/{other['Id']}").status_code == 400
    unknown = company.http.post("invoice", json=invoice_body(company), params={"operation": "archive"})
    assert unknown.status_code == 400
    assert "Unsupported Operation" in unknown.text


def _operation_others(path: str) -> Callable[[Company], None]:
    def probe(company: Company) -> None:
        url, body = _write_of(company, path)
        assert company.ok(company.http.post(url, json=body, params={"operation": "create"}))
        if path == "customer":  # a name cannot be deleted or voided in QuickBooks
            created = company.customer()
            for operation in ("delete", "void"):
                answer = company.http.post(
                    "customer", json={"Id": created["Id"], "SyncToken": "0"}, params={"operation": operation}
                )
                assert answer.status_code == 400
                assert "Unsupported Operation" in answer.text
            return
        created = company.ok(company.http.post(url, json=_write_of(company, path)[1]))
        entity = next(iter(set(created) - {"time"}))
        document = created[entity]
        deleted = company.http.post(
            path, json={"Id": document["Id"], "SyncToken": document["SyncToken"]}, params={"operation": "delete"}
        )
        assert company.ok(deleted)[entity]["status"] == "Deleted"

    return probe


def _include_void(company: Company) -> None:
    payment = _payment(company)
    body = {"Id": payment["Id"], "SyncToken": payment["SyncToken"], "sparse": True}
    voided = company.ok(company.http.post("payment", json=body, params={"operation": "update", "include": "void"}))
    assert voided["Payment"]["TotalAmt"] == 0
    assert voided["Payment"]["PrivateNote"].startswith("Voided")


def _include_duplicates(path: str) -> Callable[[Company], None]:
    def probe(company: Company) -> None:
        first = company.ok(company.http.post(path, json=invoice_body(company) | {"DocNumber": "ACU-7"}))
        again = company.http.post(path, json=invoice_body(company) | {"DocNumber": "ACU-7"})
        assert again.status_code == 400
        assert again.json()["Fault"]["Error"][0]["code"] == "6140"
        allowed = company.http.post(
            path, json=invoice_body(company) | {"DocNumber": "ACU-7"}, params={"include": "allowduplicatedocnum"}
        )
        entity = next(iter(set(first) - {"time"}))
        assert company.ok(allowed)[entity]["DocNumber"] == "ACU-7"

    return probe


def _query(company: Company) -> None:
    company.customer(DisplayName="Jane Doe")
    company.customer(DisplayName="Sam Lee")
    found = company.query("SELECT * FROM Customer WHERE DisplayName = 'Sam Lee'")
    assert [c["DisplayName"] for c in found["Customer"]] == ["Sam Lee"]
    assert company.query("SELECT COUNT(*) FROM Customer") == {"totalCount": 2}


def _send_to(company: Company) -> None:
    invoice = company.invoice(BillEmail={"Address": "jane@example.com"})
    sent = company.ok(company.http.post(f"invoice/{invoice['Id']}/send", params={"sendTo": "sam@example.com"}))
    assert sent["Invoice"]["BillEmail"] == {"Address": "sam@example.com"}
    assert sent["Invoice"]["EmailStatus"] == "EmailSent"
    assert company.fake.state(REALM)["emails"][-1]["to"] == "sam@example.com"


QUERY_PROBES: dict[tuple[str, str], Callable[[Company], None]] = {
    **{(route, "minorversion"): _minor_version(route) for route in ROUTES},
    **{(route, "requestid"): _request_id(route) for route in ROUTES if route.startswith("POST")},
    ("GET query", "query"): _query,
    ("POST invoice", "operation"): _operation_invoice,
    ("POST customer", "operation"): _operation_others("customer"),
    ("POST payment", "operation"): _operation_others("payment"),
    ("POST creditmemo", "operation"): _operation_others("creditmemo"),
    ("POST payment", "include=void"): _include_void,
    ("POST invoice", "include=allowduplicatedocnum"): _include_duplicates("invoice"),
    ("POST creditmemo", "include=allowduplicatedocnum"): _include_duplicates("creditmemo"),
    ("POST invoice/{id}/send", "sendTo"): _send_to,
}
SAMPLE_VALUES = {"operation": "update", "query": "SELECT * FROM Item", "sendTo": "x@example.com", "format": "json"}


@pytest.mark.parametrize(("route", "parameter"), QUERY_CASES, ids=[" ".join(case) for case in QUERY_CASES])
def test_each_documented_parameter_is_applied_or_refused_on_each_route(
    company: Company, route: str, parameter: str
) -> None:
    probe = QUERY_PROBES.get((route, parameter))
    if probe is not None:
        probe(company)
        return
    name, _, value = parameter.partition("=")
    response = _request(company, route, {name: value or SAMPLE_VALUES.get(name, "1")})
    assert refused(response, name), (
        f"{route} accepted ?{parameter} and no probe shows it applied: {response.text[:300]}"
    )


def test_undocumented_parameters_are_refused_and_values_are_read(company: Company) -> None:
    for route in ROUTES:
        assert refused(_request(company, route, {"fields": "all"}), "fields"), route
    assert refused(company.http.post("invoice", json=invoice_body(company), params={"include": "void"}), "include")


def test_every_probe_is_of_a_walked_case() -> None:
    assert set(QUERY_PROBES) <= set(QUERY_CASES)


# ----------------------------------------------------------------------------------------------- body walk

# The fields of a line and of a sales line's detail (Intuit's Invoice reference; research quickbooks.md §1).
LINE_FIELDS = (
    "Id", "LineNum", "Description", "Amount", "DetailType", "SalesItemLineDetail", "DiscountLineDetail",
    "DescriptionLineDetail", "SubTotalLineDetail", "GroupLineDetail", "LinkedTxn", "CustomField", "ProjectRef",
)  # fmt: skip
SALES_DETAIL_FIELDS = (
    "ItemRef", "Qty", "UnitPrice", "TaxCodeRef", "ServiceDate", "ClassRef", "DiscountRate", "DiscountAmt",
    "ItemAccountRef", "MarkupInfo", "PriceLevelRef", "TaxClassificationRef", "TaxInclusiveAmt",
)  # fmt: skip
PAYMENT_LINE_FIELDS = ("Amount", "LinkedTxn", "LineEx")
ENTITIES = {
    "customer": ("Customer", CUSTOMER_FIELDS),
    "invoice": ("Invoice", INVOICE_FIELDS),
    "payment": ("Payment", PAYMENT_FIELDS),
    "creditmemo": ("CreditMemo", CREDIT_MEMO_FIELDS),
}


def body_cases() -> list[tuple[str, str]]:
    cases = []
    for path, (entity, known) in ENTITIES.items():
        names = sorted(set(known) | recorded_fields(entity))
        cases += [(path, name) for name in names]
        if path in ("invoice", "creditmemo"):
            cases += [(path, f"Line[].{name}") for name in LINE_FIELDS]
            cases += [(path, f"Line[].SalesItemLineDetail.{name}") for name in SALES_DETAIL_FIELDS]
        if path == "payment":
            cases += [(path, f"Line[].{name}") for name in PAYMENT_LINE_FIELDS]
    return cases


BODY_CASES = body_cases()


def _base(company: Company, path: str) -> dict[str, Any]:
    if path == "customer":
        return {"DisplayName": f"Client {next(company.names)}"}
    if path == "payment":
        return _payment_body(company)
    return invoice_body(company)


def _with(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    parts = path.split(".")
    target: Any = body
    for part in parts[:-1]:
        target = target[part.removesuffix("[]")]
        target = target[0] if isinstance(target, list) else target
    target[parts[-1]] = value
    return body


def _shown(document: Any, path: str) -> Any:
    for part in path.split("."):
        document = document[0] if isinstance(document, list) and document else document
        document = document.get(part.removesuffix("[]")) if isinstance(document, dict) else None
    return document


@dataclass(frozen=True)
class Stored:
    """Applied as given: the answer shows `value` at `shown` (default: the field's own path)."""

    value: Any
    shown: Any = None


@dataclass(frozen=True)
class Computed:
    """QuickBooks computes it and ignores what a request says: the answer shows the computed value."""

    value: Any


@dataclass(frozen=True)
class Probe:
    check: Callable[[Company], None]


_ADDRESS = {"Line1": "1 Main St", "City": "Springfield", "CountrySubDivisionCode": "OR", "PostalCode": "97477"}


def _display_name(company: Company) -> None:
    company.customer(DisplayName="Jane Doe")
    taken = company.http.post("customer", json={"DisplayName": "jane doe"})
    assert taken.status_code == 400
    assert taken.json()["Fault"]["Error"][0]["code"] == "6240"


def _active(company: Company) -> None:
    gone = company.customer(Active=False)
    assert gone["Active"] is False
    assert gone["Id"] not in [c["Id"] for c in company.query("SELECT * FROM Customer").get("Customer", [])]


def _update_fields(path: str) -> Probe:
    """Id, SyncToken and sparse: a sparse update changes only what it sends, with the current SyncToken."""

    def check(company: Company) -> None:
        created = company.ok(company.http.post(path, json=_base(company, path)))
        entity = next(iter(set(created) - {"time"}))
        document = created[entity]
        note = "Notes" if path == "customer" else "PrivateNote"
        change = {"Id": document["Id"], "SyncToken": document["SyncToken"], "sparse": True, note: "changed"}
        updated = company.ok(company.http.post(path, json=change))[entity]
        assert updated["Id"] == document["Id"]
        assert updated["SyncToken"] == str(int(document["SyncToken"]) + 1)
        assert updated[note] == "changed"
        assert {key: updated[key] for key in ("CustomerRef", "TxnDate") if key in document} == {
            key: document[key] for key in ("CustomerRef", "TxnDate") if key in document
        }  # sparse: what was not sent is kept
        stale = company.http.post(path, json=change)
        assert stale.json()["Fault"]["Error"][0]["code"] == "5010"

    return Probe(check)


def _currency(path: str) -> Probe:
    def check(company: Company) -> None:
        body = _base(company, path)
        same = company.ok(company.http.post(path, json={**body, "CurrencyRef": {"value": "USD"}}))
        assert next(v for k, v in same.items() if k != "time")["CurrencyRef"]["value"] == "USD"
        other = company.http.post(path, json={**_base(company, path), "CurrencyRef": {"value": "EUR"}})
        assert other.status_code == 400
        assert "Multicurrency" in other.text

    return Probe(check)


def _false_only(path: str, name: str) -> Probe:
    """What the fake does not model may only be sent as QuickBooks answers it when unused (false)."""

    def check(company: Company) -> None:
        kept = company.ok(company.http.post(path, json={**_base(company, path), name: False}))
        assert next(v for k, v in kept.items() if k != "time").get(name, False) is False
        assert refused(company.http.post(path, json={**_base(company, path), name: True}), name)

    return Probe(check)


def _customer_ref(path: str) -> Probe:
    def check(company: Company) -> None:
        customer = company.customer(DisplayName="Ref Probe")
        body = {**_base(company, path), "CustomerRef": {"value": customer["Id"], "name": "ignored"}}
        if path == "payment":
            body = {"TotalAmt": "5.00", "CustomerRef": {"value": customer["Id"]}}
        answer = company.ok(company.http.post(path, json=body))
        assert next(v for k, v in answer.items() if k != "time")["CustomerRef"] == {
            "value": customer["Id"],
            "name": "Ref Probe",
        }
        assert company.http.post(path, json={**body, "CustomerRef": {"value": "99999"}}).status_code == 400

    return Probe(check)


def _lines(path: str) -> Probe:
    def check(company: Company) -> None:
        lines = [sales_line("80.00", Qty=2, UnitPrice="40.00"), sales_line("5.00")]
        answer = company.ok(company.http.post(path, json={**_base(company, path), "Line": lines}))
        document = next(v for k, v in answer.items() if k != "time")
        assert float(document["TotalAmt"]) == 85.0
        assert [line["DetailType"] for line in document["Line"]][-1] == "SubTotalLineDetail"

    return Probe(check)


def _document(company: Company, path: str, **fields: Any) -> dict[str, Any]:
    answer = company.ok(company.http.post(path, json={**_base(company, path), **fields}))
    found: dict[str, Any] = next(v for k, v in answer.items() if k != "time")
    return found


def _doc_number(path: str) -> Probe:
    def check(company: Company) -> None:
        assert _document(company, path, DocNumber="ACU-1")["DocNumber"] == "ACU-1"
        assert _document(company, path)["DocNumber"] != "ACU-1"  # numbered by QuickBooks when not given
        too_long = company.http.post(path, json={**_base(company, path), "DocNumber": "X" * 22})
        assert too_long.status_code == 400

    return Probe(check)


def _due_date(company: Company) -> None:
    assert _document(company, "invoice", TxnDate="2026-12-03")["DueDate"] == "2027-01-02"
    assert _document(company, "invoice", DueDate="2026-12-10")["DueDate"] == "2026-12-10"


def _txn_date(path: str) -> Probe:
    return Probe(lambda company: _equal(_document(company, path, TxnDate="2026-12-03")["TxnDate"], "2026-12-03"))


def _email_status(path: str) -> Probe:
    def check(company: Company) -> None:
        assert _document(company, path)["EmailStatus"] == "NotSet"
        without = company.http.post(path, json={**_base(company, path), "EmailStatus": "NeedToSend"})
        assert without.status_code == 400  # NeedToSend needs a BillEmail
        pending = _document(company, path, EmailStatus="NeedToSend", BillEmail={"Address": "jane@example.com"})
        assert pending["EmailStatus"] == "NeedToSend"

    return Probe(check)


def _global_tax(path: str) -> Probe:
    def check(company: Company) -> None:
        assert _document(company, path, GlobalTaxCalculation="NotApplicable")["GlobalTaxCalculation"] == "NotApplicable"
        wrong = company.http.post(path, json={**_base(company, path), "GlobalTaxCalculation": "Sometimes"})
        assert wrong.status_code == 400

    return Probe(check)


def _custom_field(path: str) -> Probe:
    def check(company: Company) -> None:
        entry = {"DefinitionId": "1", "StringValue": "acuity 7", "Name": "ignored", "Type": "StringType"}
        shown = _document(company, path, CustomField=[entry])["CustomField"]
        assert shown == [{"DefinitionId": "1", "Name": "Booking", "Type": "StringType", "StringValue": "acuity 7"}]
        undefined = company.http.post(path, json={**_base(company, path), "CustomField": [{"DefinitionId": "2"}]})
        assert refused(undefined, "CustomField 2"), undefined.text

    return Probe(check)


def _payment_lines(company: Company) -> None:
    invoice = company.invoice()
    line = {"Amount": "30.00", "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
    payment = _document(company, "payment", TotalAmt="30.00", CustomerRef=invoice["CustomerRef"], Line=[line])
    assert payment["UnappliedAmt"] == 0
    read = company.ok(company.http.get(f"invoice/{invoice['Id']}"))["Invoice"]
    assert float(read["Balance"]) == 50.0
    assert read["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]


def _total(company: Company) -> None:
    customer = company.customer()
    unapplied = {"TotalAmt": "12.50", "CustomerRef": {"value": customer["Id"]}}
    payment = company.ok(company.http.post("payment", json=unapplied))["Payment"]
    assert float(payment["TotalAmt"]) == 12.5
    assert float(payment["UnappliedAmt"]) == 12.5


def _line_detail_type(path: str) -> Probe:
    def check(company: Company) -> None:
        described = {"DetailType": "DescriptionOnly", "Description": "A note line", "DescriptionLineDetail": {}}
        document = _document(company, path, Line=[sales_line(), described])
        assert [line["DetailType"] for line in document["Line"]] == [
            "SalesItemLineDetail",
            "DescriptionOnly",
            "SubTotalLineDetail",
        ]
        wrong = company.http.post(path, json=_with(_base(company, path), "Line[].DetailType", "GroupLineDetail"))
        assert wrong.status_code == 400

    return Probe(check)


def _discount(path: str) -> Probe:
    def check(company: Company) -> None:
        discount = {
            "DetailType": "DiscountLineDetail",
            "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10},
        }
        document = _document(company, path, Line=[sales_line("80.00"), discount])
        assert float(document["TotalAmt"]) == 72.0

    return Probe(check)


def _subtotal_recomputed(path: str) -> Probe:
    def check(company: Company) -> None:
        subtotal = {"DetailType": "SubTotalLineDetail", "Amount": "999.00", "SubTotalLineDetail": {}}
        document = _document(company, path, Line=[sales_line("80.00"), subtotal])
        assert [float(line["Amount"]) for line in document["Line"]] == [80.0, 80.0]

    return Probe(check)


def _line_id(path: str) -> Probe:
    def check(company: Company) -> None:
        document = _document(company, path)
        kept = {**document["Line"][0], "Amount": "70.00", "Id": document["Line"][0]["Id"]}
        kept.pop("LineNum")
        change = {"Id": document["Id"], "SyncToken": document["SyncToken"], "sparse": True, "Line": [kept]}
        updated = company.ok(company.http.post(path, json=change))
        line = next(v for k, v in updated.items() if k != "time")["Line"][0]
        assert (line["Id"], float(line["Amount"])) == (document["Line"][0]["Id"], 70.0)

    return Probe(check)


def _amount_and_price(path: str) -> Probe:
    def check(company: Company) -> None:
        good = _document(company, path, Line=[sales_line("80.00", Qty=2, UnitPrice="40.00")])
        detail = good["Line"][0]["SalesItemLineDetail"]
        assert (float(detail["Qty"]), float(detail["UnitPrice"]), float(good["TotalAmt"])) == (2.0, 40.0, 80.0)
        wrong = company.http.post(
            path, json={**_base(company, path), "Line": [sales_line("80.00", Qty=2, UnitPrice="30.00")]}
        )
        assert wrong.status_code == 400
        assert wrong.json()["Fault"]["Error"][0]["code"] == "6070"

    return Probe(check)


def _item_ref(path: str) -> Probe:
    def check(company: Company) -> None:
        line = sales_line(ItemRef={"value": "1", "name": "anything"})
        shown = _document(company, path, Line=[line])["Line"][0]["SalesItemLineDetail"]["ItemRef"]
        assert shown == {"value": "1", "name": "Services"}
        unknown = company.http.post(path, json={**_base(company, path), "Line": [sales_line(ItemRef={"value": "77"})]})
        assert unknown.status_code == 400

    return Probe(check)


def _equal(actual: Any, expected: Any) -> None:
    assert actual == expected, (actual, expected)


Expectation = Stored | Computed | Probe
SERVER_SET: dict[str, Any] = {"MetaData": {"CreateTime": "1999-01-01T00:00:00-08:00"}, "domain": "X", "status": "X"}


def body_expectations() -> dict[tuple[str, str], Expectation]:
    found = _customer_expectations()
    for path in ("invoice", "creditmemo"):
        found |= _sales_expectations(path)
    found[("invoice", "DueDate")] = Probe(_due_date)
    for name in ("AllowIPNPayment", "AllowOnlinePayment", "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment"):
        found[("invoice", name)] = Stored(True)
    found[("invoice", "LinkedTxn")] = Computed([{"TxnId": "1", "TxnType": "Payment"}])
    found[("invoice", "DeliveryInfo")] = Computed({"DeliveryType": "Email"})
    found[("invoice", "InvoiceLink")] = Computed("https://example.com/pay")
    found[("creditmemo", "RemainingCredit")] = Computed(999)
    return found | _payment_expectations()


def _customer_expectations() -> dict[tuple[str, str], Expectation]:
    found: dict[tuple[str, str], Expectation] = {}
    customer = "customer"
    for name, value in {
        "Title": "Dr", "GivenName": "Jane", "MiddleName": "Q", "FamilyName": "Doe", "Suffix": "Jr",
        "CompanyName": "Doe Studio", "PrintOnCheckName": "J. Doe", "Notes": "Prefers mornings",
        "PrimaryPhone": {"FreeFormNumber": "555-0100"}, "AlternatePhone": {"FreeFormNumber": "555-0101"},
        "Mobile": {"FreeFormNumber": "555-0102"}, "Fax": {"FreeFormNumber": "555-0103"},
        "PrimaryEmailAddr": {"Address": "jane@example.com"}, "WebAddr": {"URI": "https://example.com"},
        "Taxable": False, "PreferredDeliveryMethod": "Email",
    }.items():  # fmt: skip
        found[(customer, name)] = Stored(value)
    for name in ("BillAddr", "ShipAddr"):
        found[(customer, name)] = Stored(_ADDRESS, {**_ADDRESS, "Id": "ANY"})
    found[(customer, "DisplayName")] = Probe(_display_name)
    found[(customer, "Active")] = Probe(_active)
    found[(customer, "CurrencyRef")] = _currency(customer)
    for name in ("Job", "BillWithParent"):
        found[(customer, name)] = _false_only(customer, name)
    for name in ("Id", "SyncToken", "sparse"):
        found[(customer, name)] = _update_fields(customer)
    for name in ("Balance", "BalanceWithJobs"):
        found[(customer, name)] = Computed(999)
    found[(customer, "FullyQualifiedName")] = Computed("Someone Else")
    found[(customer, "Level")] = Computed(3)
    found[(customer, "V4IDPseudonym")] = Computed("pseudonym")
    for name, value in SERVER_SET.items():
        found[(customer, name)] = Computed(value)
    return found


def _sales_expectations(path: str) -> dict[tuple[str, str], Expectation]:
    found: dict[tuple[str, str], Expectation] = {}
    found[(path, "CustomerRef")] = _customer_ref(path)
    found[(path, "Line")] = _lines(path)
    found[(path, "TxnDate")] = _txn_date(path)
    found[(path, "DocNumber")] = _doc_number(path)
    found[(path, "PrivateNote")] = Stored("acuity:appointment:1")
    found[(path, "BillEmail")] = Stored({"Address": "jane@example.com"})
    found[(path, "CustomerMemo")] = Stored({"value": "Massage (60 min)"})
    found[(path, "GlobalTaxCalculation")] = _global_tax(path)
    found[(path, "BillAddr")] = Stored(_ADDRESS)
    found[(path, "ShipAddr")] = Stored(_ADDRESS)
    found[(path, "PrintStatus")] = Stored("PrintComplete")
    found[(path, "EmailStatus")] = _email_status(path)
    found[(path, "CurrencyRef")] = _currency(path)
    found[(path, "CustomField")] = _custom_field(path)
    found[(path, "ApplyTaxAfterDiscount")] = _false_only(path, "ApplyTaxAfterDiscount")
    for name in ("Id", "SyncToken", "sparse"):
        found[(path, name)] = _update_fields(path)
    for name in ("TotalAmt", "Balance", "HomeBalance", "HomeTotalAmt"):
        found[(path, name)] = Computed(999)
    found[(path, "TxnTaxDetail")] = Computed({"TotalTax": 999})
    for name, value in SERVER_SET.items():
        found[(path, name)] = Computed(value)
    found[(path, "Line[].Id")] = _line_id(path)
    found[(path, "Line[].LineNum")] = Computed(99)
    found[(path, "Line[].LinkedTxn")] = Computed([{"TxnId": "1", "TxnType": "Estimate"}])
    found[(path, "Line[].Description")] = Stored("Deep tissue")
    found[(path, "Line[].Amount")] = _amount_and_price(path)
    found[(path, "Line[].DetailType")] = _line_detail_type(path)
    found[(path, "Line[].SalesItemLineDetail")] = _item_ref(path)
    found[(path, "Line[].DescriptionLineDetail")] = _line_detail_type(path)
    found[(path, "Line[].DiscountLineDetail")] = _discount(path)
    found[(path, "Line[].SubTotalLineDetail")] = _subtotal_recomputed(path)
    found[(path, "Line[].SalesItemLineDetail.ItemRef")] = _item_ref(path)
    found[(path, "Line[].SalesItemLineDetail.Qty")] = _amount_and_price(path)
    found[(path, "Line[].SalesItemLineDetail.UnitPrice")] = _amount_and_price(path)
    found[(path, "Line[].SalesItemLineDetail.TaxCodeRef")] = Stored({"value": "TAX"})
    found[(path, "Line[].SalesItemLineDetail.ServiceDate")] = Stored("2026-12-03")
    return found


def _payment_expectations() -> dict[tuple[str, str], Expectation]:
    found: dict[tuple[str, str], Expectation] = {}
    payment = "payment"
    found[(payment, "TotalAmt")] = Probe(_total)
    found[(payment, "CustomerRef")] = _customer_ref(payment)
    found[(payment, "Line")] = Probe(_payment_lines)
    found[(payment, "Line[].Amount")] = Probe(_payment_lines)
    found[(payment, "Line[].LinkedTxn")] = Probe(_payment_lines)
    found[(payment, "TxnDate")] = _txn_date(payment)
    found[(payment, "PaymentRefNum")] = Stored("ch_1")
    found[(payment, "PrivateNote")] = Stored("acuity:txn:ch_1")
    found[(payment, "CurrencyRef")] = _currency(payment)
    found[(payment, "ProcessPayment")] = _false_only(payment, "ProcessPayment")
    for name in ("Id", "SyncToken", "sparse"):
        found[(payment, name)] = _update_fields(payment)
    found[(payment, "UnappliedAmt")] = Computed(999)
    found[(payment, "LinkedTxn")] = Computed([{"TxnId": "1", "TxnType": "Deposit"}])
    for name, value in SERVER_SET.items():
        found[(payment, name)] = Computed(value)
    return found


BODY_EXPECTATIONS = body_expectations()


@pytest.mark.parametrize(("path", "name"), BODY_CASES, ids=[" ".join(case) for case in BODY_CASES])
def test_each_field_is_applied_computed_as_quickbooks_does_or_refused(company: Company, path: str, name: str) -> None:
    expected = BODY_EXPECTATIONS.get((path, name))
    if isinstance(expected, Probe):
        expected.check(company)
        return
    if isinstance(expected, Stored):
        document = _document_with(company, path, name, expected.value)
        shown = _shown(document, name)
        wanted = expected.value if expected.shown is None else expected.shown
        if isinstance(wanted, dict) and wanted.get("Id") == "ANY":
            wanted = {**wanted, "Id": shown.get("Id")}
        assert shown == wanted, (shown, wanted)
        return
    if isinstance(expected, Computed):
        shown = _shown(_document_with(company, path, name, expected.value), name)
        assert shown != expected.value, f"{path} {name} shows what the client sent"
        return
    response = company.http.post(path, json=_with(_base(company, path), name, {"value": "1"}))
    field_name = name.rsplit(".", maxsplit=1)[-1]
    if "." not in name and name not in ENTITIES[path][1]:  # a field QuickBooks itself does not know
        error = response.json()["Fault"]["Error"][0]
        assert (response.status_code, error["code"]) == (400, "2010")
        assert f'Unrecognized field "{name}"' in error["Detail"]
        return
    assert refused(response, field_name), f"{path} accepted {name} and no probe shows it applied: {response.text[:300]}"


def _document_with(company: Company, path: str, name: str, value: Any) -> dict[str, Any]:
    answer = company.ok(company.http.post(path, json=_with(_base(company, path), name, value)))
    found: dict[str, Any] = next(v for k, v in answer.items() if k != "time")
    return found


def test_every_body_expectation_is_of_a_walked_field() -> None:
    assert set(BODY_EXPECTATIONS) <= set(BODY_CASES)


def test_a_field_quickbooks_does_not_know_is_its_own_unrecognized_field(company: Company) -> None:
    response = company.http.post("invoice", json=_with(invoice_body(company), "Line[].Colour", "red"))
    error = response.json()["Fault"]["Error"][0]
    assert (response.status_code, error["code"]) == (400, "2010")
    assert 'Unrecognized field "Colour" (class com.intuit.schema.finance.v3.Line)' in error["Detail"]
    batch = {
        "BatchItemRequest": [
            {"bId": "1", "operation": "create", "Invoice": {**invoice_body(company), "ClassRef": {"value": "1"}}}
        ]
    }
    item = company.ok(company.http.post("batch", json=batch))["BatchItemResponse"][0]
    assert NOT_SUPPORTED in item["Fault"]["Error"][0]["Detail"]


# ----------------------------------------------------------------------------------------------- the tour


def _route_of(method: str, path: str) -> str:
    relative = path.split(f"/v3/company/{REALM}/", 1)[1]
    for route in ROUTES:
        route_method, pattern = route.split(" ", 1)
        if route_method == method and compile_pattern(pattern).match(relative):
            return route
    return f"{method} {relative}"


def test_the_walk_covers_every_route_parameter_and_field_the_adapter_and_the_reader_send(company: Company) -> None:
    """The endpoint list comes from what the adapter and the reader send: every request of a tour of the Ledger
    operations and of the demo's reader is in the walk above."""
    sent: list[httpx.Request] = []
    token = company.fake.issue_tokens(REALM).access_token
    with httpx.Client(timeout=30, event_hooks={"request": [sent.append]}) as http:
        ledger = QuickBooksLedger(
            http=http, realm_id=REALM, access_token=lambda _refused: Secret(token), api_url=company.fake.url
        )
        tour(ledger, "USD", TaxMode.NON_TAXABLE)
    before_reader = len(company.fake.requests(REALM))
    reader = QuickBooksBooks(company.fake.url, REALM, lambda: token)
    try:
        books = reader.read()
        reader.details(books.customers[0].id)
    finally:
        reader.close()
    calls = [(r.method, r.url.path, list(r.url.params.multi_items())) for r in sent]
    calls += [(e["method"], e["path"], list(e["query"].items())) for e in company.fake.requests(REALM)[before_reader:]]
    body_names = {f"{path} {name}" for path, name in BODY_CASES}
    assert len(sent) > 20
    assert len(calls) > len(sent)
    for method, path, params in calls:
        route = _route_of(method, path)
        assert route in ROUTES, f"the walk misses {route}"
        for name, value in params:
            parameter = f"{name}={value}" if name == "include" else name
            assert (route, parameter) in QUERY_CASES, f"the walk misses {route} ?{parameter}"
    for request in sent:
        route = _route_of(request.method, request.url.path)
        if request.method == "POST" and request.content and route.split(" ", 1)[1] in ENTITIES:
            for name in _paths(json.loads(request.content)):
                assert f"{route.split(' ', 1)[1]} {name}" in body_names, f"the walk misses {route} field {name}"


def _paths(body: dict[str, Any]) -> set[str]:
    found = set(body)
    for line in body.get("Line", []):
        found |= {f"Line[].{name}" for name in line}
        found |= {f"Line[].SalesItemLineDetail.{name}" for name in line.get("SalesItemLineDetail", {})}
    return found
