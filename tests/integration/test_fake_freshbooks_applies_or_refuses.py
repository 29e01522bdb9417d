"""The fake FreshBooks never silently ignores what a client sends (issue 9, item 12).

FreshBooks publishes no OpenAPI spec; the walk comes from the reference: the list filters and paging the research
names (xero_freshbooks.md §B1: `search[email]`, the `_like` filters, `search[vis_state]`, `updated_min/max`,
`date_min/max`, the SDK's `include[]` and `sort` builders), the fields of a client in the fixtures
(create_client_response.json) and the research's writable fields of invoices, lines, payments and credit notes,
and whatever else the fake itself reads. Each must change the answer as FreshBooks would (a probe below), be
ignored because FreshBooks computes it (the answer shows its own value), or be refused with FreshBooks' error body
saying it is not supported by this fake. A tour of the adapter and the reader checks the walk covers all they send.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from acuity_sync.domain.documents import TaxMode
from acuity_sync.ledgers.freshbooks.adapter import FreshBooksLedger
from acuity_sync.secret import Secret
from acuity_sync_toolkit.demo.books import FreshBooksBooks
from acuity_sync_toolkit.fakes.clock import FakeClock
from acuity_sync_toolkit.fakes.freshbooks import FakeFreshBooks
from acuity_sync_toolkit.fakes.httpserver import compile_pattern
from tests.support.ledger_tour import tour

ACCOUNT = "ABC123"
NOT_SUPPORTED = "not supported by this fake"
FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "freshbooks" / "fixtures"

# The list routes our adapter and the reader call, with the parameters the research documents for each.
PAGING = ("page", "per_page")
LISTS: dict[str, tuple[str, ...]] = {
    "users/clients": (
        *PAGING, "search[email]", "search[fname_like]", "search[lname_like]", "search[organization_like]",
        "search[phone_like]", "search[updated_min]", "search[updated_max]", "search[vis_state]", "search[userid]",
        "include[]", "sort",
    ),
    "invoices/invoices": (
        *PAGING, "search[po_number]", "search[invoice_number]", "search[customerid]", "search[v3_status]",
        "search[vis_state]", "search[notes_like]", "search[invoiceid]", "search[date_min]", "search[date_max]",
        "include[]", "sort",
    ),
    "payments/payments": (
        *PAGING, "search[invoiceid]", "search[clientid]", "search[vis_state]", "search[date_min]",
        "search[date_max]", "search[updated_min]", "search[updated_max]",
    ),
    "credit_notes/credit_notes": (*PAGING, "search[clientid]", "search[vis_state]"),
}  # fmt: skip
QUERY_CASES = [(path, name) for path, names in LISTS.items() for name in names]
# Single records (GET .../{id}) take no parameter: a few documented ones are tried there too.
RECORD_CASES = [(path, name) for path in LISTS for name in ("include[]", "page", "search[vis_state]")]


# ----------------------------------------------------------------------------------------------- the fake


@dataclass
class Business:
    fake: FakeFreshBooks
    http: httpx.Client
    numbers: Iterator[int] = field(default_factory=lambda: iter(range(1, 100_000)))

    def result(self, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()["response"]["result"]
        return found

    def client(self, **fields: Any) -> dict[str, Any]:
        body = {"fname": "Jane", "lname": f"Doe {next(self.numbers)}", **fields}
        found: dict[str, Any] = self.result(self.http.post("users/clients", json={"client": body}))["client"]
        return found

    def invoice(self, **fields: Any) -> dict[str, Any]:
        body = invoice_body(self) | fields
        found: dict[str, Any] = self.result(self.http.post("invoices/invoices", json={"invoice": body}))["invoice"]
        return found

    def payment(self, invoice: dict[str, Any], amount: str = "10.00", **fields: Any) -> dict[str, Any]:
        body = {"invoiceid": invoice["id"], "amount": {"amount": amount}, "date": "2026-12-04", **fields}
        found: dict[str, Any] = self.result(self.http.post("payments/payments", json={"payment": body}))["payment"]
        return found

    def credit_note(self, client_id: int, **fields: Any) -> dict[str, Any]:
        body = credit_body(client_id) | fields
        found: dict[str, Any] = self.result(self.http.post("credit_notes/credit_notes", json={"credit_note": body}))[
            "credit_note"
        ]
        return found

    def listed(self, path: str, **params: str) -> list[dict[str, Any]]:
        plural = path.split("/")[1]
        found: list[dict[str, Any]] = self.result(self.http.get(path, params=params))[plural]
        return found


LINE = {"type": 0, "name": "Appointment", "description": "Massage", "qty": 1, "unit_cost": {"amount": "80.00"}}


def invoice_body(business: Business) -> dict[str, Any]:
    return {"customerid": business.client()["id"], "create_date": "2026-12-03", "lines": [dict(LINE)]}


def credit_body(client_id: int) -> dict[str, Any]:
    return {"clientid": client_id, "create_date": "2026-12-05", "lines": [dict(LINE, unit_cost={"amount": "5.00"})]}


@pytest.fixture
def business() -> Iterator[Business]:
    with FakeFreshBooks(clock=FakeClock(frozen=True)) as fake:
        fake.add_business(ACCOUNT, currency="USD", name="Studio Nord")
        token = fake.issue_tokens(ACCOUNT).access_token
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"{fake.url}/accounting/account/{ACCOUNT}/", headers=headers, timeout=30) as http:
            yield Business(fake, http)


def refused(response: httpx.Response, name: str) -> bool:
    """FreshBooks' error body naming `name` as not supported by this fake (400 for a parameter, 422 a field)."""
    if response.status_code not in (400, 422):
        return False
    errors = response.json().get("response", {}).get("errors", [])
    return any(NOT_SUPPORTED in str(e.get("message")) and name in str(e.get("message")) for e in errors)


# ----------------------------------------------------------------------------------------------- query walk


def _ids(records: list[dict[str, Any]]) -> list[int]:
    return [int(record["id"]) for record in records]


def _paging(path: str, make: Callable[[Business], Any]) -> Callable[[Business], None]:
    def probe(business: Business) -> None:
        for _ in range(3):
            make(business)
        total = len(business.listed(path, per_page="100"))
        first = business.result(business.http.get(path, params={"page": "1", "per_page": "2"}))
        second = business.result(business.http.get(path, params={"page": "2", "per_page": "2"}))
        plural = path.split("/")[1]
        assert (len(first[plural]), len(second[plural])) == (2, total - 2)
        assert (first["page"], first["pages"], first["per_page"], first["total"]) == (1, -(-total // 2), 2, total)
        refused_page = business.http.get(path, params={"page": "zero"})
        assert refused_page.status_code == 400

    return probe


def _filter(path: str, name: str, make: Callable[[Business], tuple[str, list[int]]]) -> Callable[[Business], None]:
    """`search[name]=value` lists exactly the records `make` says it should."""

    def probe(business: Business) -> None:
        value, wanted = make(business)
        found = _ids(business.listed(path, **{name: value}))
        assert sorted(found) == sorted(wanted), (found, wanted)
        assert len(business.listed(path)) > len(wanted) or name == "search[vis_state]"

    return probe


def _clients_email(business: Business) -> tuple[str, list[int]]:
    jane = business.client(email="jane@example.com")
    business.client(email="JANE@example.com")  # exact: another spelling is another address
    business.client(email="sam@example.com")
    return "jane@example.com", [jane["id"]]


def _clients_like(name: str) -> Callable[[Business], tuple[str, list[int]]]:
    def make(business: Business) -> tuple[str, list[int]]:
        kept = business.client(**{name: "Marguerite"})
        business.client(**{name: "Sam"})
        return "GUERI", [kept["id"]]

    return make


def _clients_vis_state(business: Business) -> tuple[str, list[int]]:
    business.client()
    business.client()
    return "1", []  # no client is deleted: asking for deleted ones leaves the active ones out


def _clients_userid(business: Business) -> tuple[str, list[int]]:
    one = business.client()
    business.client()
    return str(one["id"]), [one["id"]]


def _invoice_by(name: str, value_of: Callable[[dict[str, Any]], Any]) -> Callable[[Business], tuple[str, list[int]]]:
    def make(business: Business) -> tuple[str, list[int]]:
        ours = business.invoice(po_number="acuity-7", invoice_number="ACU-7", notes="Booked by Marguerite")
        business.invoice(po_number="acuity-8", notes="Booked by Sam")
        return str(value_of(ours)), [ours["id"]]

    return make


def _invoice_v3_status(business: Business) -> tuple[str, list[int]]:
    sent = business.invoice()
    business.invoice()
    business.result(
        business.http.put(f"invoices/invoices/{sent['id']}", json={"invoice": {"action_mark_as_sent": True}})
    )
    return "sent", [sent["id"]]


def _invoice_vis_state(business: Business) -> tuple[str, list[int]]:
    business.invoice()
    deleted = business.invoice()
    business.result(business.http.put(f"invoices/invoices/{deleted['id']}", json={"invoice": {"vis_state": 1}}))
    assert deleted["id"] not in _ids(business.listed("invoices/invoices"))  # deleted ones only when asked for
    return "1", [deleted["id"]]


def _payment_by(name: str) -> Callable[[Business], tuple[str, list[int]]]:
    def make(business: Business) -> tuple[str, list[int]]:
        ours = business.payment(business.invoice())
        business.payment(business.invoice())
        return str(ours["invoiceid" if name == "invoiceid" else "clientid"]), [ours["id"]]

    return make


def _payment_vis_state(business: Business) -> tuple[str, list[int]]:
    invoice = business.invoice()
    business.payment(invoice)
    gone = business.payment(invoice)
    business.result(business.http.put(f"payments/payments/{gone['id']}", json={"payment": {"vis_state": 1}}))
    return "1", [gone["id"]]


def _credit_by_client(business: Business) -> tuple[str, list[int]]:
    client = business.client()
    ours = business.credit_note(client["id"])
    business.credit_note(business.client()["id"])
    return str(client["id"]), [ours["id"]]


def _credit_vis_state(business: Business) -> tuple[str, list[int]]:
    business.credit_note(business.client()["id"])
    return "1", []  # none is deleted: asking for deleted ones leaves the active one out


CLIENTS, INVOICES, PAYMENTS, CREDIT_NOTES = LISTS


def _makers() -> dict[str, Callable[[Business], Any]]:
    return {
        CLIENTS: lambda b: b.client(),
        INVOICES: lambda b: b.invoice(),
        PAYMENTS: lambda b: b.payment(b.invoice()),
        CREDIT_NOTES: lambda b: b.credit_note(b.client()["id"]),
    }


def _filters() -> dict[tuple[str, str], Callable[[Business], tuple[str, list[int]]]]:
    invoice_values: dict[str, Callable[[dict[str, Any]], Any]] = {
        "po_number": lambda i: i["po_number"],
        "invoice_number": lambda i: i["invoice_number"],
        "customerid": lambda i: i["customerid"],
        "invoiceid": lambda i: i["id"],
        "notes_like": lambda _i: "MARGUERITE",
    }
    return {
        (CLIENTS, "search[email]"): _clients_email,
        (CLIENTS, "search[fname_like]"): _clients_like("fname"),
        (CLIENTS, "search[lname_like]"): _clients_like("lname"),
        (CLIENTS, "search[organization_like]"): _clients_like("organization"),
        (CLIENTS, "search[vis_state]"): _clients_vis_state,
        (CLIENTS, "search[userid]"): _clients_userid,
        **{(INVOICES, f"search[{name}]"): _invoice_by(name, value) for name, value in invoice_values.items()},
        (INVOICES, "search[v3_status]"): _invoice_v3_status,
        (INVOICES, "search[vis_state]"): _invoice_vis_state,
        (PAYMENTS, "search[invoiceid]"): _payment_by("invoiceid"),
        (PAYMENTS, "search[clientid]"): _payment_by("clientid"),
        (PAYMENTS, "search[vis_state]"): _payment_vis_state,
        (CREDIT_NOTES, "search[clientid]"): _credit_by_client,
        (CREDIT_NOTES, "search[vis_state]"): _credit_vis_state,
    }


QUERY_PROBES: dict[tuple[str, str], Callable[[Business], None]] = {
    **{(path, name): _paging(path, make) for path, make in _makers().items() for name in PAGING},
    **{(path, name): _filter(path, name, make) for (path, name), make in _filters().items()},
}


@pytest.mark.parametrize(("path", "name"), QUERY_CASES, ids=[" ".join(case) for case in QUERY_CASES])
def test_each_documented_list_parameter_is_applied_or_refused(business: Business, path: str, name: str) -> None:
    probe = QUERY_PROBES.get((path, name))
    if probe is not None:
        probe(business)
        return
    response = business.http.get(path, params={name: "2026-01-01" if "min" in name or "max" in name else "x"})
    assert refused(response, name), f"{path} accepted ?{name} and no probe shows it applied: {response.text[:300]}"


@pytest.mark.parametrize(("path", "name"), RECORD_CASES, ids=[" ".join(case) for case in RECORD_CASES])
def test_a_single_record_takes_no_parameter(business: Business, path: str, name: str) -> None:
    made = _makers()[path](business)
    assert refused(business.http.get(f"{path}/{made['id']}", params={name: "1"}), name)


def test_every_probe_is_of_a_walked_parameter() -> None:
    assert set(QUERY_PROBES) <= set(QUERY_CASES)


def test_undocumented_parameters_are_refused_and_unreadable_values_are_told_apart(business: Business) -> None:
    """A parameter FreshBooks does not document is refused as not supported; one the fake applies, given a value it
    cannot read (or given twice), is a 400 that says so, with FreshBooks' paging errno for page and per_page."""
    for path in LISTS:
        assert refused(business.http.get(path, params={"fields": "all"}), "fields"), path
    for path, name, value, errno in (
        ("invoices/invoices", "page", "zero", 1013),
        ("payments/payments", "per_page", "-1", 1014),
        ("invoices/invoices", "search[customerid]", "abc", None),
        ("users/clients", "search[vis_state]", "3", None),
    ):
        response = business.http.get(path, params={name: value})
        (error,) = response.json()["response"]["errors"]
        assert response.status_code == 400, (name, response.text)
        assert name in error["message"], error
        assert NOT_SUPPORTED not in error["message"], error
        if errno is not None:
            assert error["errno"] == errno, error
    twice = business.http.get("users/clients", params=[("page", "1"), ("page", "2")])
    assert twice.status_code == 400
    assert "more than once" in twice.text


def test_a_refused_write_changes_nothing(business: Business) -> None:
    """A field beside the wrapped body, or inside it, that the fake does not apply: 422, and nothing is written."""
    beside = business.http.post("users/clients", json={"client": {"fname": "Jane"}, "notify": True})
    inside = business.http.post("users/clients", json={"client": {"fname": "Jane", "late_fee": {"days": 5}}})
    assert (beside.status_code, inside.status_code) == (422, 422)
    assert refused(beside, "notify")
    assert refused(inside, "late_fee")
    assert business.listed("users/clients") == []
    invoice = business.invoice(notes="kept")
    changed = business.http.put(
        f"invoices/invoices/{invoice['id']}", json={"invoice": {"notes": "changed", "discount_value": "10"}}
    )
    assert refused(changed, "discount_value")
    assert business.result(business.http.get(f"invoices/invoices/{invoice['id']}"))["invoice"]["notes"] == "kept"


# ----------------------------------------------------------------------------------------------- body walk


def fixture_client_fields() -> set[str]:
    client = json.loads((FIXTURES / "create_client_response.json").read_text())["response"]["result"]["client"]
    return set(client)


# The research's writable fields (§B1.2 from the Node SDK's transformInvoiceRequest, §B1.3), and the fake's answer.
INVOICE_FIELDS = {
    "customerid", "create_date", "due_offset_days", "currency_code", "lines", "invoice_number", "po_number", "notes",
    "terms", "discount_value", "deposit_amount", "language", "fname", "lname", "organization", "email", "address",
    "id", "invoiceid", "accountid", "accounting_systemid", "amount", "outstanding", "paid", "status", "v3_status",
    "display_status", "payment_status", "created_at", "updated", "vis_state",
}  # fmt: skip
INVOICE_ACTIONS = {
    "vis_state", "action_email", "email_recipients", "email_include_pdf", "invoice_customized_email",
    "action_mark_as_sent",
}  # fmt: skip
LINE_FIELDS = {
    "type", "name", "description", "qty", "unit_cost", "taxName1", "taxAmount1", "taxName2", "taxAmount2",
    "expenseid", "amount", "lineid", "compounded_tax",
}  # fmt: skip
PAYMENT_FIELDS = {
    "invoiceid", "amount", "date", "type", "note", "id", "logid", "clientid", "vis_state", "overpaymentid",
    "from_credit", "creditid", "updated",
}  # fmt: skip
CREDIT_NOTE_FIELDS = {
    "clientid", "create_date", "currency_code", "notes", "credit_type", "lines", "id", "creditid", "credit_number",
    "status", "amount", "language", "terms",
}  # fmt: skip
WRITES: dict[str, tuple[str, set[str]]] = {
    "POST users/clients": ("client", fixture_client_fields() | {"note"}),
    "POST invoices/invoices": ("invoice", INVOICE_FIELDS),
    "PUT invoices/invoices/{id}": ("invoice", INVOICE_FIELDS | INVOICE_ACTIONS),
    "POST payments/payments": ("payment", PAYMENT_FIELDS),
    "PUT payments/payments/{id}": ("payment", PAYMENT_FIELDS),
    "POST credit_notes/credit_notes": ("credit_note", CREDIT_NOTE_FIELDS),
}


def body_cases() -> list[tuple[str, str]]:
    cases = []
    for route, (_single, names) in WRITES.items():
        cases += [(route, name) for name in sorted(names)]
        if "lines" in names:
            cases += [(route, f"lines[].{name}") for name in sorted(LINE_FIELDS)]
            cases += [(route, f"lines[].unit_cost.{name}") for name in ("amount", "code")]
        if route.endswith("payments/payments"):
            cases += [(route, f"amount.{name}") for name in ("amount", "code")]
    return cases


BODY_CASES = body_cases()


def _write(business: Business, route: str) -> tuple[str, str, dict[str, Any]]:
    """(method, url, fields) of a write FreshBooks accepts as it is: the base a walked field is added to."""
    method, path = route.split(" ", 1)
    if path == "users/clients":
        return method, path, {"fname": "Jane", "lname": f"Doe {next(business.numbers)}"}
    if path == "invoices/invoices":
        return method, path, invoice_body(business)
    if path == "invoices/invoices/{id}":
        return method, f"invoices/invoices/{business.invoice()['id']}", {"notes": "changed"}
    if path == "payments/payments":
        return (
            method,
            path,
            {"invoiceid": business.invoice()["id"], "amount": {"amount": "10.00"}, "date": "2026-12-04"},
        )
    if path == "payments/payments/{id}":
        return method, f"payments/payments/{business.payment(business.invoice())['id']}", {"vis_state": 0}
    return method, path, credit_body(business.client()["id"])


def _with(fields: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    fields = copy.deepcopy(fields)
    parts = name.split(".")
    target: Any = fields
    for part in parts[:-1]:
        key = part.removesuffix("[]")
        target = target.setdefault(key, [{}] if part.endswith("[]") else {})
        target = target[0] if isinstance(target, list) else target
    target[parts[-1]] = value
    return fields


def _send(business: Business, route: str, name: str | None = None, value: Any = None) -> httpx.Response:
    method, url, fields = _write(business, route)
    single = WRITES[route][0]
    body = _with(fields, name, value) if name else fields
    return business.http.request(method, url, json={single: body})


def _answer(business: Business, route: str, name: str, value: Any) -> dict[str, Any]:
    response = _send(business, route, name, value)
    found: dict[str, Any] = business.result(response)[WRITES[route][0]]
    return found


def _shown(record: Any, name: str) -> Any:
    for part in name.split("."):
        record = record[0] if isinstance(record, list) and record else record
        record = record.get(part.removesuffix("[]")) if isinstance(record, dict) else None
    return record


@dataclass(frozen=True)
class Stored:
    value: Any
    shown: Any = None


@dataclass(frozen=True)
class Computed:
    value: Any


@dataclass(frozen=True)
class Probe:
    check: Callable[[Business], None]


def _organization(business: Business) -> None:
    assert business.client(organization="Doe Studio")["organization"] == "Doe Studio"
    assert business.client(fname="Ann", lname="Lee")["organization"] == "Ann Lee"  # filled from the names


def _client_currency(business: Business) -> None:
    assert business.client(currency_code="CAD")["currency_code"] == "CAD"
    assert business.client()["currency_code"] == "USD"


def _invoice_customer(route: str) -> Probe:
    def check(business: Business) -> None:
        client = business.client(fname="Marguerite")
        invoice = _answer(business, route, "customerid", client["id"])
        assert (invoice["customerid"], invoice["fname"] if route.startswith("POST") else client["fname"]) == (
            client["id"],
            "Marguerite",
        )
        assert _send(business, route, "customerid", 999_999).status_code == 404

    return Probe(check)


def _lines(route: str) -> Probe:
    def check(business: Business) -> None:
        lines = [dict(LINE, qty=2, unit_cost={"amount": "40.00"}), dict(LINE, name="Tip", unit_cost={"amount": "5.00"})]
        record = _answer(business, route, "lines", lines)
        assert [line["amount"]["amount"] for line in record["lines"]] == ["80.00", "5.00"]
        assert record["amount"]["amount"] == "85.00"

    return Probe(check)


def _taxes(route: str, number: int) -> Probe:
    def check(business: Business) -> None:
        line = dict(LINE, **{f"taxName{number}": "HST", f"taxAmount{number}": "13"})
        record = _answer(business, route, "lines", [line])
        assert record["lines"][0][f"taxName{number}"] == "HST"
        assert record["amount"]["amount"] == "90.40"  # 80.00 + 13 %, on top

    return Probe(check)


def _unit_cost_code(route: str) -> Probe:
    def check(business: Business) -> None:
        same = _answer(business, route, "lines", [dict(LINE, unit_cost={"amount": "80.00", "code": "USD"})])
        assert same["lines"][0]["unit_cost"] == {"amount": "80.00", "code": "USD"}
        other = _send(business, route, "lines", [dict(LINE, unit_cost={"amount": "80.00", "code": "EUR"})])
        assert other.status_code == 422
        assert "unit_cost.code" in other.text

    return Probe(check)


def _line_type(route: str) -> Probe:
    def check(business: Business) -> None:
        assert _answer(business, route, "lines", [dict(LINE, type=0)])["lines"][0]["type"] == 0
        assert refused(_send(business, route, "lines", [dict(LINE, type=1)]), "type")

    return Probe(check)


def _invoice_currency(business: Business) -> None:
    invoice = _answer(business, "POST invoices/invoices", "currency_code", "CAD")
    assert invoice["currency_code"] == "CAD"
    assert invoice["amount"] == {"amount": "80.00", "code": "CAD"}


def _vis_state_invoice(business: Business) -> None:
    invoice = business.invoice()
    deleted = business.result(
        business.http.put(f"invoices/invoices/{invoice['id']}", json={"invoice": {"vis_state": 1, "notes": "dropped"}})
    )["invoice"]
    assert (deleted["vis_state"], deleted["notes"]) == (1, "")  # a vis_state PUT drops the rest, as documented


def _action_email(business: Business) -> None:
    invoice = business.invoice()
    action = {
        "action_email": True,
        "email_recipients": ["sam@example.com"],
        "invoice_customized_email": {"subject": "Your invoice", "body": "Thank you"},
        "notes": "dropped",
    }
    sent = business.result(business.http.put(f"invoices/invoices/{invoice['id']}", json={"invoice": action}))["invoice"]
    assert (sent["v3_status"], sent["notes"]) == ("sent", "")  # an action drops the data, as documented
    assert business.fake.state(ACCOUNT)["emails"][-1] == {
        "invoiceid": invoice["id"],
        "recipients": ["sam@example.com"],
        "subject": "Your invoice",
        "body": "Thank you",
    }


def _mark_as_sent(business: Business) -> None:
    invoice = business.invoice()
    marked = business.http.put(f"invoices/invoices/{invoice['id']}", json={"invoice": {"action_mark_as_sent": True}})
    assert business.result(marked)["invoice"]["v3_status"] == "sent"
    assert business.fake.state(ACCOUNT)["emails"] == []


def _payment_invoice(business: Business) -> None:
    invoice = business.invoice()
    payment = business.payment(invoice, "30.00", type="Cash", note="acuity:ch_1")
    assert (payment["invoiceid"], payment["clientid"], payment["type"], payment["note"]) == (
        invoice["id"],
        invoice["customerid"],
        "Cash",
        "acuity:ch_1",
    )
    read = business.result(business.http.get(f"invoices/invoices/{invoice['id']}"))["invoice"]
    assert read["outstanding"]["amount"] == "50.00"


def _payment_amount_code(business: Business) -> None:
    invoice = business.invoice()
    assert business.payment(invoice, "10.00")["amount"] == {"amount": "10.00", "code": "USD"}
    body = {"invoiceid": invoice["id"], "amount": {"amount": "10.00", "code": "EUR"}, "date": "2026-12-04"}
    other = business.http.post("payments/payments", json={"payment": body})
    assert other.status_code == 422
    assert "amount.code" in other.text


def _payment_vis_state_change(business: Business) -> None:
    invoice = business.invoice()
    payment = business.payment(invoice, "80.00")
    assert business.result(business.http.get(f"invoices/invoices/{invoice['id']}"))["invoice"]["v3_status"] == "paid"
    gone = business.http.put(f"payments/payments/{payment['id']}", json={"payment": {"vis_state": 1}})
    assert business.result(gone)["payment"]["vis_state"] == 1
    reopened = business.result(business.http.get(f"invoices/invoices/{invoice['id']}"))["invoice"]
    assert reopened["outstanding"]["amount"] == "80.00"


def _credit_client(business: Business) -> None:
    client = business.client()
    assert business.credit_note(client["id"])["clientid"] == client["id"]
    body = credit_body(999_999)
    assert business.http.post("credit_notes/credit_notes", json={"credit_note": body}).status_code == 404


Expectation = Stored | Computed | Probe
INVOICE_DATA = {"invoice_number": "ACU-9", "po_number": "acuity-9", "notes": "Massage", "terms": "On receipt"}


def body_expectations() -> dict[tuple[str, str], Expectation]:
    return _client_expectations() | _invoice_expectations() | _payment_expectations() | _credit_expectations()


def _client_expectations() -> dict[tuple[str, str], Expectation]:
    found: dict[tuple[str, str], Expectation] = {}
    client = "POST users/clients"
    for name in (
        "fname", "lname", "email", "note", "mob_phone", "bus_phone", "home_phone", "fax", "p_street", "p_street2",
        "p_city", "p_province", "p_code", "p_country", "s_street", "s_street2", "s_city", "s_province", "s_code",
        "s_country", "vat_name", "vat_number", "language",
    ):  # fmt: skip
        found[(client, name)] = Stored(f"probe {name}")
    found[(client, "organization")] = Probe(_organization)
    found[(client, "currency_code")] = Probe(_client_currency)
    for name in (
        "id", "userid", "accounting_systemid", "signup_date", "updated", "username", "uuid", "level", "role",
        "last_activity", "last_login", "num_logins", "notified", "direct_link_token", "statement_token",
        "has_retainer", "retainer_id", "subdomain",
    ):  # fmt: skip
        found[(client, name)] = Computed(987654)
    return found


def _invoice_expectations() -> dict[tuple[str, str], Expectation]:
    found: dict[tuple[str, str], Expectation] = {}
    for route in ("POST invoices/invoices", "PUT invoices/invoices/{id}"):
        found[(route, "customerid")] = _invoice_customer(route)
        found[(route, "create_date")] = Stored("2026-12-24")
        for name, value in INVOICE_DATA.items():
            found[(route, name)] = Stored(value)
        found[(route, "due_offset_days")] = Stored(5)
        found[(route, "lines")] = _lines(route)
        for name in ("type",):
            found[(route, f"lines[].{name}")] = _line_type(route)
        for name, value in {"name": "Tip", "description": "Deep tissue"}.items():
            found[(route, f"lines[].{name}")] = Stored(value)
        found[(route, "lines[].qty")] = _lines(route)
        found[(route, "lines[].unit_cost")] = _lines(route)
        found[(route, "lines[].unit_cost.amount")] = _lines(route)
        found[(route, "lines[].unit_cost.code")] = _unit_cost_code(route)
        for number in (1, 2):
            found[(route, f"lines[].taxName{number}")] = _taxes(route, number)
            found[(route, f"lines[].taxAmount{number}")] = _taxes(route, number)
        for name in ("lineid", "amount"):
            found[(route, f"lines[].{name}")] = Computed({"amount": "1.00"} if name == "amount" else 987654)
        for name in (
            "id", "invoiceid", "accountid", "accounting_systemid", "amount", "outstanding", "paid", "status",
            "v3_status", "display_status", "payment_status", "created_at", "updated",
        ):  # fmt: skip
            found[(route, name)] = Computed({"amount": "1.00"} if name in ("amount", "outstanding", "paid") else 987654)
    found[("POST invoices/invoices", "currency_code")] = Probe(_invoice_currency)
    update = "PUT invoices/invoices/{id}"
    found[(update, "vis_state")] = Probe(_vis_state_invoice)
    for name in ("action_email", "email_recipients", "invoice_customized_email"):
        found[(update, name)] = Probe(_action_email)
    found[(update, "action_mark_as_sent")] = Probe(_mark_as_sent)
    return found


def _payment_expectations() -> dict[tuple[str, str], Expectation]:
    found: dict[tuple[str, str], Expectation] = {}
    payment = "POST payments/payments"
    for name in ("invoiceid", "type", "note", "date", "amount", "amount.amount"):
        found[(payment, name)] = Probe(_payment_invoice)
    found[(payment, "amount.code")] = Probe(_payment_amount_code)
    for name in ("id", "logid", "updated", "overpaymentid", "from_credit", "creditid"):
        found[(payment, name)] = Computed(987654)
    found[("PUT payments/payments/{id}", "vis_state")] = Probe(_payment_vis_state_change)
    return found


def _credit_expectations() -> dict[tuple[str, str], Expectation]:
    found: dict[tuple[str, str], Expectation] = {}
    credit = "POST credit_notes/credit_notes"
    found[(credit, "clientid")] = Probe(_credit_client)
    found[(credit, "create_date")] = Stored("2026-12-24")
    found[(credit, "currency_code")] = Stored("CAD")
    found[(credit, "notes")] = Stored("acuity:appointment:1:credit:1")
    found[(credit, "credit_type")] = Stored("goodwill")
    found[(credit, "lines")] = _lines(credit)
    found[(credit, "lines[].type")] = _line_type(credit)
    found[(credit, "lines[].name")] = Stored("Credit")
    found[(credit, "lines[].description")] = Stored("Price lowered")
    for name in ("qty", "unit_cost", "unit_cost.amount"):
        found[(credit, f"lines[].{name}")] = _lines(credit)
    found[(credit, "lines[].unit_cost.code")] = _unit_cost_code(credit)
    for number in (1, 2):
        found[(credit, f"lines[].taxName{number}")] = Stored("HST")
        found[(credit, f"lines[].taxAmount{number}")] = Stored("13")
    for name in ("lineid", "amount"):
        found[(credit, f"lines[].{name}")] = Computed({"amount": "1.00"} if name == "amount" else 987654)
    for name in ("id", "creditid", "credit_number", "status", "amount"):
        found[(credit, name)] = Computed({"amount": "1.00"} if name == "amount" else 987654)
    return found


def _equal(actual: Any, expected: Any) -> None:
    assert actual == expected, (actual, expected)


BODY_EXPECTATIONS = body_expectations()


@pytest.mark.parametrize(("route", "name"), BODY_CASES, ids=[" ".join(case) for case in BODY_CASES])
def test_each_field_is_applied_computed_as_freshbooks_does_or_refused(
    business: Business, route: str, name: str
) -> None:
    expected = BODY_EXPECTATIONS.get((route, name))
    if isinstance(expected, Probe):
        expected.check(business)
        return
    if isinstance(expected, Stored):
        shown = _shown(_answer(business, route, name, expected.value), name)
        assert shown == (expected.value if expected.shown is None else expected.shown), shown
        return
    if isinstance(expected, Computed):
        shown = _shown(_answer(business, route, name, expected.value), name)
        assert shown != expected.value, f"{route} {name} shows what the client sent"
        return
    response = _send(business, route, name, "probe")
    field_name = name.rsplit(".", maxsplit=1)[-1].removesuffix("[]")
    assert refused(response, field_name), (
        f"{route} accepted {name} and no probe shows it applied: {response.text[:300]}"
    )


def test_every_body_expectation_is_of_a_walked_field() -> None:
    assert set(BODY_EXPECTATIONS) <= set(BODY_CASES)


# ----------------------------------------------------------------------------------------------- the tour


def _route_of(method: str, path: str) -> str:
    relative = path.split(f"/accounting/account/{ACCOUNT}/", 1)[1]
    for route in [*(f"GET {p}" for p in LISTS), *(f"GET {p}/{{id}}" for p in LISTS), *WRITES]:
        route_method, pattern = route.split(" ", 1)
        if route_method == method and compile_pattern(pattern).match(relative):
            return route
    return f"{method} {relative}"


def test_the_walk_covers_every_route_parameter_and_field_the_adapter_and_the_reader_send(business: Business) -> None:
    token = business.fake.issue_tokens(ACCOUNT).access_token
    with httpx.Client(timeout=30) as http:
        ledger = FreshBooksLedger(
            http=http, account_id=ACCOUNT, access_token=lambda _refused: Secret(token), api_url=business.fake.url
        )
        tour(ledger, "USD", TaxMode.NON_TAXABLE)
    reader = FreshBooksBooks(business.fake.url, ACCOUNT, lambda: token)
    try:
        books = reader.read()
        reader.details(books.customers[0].id)
    finally:
        reader.close()
    walked = {f"GET {p}" for p in LISTS} | {f"GET {p}/{{id}}" for p in LISTS} | set(WRITES)
    body_names = set(BODY_CASES)
    sent = business.fake.requests(ACCOUNT)
    assert len(sent) > 20
    for request in sent:
        route = _route_of(request["method"], request["path"])
        assert route in walked, f"the walk misses {route}"
        for name in request["query"]:
            assert (route.split(" ", 1)[1], name) in QUERY_CASES, f"the walk misses {route} ?{name}"
        if isinstance(request["body"], dict):
            single = WRITES[route][0]
            for name in _paths(request["body"][single]):
                assert (route, name) in body_names, f"the walk misses {route} field {name}"


def _paths(fields: dict[str, Any]) -> set[str]:
    found = set(fields)
    for line in fields.get("lines", []):
        found |= {f"lines[].{name}" for name in line}
        found |= {f"lines[].unit_cost.{name}" for name in line.get("unit_cost", {})}
    if isinstance(fields.get("amount"), dict):
        found |= {f"amount.{name}" for name in fields["amount"]}
    return found
