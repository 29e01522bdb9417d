"""Calls per synced appointment or order: each ledger's sync function (QuickBooks, Xero, FreshBooks) against the
minimum the APIs allow.

    .venv/bin/python bench/sync/run.py

The same 8 scenarios run for each ledger, one ledger at a time, each in a rig of its own (as
tests/integration/test_sync_quickbooks_function.py sets one up): moto in-process (a fresh mock_aws) with the
template's table, key, queues and OAuth secrets; the fake Acuity and the ledger's fake on 127.0.0.1; one tenant
connected to that ledger alone (acuity_sync_toolkit.stack.connections.connected_tenant); for Xero, the tenant's settings
name the invoice (REVENUE) and payment (BANK) accounts, so that no chart-of-accounts read is made. The handler
module the template names for the ledger's function is loaded once, like a container, and warmed with one
uncounted booking of another client; then each scenario's message is queued and received (uncounted), the handler
is invoked in-process with that SQS event (counted), and the poller's DeleteMessage follows (uncounted: Lambda's
poller makes it, not our code).

Counted per invocation:
- AWS: botocore `before-call` on boto3's default session, registered before the handler module is loaded. One
  rig and one invocation at a time, so every operation counted is that invocation's.
- The ledger: a subclass of its fake records every HTTP request it serves (method, path, query), the OAuth token
  endpoint apart; nothing is added to product code.
- Acuity: the fake Acuity has no request log, so the bench runs a subclass of it whose `_handle` counts every
  API request (method and path) before serving it.

Whether a scenario ended as expected is read back through the ledger's own API with the neutral readers of
acuity_sync_toolkit.demo.books (customers, invoices, payments; a voided or deleted invoice reads as "voided"), plus the
fake's e-mail log for the send-mode scenario. Those reads are made between invocations, so they are not counted;
the fakes' own rate limits are raised so that they cannot push the function's calls into a 429 (the function's
pacing, in DynamoDB, is the product's and is unchanged).

Prints the tables and writes bench/results/sync.json. Exits 1 if a scenario did not end as expected.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import platform
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import botocore
import moto
from moto import mock_aws

from acuity_sync.acuity.client import ACUITY_BUDGET, ACUITY_TENANT_SHARE
from acuity_sync.domain.message import SyncRequest
from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.domain.settings import Mode
from acuity_sync.ledgers.registry import ledger_declaration, parse_settings
from acuity_sync.store.budgets import ACUITY_BUDGET_NAME, BudgetStore, acuity_share_name, ledger_budget_name
from acuity_sync.store.settings import SettingsStore
from acuity_sync_toolkit.demo.books import COMPANY_KEYS, Books, Invoice, LedgerReader, reader
from acuity_sync_toolkit.fakes.acuity import FakeAcuity
from acuity_sync_toolkit.fakes.freshbooks import FakeFreshBooks
from acuity_sync_toolkit.fakes.httpserver import Request, Response
from acuity_sync_toolkit.fakes.quickbooks import FakeQuickBooks
from acuity_sync_toolkit.fakes.xero import FakeXero
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack, provision
from acuity_sync_toolkit.stack.connections import LOCAL_LEDGERS, FakeLedger, connected_tenant, emails_sent
from acuity_sync_toolkit.stack.pollers import sqs_event

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))  # tests.support, as when run from the project root

from tests.support.aws import TEMPLATE  # noqa: E402
from tests.support.bookings import booking  # noqa: E402
from tests.support.http_events import FakeLambdaContext  # noqa: E402

RESULTS = PROJECT_ROOT / "bench" / "results" / "sync.json"
REGION = "us-east-1"
TENANT = "5555555555555555cccccccccccccccc"
USER, KEY = 8101, "bench-acuity-key-8101"
# The fakes' limits, raised for the bench's own reads (see the docstring); the function paces far below them.
UNLIMITED = 1_000_000


# ----------------------------------------------------------------------------------------------- counters


class AwsCounter:
    """AWS operations through botocore's `before-call` (registered before any of the function's clients exist)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self.enabled = False
        self.taken: list[str] = []

        self.detail: list[str] = []

    def __call__(self, model: Any, params: Any = None, **_kwargs: Any) -> None:
        if self.enabled:
            with self._lock:
                self._counts[str(model.name)] += 1
                self.detail.append(f"{model.name} {describe_item(params)}".rstrip())

    def take(self) -> dict[str, int]:
        with self._lock:
            counts = dict(sorted(self._counts.items()))
            self._counts.clear()
            self.taken, self.detail = self.detail, []
        return counts


def sort_key_kind(key: Any) -> str:
    """`pk`/`sk` of a DynamoDB key, ids cut off: what kind of item it is (PROFILE, CONN#quickbooks, APPT, ...)."""
    if not isinstance(key, dict):
        return ""
    pk = str(key.get("pk", {}).get("S", "")).split("#")[0]
    sk = str(key.get("sk", {}).get("S", ""))
    parts = sk.split("#")
    kind = "#".join(parts[:2]) if parts[0] in ("CONN", "SETTINGS") else parts[0]
    return f"{pk}/{kind}" if pk != "TENANT" else kind


def describe_item(params: Any) -> str:
    body = params.get("body") if isinstance(params, dict) else None
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except ValueError:
            return ""
    if not isinstance(body, dict):
        return ""
    if "TransactItems" in body:
        parts = []
        for item in body["TransactItems"]:
            for action, spec in item.items():
                parts.append(f"{action}:{sort_key_kind(spec.get('Key') or spec.get('Item'))}")
        return "[" + ", ".join(parts) + "]"
    return sort_key_kind(body.get("Key") or body.get("Item"))


class CountingAcuity(FakeAcuity):
    """The fake Acuity, counting every API request (not /_admin) by `METHOD /path` before serving it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def _handle(self, request: Request) -> Response:
        if not request.path.startswith("/_admin"):
            self.calls.append(f"{request.method} {request.path}")
        return super()._handle(request)


@dataclass(frozen=True, slots=True)
class WireCall:
    """One HTTP request a fake ledger served, as it came in."""

    method: str
    path: str
    query: dict[str, str]


class Wire:
    """Every request a fake ledger serves, in order (the fakes' own logs leave out their token or identity
    endpoints, and each keeps its own shape)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[WireCall] = []

    def record(self, request: Request) -> None:
        with self._lock:
            self._calls.append(
                WireCall(request.method, request.path, {key: values[0] for key, values in request.query.items()})
            )

    def __len__(self) -> int:
        with self._lock:
            return len(self._calls)

    def since(self, start: int) -> list[WireCall]:
        with self._lock:
            return self._calls[start:]


class CountingQuickBooks(FakeQuickBooks):
    def __init__(self) -> None:
        self.wire = Wire()
        super().__init__(per_minute=UNLIMITED, per_second=UNLIMITED)

    def _handle(self, request: Request) -> Response:
        self.wire.record(request)
        return super()._handle(request)


class CountingXero(FakeXero):
    def __init__(self) -> None:
        self.wire = Wire()
        super().__init__(per_minute=UNLIMITED)

    def _handle(self, request: Request) -> Response:
        self.wire.record(request)
        return super()._handle(request)


class CountingFreshBooks(FakeFreshBooks):
    def __init__(self) -> None:
        self.wire = Wire()
        super().__init__()

    def _handle(self, request: Request) -> Response:
        self.wire.record(request)
        return super()._handle(request)


CountingLedger = CountingQuickBooks | CountingXero | CountingFreshBooks


# ----------------------------------------------------------------------------------------------- the ledgers

_ID_SEGMENT = re.compile(r"^(\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")
_UNLABELLED_PARAMS = {"minorversion", "page", "per_page", "requestid"}


def path_label(path: str, prefix: str) -> str:
    """The API path after `prefix`, ids as {id}."""
    rest = re.sub(prefix, "", path, count=1)
    return "/".join("{id}" if _ID_SEGMENT.match(part) else part for part in rest.split("/"))


def generic_label(call: WireCall, prefix: str) -> str:
    params = [name for name in call.query if name not in _UNLABELLED_PARAMS]
    return f"{call.method} {path_label(call.path, prefix)}" + (f"?{'&'.join(params)}" if params else "")


def quickbooks_kind(call: WireCall) -> str:
    """GET (read by id), query (the query endpoint), POST (a write)."""
    return "query" if call.path.rstrip("/").lower().endswith("/query") else call.method


def quickbooks_label(call: WireCall) -> str:
    path = path_label(call.path, r"^/v3/company/[^/]+/")
    if path.rstrip("/").lower() == "query":
        words = call.query.get("query", "").split()
        return f"query {words[3] if len(words) > 3 else ' '.join(words)}"
    operation = call.query.get("operation")
    return f"{call.method} {path}" + (f"?operation={operation}" if operation else "")


@dataclass(frozen=True)
class LedgerBench:
    """What the bench needs to know of one ledger."""

    name: LedgerName
    function: str
    queue: str
    company_id: str
    legend: str  # the kinds of call, as the table abbreviates them
    short: dict[str, str]
    make_fake: Callable[[], CountingLedger]
    kind: Callable[[WireCall], str]
    label: Callable[[WireCall], str]

    @property
    def label_name(self) -> str:
        return LOCAL_LEDGERS[self.name].label

    @property
    def token_path(self) -> str:
        return LOCAL_LEDGERS[self.name].token_path


LEDGERS: list[LedgerBench] = [
    LedgerBench(
        LedgerName.QUICKBOOKS,
        "SyncQuickBooksFunction",
        "QuickBooksQueue",
        "4620816365200000009",
        "G=GET q=query P=POST",
        {"GET": "G", "query": "q", "POST": "P"},
        CountingQuickBooks,
        quickbooks_kind,
        quickbooks_label,
    ),
    LedgerBench(
        LedgerName.XERO,
        "SyncXeroFunction",
        "XeroQueue",
        "6f0c5e2a-8d1b-4c3e-9a7f-5555cccc8101",  # Xero's tenant ids are uuids
        "G=GET U=PUT P=POST",
        {"GET": "G", "PUT": "U", "POST": "P"},
        CountingXero,
        lambda call: call.method,
        lambda call: generic_label(call, r"^/api\.xro/2\.0/"),
    ),
    LedgerBench(
        LedgerName.FRESHBOOKS,
        "SyncFreshBooksFunction",
        "FreshBooksQueue",
        "bench8101",
        "G=GET P=POST U=PUT",
        {"GET": "G", "POST": "P", "PUT": "U"},
        CountingFreshBooks,
        lambda call: call.method,
        lambda call: generic_label(call, r"^/accounting/account/[^/]+/|^/auth/api/v1/"),
    ),
]


# ----------------------------------------------------------------------------------------------- rig


@dataclass
class Rig:
    ledger: LedgerBench
    stack: ProvisionedStack
    acuity: CountingAcuity
    fake: CountingLedger
    handler: ModuleType
    aws: AwsCounter
    reader: LedgerReader
    sequence: int = 0

    def event(self, object_id: int, kind: EventKind) -> dict[str, Any]:
        self.sequence += 1
        sqs = boto3.client("sqs", region_name=REGION)
        url = self.stack.queue_urls[self.ledger.queue]
        request = SyncRequest(
            TENANT, kind, object_id, "changed", datetime.now(UTC).isoformat(), f"bench-{object_id}-{self.sequence}"
        )
        sqs.send_message(
            QueueUrl=url,
            MessageBody=request.to_json(),
            MessageGroupId=request.group_id,
            MessageDeduplicationId=request.request_id,
        )
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
        return sqs_event(messages, queue_arn=self.stack.queue_arns[self.ledger.queue], region=REGION)

    def sync(self, object_id: int, kind: EventKind = EventKind.APPOINTMENT) -> Measured:
        """One message through the handler, counted; then the poller's DeleteMessage, uncounted."""
        event = self.event(object_id, kind)
        self.wait_for_budgets()
        wire_before = len(self.fake.wire)
        acuity_before = len(self.acuity.calls)
        self.aws.take()
        self.aws.enabled = True
        try:
            with quiet_stdout():
                result: dict[str, Any] = self.handler.lambda_handler(event, FakeLambdaContext())
        finally:
            self.aws.enabled = False
        aws = self.aws.take()
        failed = {item["itemIdentifier"] for item in result["batchItemFailures"]}
        sqs = boto3.client("sqs", region_name=REGION)
        for record in event["Records"]:
            if record["messageId"] not in failed:
                sqs.delete_message(
                    QueueUrl=self.stack.queue_urls[self.ledger.queue], ReceiptHandle=record["receiptHandle"]
                )
        wire = self.fake.wire.since(wire_before)
        api = [call for call in wire if call.path != self.ledger.token_path]
        return Measured(
            aws=aws,
            aws_calls=self.aws.taken,
            ledger=dict(Counter(self.ledger.kind(call) for call in api)),
            ledger_calls=[self.ledger.label(call) for call in api],
            token_calls=len(wire) - len(api),
            acuity=self.acuity.calls[acuity_before:],
            failed=len(failed),
        )

    def wait_for_budgets(self) -> None:
        """Uncounted: until the tenant's share of Acuity's budget (2/s, burst 4) and the global bucket (7/s, burst
        2) hold a paid booking's 2 calls, and the tenant's bucket for the ledger its calls, as a business booking at
        a human pace would find them. Back to back, the
        scenarios and their preparatory syncs outrun them, and a counted message would be retried for it (a wait,
        not a failure, but not the scenario)."""
        store = BudgetStore(boto3.client("dynamodb", region_name=REGION), self.stack.table_name)
        share, everyone = acuity_share_name(TENANT), ACUITY_BUDGET_NAME
        while store.bucket(share, ACUITY_TENANT_SHARE).tokens < 2 or store.bucket(everyone, ACUITY_BUDGET).tokens < 2:
            time.sleep(0.1)
        # And the tenant's bucket for the ledger its burst, or a scenario's 4 calls (sync/pacing.py takes them in
        # one write while the bucket holds them, one by one when a back-to-back run has emptied it).
        budget = ledger_declaration(self.ledger.name).budget
        wanted = min(budget.burst, 4)
        while store.bucket(ledger_budget_name(TENANT, self.ledger.name), budget).tokens < wanted:
            time.sleep(0.1)

    def book(self, **fields: Any) -> int:
        appointment = self.acuity.book_appointment(USER, booking(**fields))
        return int(appointment["id"])

    def set_mode(self, mode: Mode) -> None:
        store = SettingsStore(boto3.client("dynamodb", region_name=REGION), self.stack.table_name)
        current = store.get(TENANT, self.ledger.name)
        store.put(TENANT, self.ledger.name, current.settings.model_copy(update={"mode": mode}), current.version)

    def books(self) -> Books:
        return self.reader.read()

    def emails(self) -> int:
        return len(emails_sent(self.fake, self.ledger.company_id))


@dataclass
class Measured:
    aws: dict[str, int]
    aws_calls: list[str]
    ledger: dict[str, int]
    ledger_calls: list[str]
    token_calls: int
    acuity: list[str]
    failed: int

    @property
    def writes(self) -> int:
        return sum(1 for call in self.ledger_calls if not call.startswith(("GET ", "query ")))

    def to_json(self) -> dict[str, Any]:
        return {
            "ledger": self.ledger,
            "ledger_total": sum(self.ledger.values()),
            "ledger_calls": self.ledger_calls,
            "ledger_token_calls": self.token_calls,
            "acuity": len(self.acuity),
            "acuity_calls": self.acuity,
            "aws": self.aws,
            "aws_calls": self.aws_calls,
            "dynamodb_total": sum(
                n for op, n in self.aws.items() if op not in ("Decrypt", "Encrypt") and not is_sqs(op)
            ),
            "kms_total": sum(n for op, n in self.aws.items() if op in ("Decrypt", "Encrypt")),
            "sqs_total": sum(n for op, n in self.aws.items() if is_sqs(op)),
            # Budget buckets: a granted take is one UpdateItem from the state the container last saw of the bucket
            # (store/budgets.py); a take that must wait reads the bucket (one GetItem), sleeps, then writes. A
            # bucket not seen for a minute is read first too. The reads depend on timing: counted apart.
            "pacing_takes": self.aws_calls.count("UpdateItem BUDGET/BUCKET"),
            "pacing_waits": self.aws_calls.count("GetItem BUDGET/BUCKET"),
            "failed_messages": self.failed,
        }


def is_sqs(operation: str) -> bool:
    return "Message" in operation or operation.startswith("GetQueue")


DEVNULL = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - open for the whole run: the Logger keeps it


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """The function's logs and metrics (stdout, as in Lambda) go nowhere; the Logger binds the stream at import."""
    with contextlib.redirect_stdout(DEVNULL):
        yield


def load_handler(stack: ProvisionedStack, function: str) -> ModuleType:
    spec = stack.functions[function]
    os.environ.update(spec.environment)
    sys.path[:0] = [str(spec.code_dir), *(str(path) for path in spec.layer_dirs)]
    module_name, _, _function = spec.handler.rpartition(".")
    module_spec = importlib.util.spec_from_file_location(f"_bench_{function}", spec.code_dir / f"{module_name}.py")
    if module_spec is None or module_spec.loader is None:
        raise RuntimeError(f"cannot load {spec.code_dir / module_name}.py")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module
    with quiet_stdout():
        module_spec.loader.exec_module(module)
    return module


def choose_xero_accounts(stack: ProvisionedStack, xero: FakeXero, organisation: str) -> dict[str, str]:
    """The tenant's Xero settings name a REVENUE account for invoice lines and a BANK account for payments, as an
    owner does on the settings page; unset, the adapter reads the chart of accounts (GET /Accounts) once per
    adapter instance, i.e. once per message, to pick defaults."""
    accounts = [a for a in xero.state(organisation)["Accounts"] if a.get("Status") == "ACTIVE"]
    revenue = next(a for a in accounts if a["Type"] == "REVENUE" and a.get("Code") == "200")
    bank = next(a for a in accounts if a["Type"] == "BANK")
    chosen = {"invoice_account_id": str(revenue["AccountID"]), "payment_account_id": str(bank["AccountID"])}
    store = SettingsStore(boto3.client("dynamodb", region_name=REGION), stack.table_name)
    current = store.get(TENANT, LedgerName.XERO)
    document = current.settings.model_dump(mode="json")
    document["xero"] = {**document["xero"], **chosen}
    store.put(TENANT, LedgerName.XERO, parse_settings(LedgerName.XERO, document), current.version)
    return chosen


@contextlib.contextmanager
def rig(ledger: LedgerBench) -> Iterator[Rig]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "ACUITY_SYNC_TIME_SCALE"):
        os.environ.pop(name, None)  # ACUITY_SYNC_TIME_SCALE: the local stack's; the bench runs the real budgets
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "POWERTOOLS_TRACE_DISABLED": "1",
        }
    )
    counter = AwsCounter()
    company = ledger.company_id
    with CountingAcuity() as acuity, ledger.make_fake() as fake, mock_aws():
        stack = provision(TEMPLATE, parameters={LOCAL_LEDGERS[ledger.name].api_url_parameter: fake.url})
        fakes: dict[str, FakeLedger] = {company: fake}
        connected_tenant(stack, acuity, fakes, tenant_id=TENANT, acuity_user_id=USER, acuity_api_key=KEY)
        if isinstance(fake, FakeXero):
            choose_xero_accounts(stack, fake, company)
        # A session of its own for the function, its hook registered before the handler module creates clients
        # (mock_aws resets boto3's default session when it starts, so this comes after).
        boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register("before-call", counter)
        handler = load_handler(stack, ledger.function)
        access = {
            "url": fake.url,
            COMPANY_KEYS[ledger.name]: company,
            "access_token": fake.issue_tokens(company).access_token,  # the bench's own grant, for its reads
        }
        books = reader(ledger.name, access)
        try:
            yield Rig(ledger, stack, acuity, fake, handler, counter, books)
        finally:
            books.close()


# ----------------------------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Minimum:
    """The fewest ledger calls the ledger's API allows for the scenario, and why."""

    calls: int
    why: str


@dataclass
class Scenario:
    name: str
    title: str
    run: Callable[[Rig], tuple[Measured, bool]]  # the counted sync, and whether it ended as expected
    acuity: int
    dynamodb: int
    kms: int
    ledgers: dict[LedgerName, Minimum]
    why: str  # Acuity, DynamoDB and KMS: the same for every ledger
    sqs: int = 0

    def minimum(self, ledger: LedgerName) -> dict[str, int]:
        return {
            "ledger": self.ledgers[ledger].calls,
            "acuity": self.acuity,
            "dynamodb": self.dynamodb,
            "kms": self.kms,
            "sqs": self.sqs,
        }


def totals(books: Books) -> tuple[int, int, int]:
    return len(books.customers), len(books.invoices), len(books.payments)


def marked(books: Books, kind: str, object_id: int) -> list[Invoice]:
    """The invoices carrying our reference for this appointment or order (and not one whose id extends it)."""
    pattern = re.compile(re.escape(f"acuity:{kind}:{object_id}") + r"(?!\d)")
    return [invoice for invoice in books.invoices if pattern.search(invoice.reference)]


def new_draft_unpaid(rig: Rig) -> tuple[Measured, bool]:
    before = totals(rig.books())
    appointment = rig.book(firstName="Ann", lastName="One", email="ann@example.com")
    measured = rig.sync(appointment)
    after = rig.books()
    invoices = marked(after, "appointment", appointment)
    expected = (before[0] + 1, before[1] + 1, before[2])
    return measured, totals(after) == expected and [i.status for i in invoices] == ["open"]


def new_paid(rig: Rig) -> tuple[Measured, bool]:
    before = totals(rig.books())
    appointment = rig.book(firstName="Bob", lastName="Two", email="bob@example.com", amountPaid="80.00")
    measured = rig.sync(appointment)
    after = rig.books()
    invoices = marked(after, "appointment", appointment)
    expected = (before[0] + 1, before[1] + 1, before[2] + 1)
    return measured, totals(after) == expected and [i.status for i in invoices] == ["paid"]


def returning_paid(rig: Rig) -> tuple[Measured, bool]:
    rig.sync(rig.book(firstName="Cat", lastName="Three", email="cat@example.com", amountPaid="80.00"))  # uncounted
    before = totals(rig.books())
    appointment = rig.book(
        firstName="Cat",
        lastName="Three",
        email="cat@example.com",
        amountPaid="80.00",
        datetime="2026-12-10T15:00:00-0500",
    )
    measured = rig.sync(appointment)
    after = rig.books()
    invoices = marked(after, "appointment", appointment)
    same_customer = len(after.customers_with_email("cat@example.com")) == 1
    expected = (before[0], before[1] + 1, before[2] + 1)
    return measured, totals(after) == expected and same_customer and [i.status for i in invoices] == ["paid"]


def send_mode_new(rig: Rig) -> tuple[Measured, bool]:
    rig.set_mode(Mode.SEND)
    try:
        before, emails = totals(rig.books()), rig.emails()
        appointment = rig.book(firstName="Dan", lastName="Four", email="dan@example.com")
        measured = rig.sync(appointment)
        sent = rig.emails() - emails
    finally:
        rig.set_mode(Mode.DRAFT)
    after = rig.books()
    invoices = marked(after, "appointment", appointment)
    expected = (before[0] + 1, before[1] + 1, before[2])
    return measured, totals(after) == expected and sent == 1 and [i.emailed for i in invoices] == [True]


def reschedule(rig: Rig) -> tuple[Measured, bool]:
    appointment = rig.book(firstName="Eve", lastName="Five", email="eve@example.com")
    rig.sync(appointment)  # uncounted
    rig.acuity.change_appointment(USER, appointment, {"datetime": "2026-12-17T10:00:00-0500"})
    before = totals(rig.books())
    measured = rig.sync(appointment)
    after = rig.books()
    invoices = marked(after, "appointment", appointment)
    return measured, totals(after) == before and [i.date for i in invoices] == ["2026-12-17"]


def cancel_unpaid(rig: Rig) -> tuple[Measured, bool]:
    appointment = rig.book(firstName="Fay", lastName="Six", email="fay@example.com")
    rig.sync(appointment)  # uncounted
    rig.acuity.change_appointment(USER, appointment, {"canceled": True})
    before = totals(rig.books())
    measured = rig.sync(appointment)
    after = rig.books()
    invoices = marked(after, "appointment", appointment)
    return measured, totals(after) == before and [i.status for i in invoices] == ["voided"]


def same_again(rig: Rig) -> tuple[Measured, bool]:
    appointment = rig.book(firstName="Gus", lastName="Seven", email="gus@example.com", amountPaid="80.00")
    rig.sync(appointment)  # uncounted
    before = rig.books()
    measured = rig.sync(appointment)
    return measured, rig.books() == before and measured.writes == 0


def order_paid(rig: Rig) -> tuple[Measured, bool]:
    before = totals(rig.books())
    order = rig.acuity.complete_order(
        USER,
        {"total": "120.00", "status": "paid", "firstName": "Hal", "lastName": "Eight", "email": "hal@example.com"},
    )
    measured = rig.sync(int(order["id"]), EventKind.ORDER)
    after = rig.books()
    invoices = marked(after, "order", int(order["id"]))
    expected = (before[0] + 1, before[1] + 1, before[2] + 1)
    return measured, totals(after) == expected and [i.status for i in invoices] == ["paid"]


QB, XERO, FB = LedgerName.QUICKBOOKS, LedgerName.XERO, LedgerName.FRESHBOOKS

# The minimum the APIs allow, per message, with nothing cached between messages: ledger and Acuity calls that no
# implementation can avoid (a customer is looked up by e-mail before one is created; one call per document
# written; ids, versions and states known from our own record are not read again); DynamoDB = read tenant,
# settings and record (and the connection, when the ledger is called) + an intent and a commit per ledger step
# (the crash-safety design) but the customer's: a customer is found by e-mail before one is created, so running
# that step again after a crash finds what it made, and needs no intent (its id and audit entry go with the next
# step's writes); KMS = 0 in a warm container: a ciphertext always opens to the same secret, so a
# container may keep what it decrypted (for five minutes: store/kms.py), and the first message in a container
# decrypts the Acuity API key (and the connection's access token, when the ledger is called); SQS = 0 (the
# poller deletes; ours only calls ChangeMessageVisibility on a retry). Pacing, snapshots and the parking check are
# ours, not the APIs'. The ledger minima need the same steps in every ledger, so the
# DynamoDB minimum is the same for all three.
SCENARIOS: list[Scenario] = [
    Scenario(
        "1",
        "new client, draft, unpaid",
        new_draft_unpaid,
        acuity=1,
        dynamodb=6,
        kms=0,
        ledgers={
            QB: Minimum(3, "customer query + create customer + create invoice"),
            XERO: Minimum(3, "contact search (searchTerm=e-mail) + PUT contact + PUT draft invoice"),
            FB: Minimum(3, "client search (search[email]) + POST client + POST invoice"),
        },
        why="Acuity: the appointment (amountPaid 0.00 says there are no payments to fetch). DynamoDB: 4 reads + "
        "1 step x (intent + commit): the customer step needs no intent (see SCENARIOS).",
    ),
    Scenario(
        "2",
        "new client, paid in full",
        new_paid,
        acuity=2,
        dynamodb=8,
        kms=0,
        ledgers={
            QB: Minimum(4, "customer query + customer + invoice + payment"),
            XERO: Minimum(
                4,
                "contact search + contact + invoice PUT as AUTHORISED (Xero pays only approved invoices, and "
                "PUT /Invoices takes Status AUTHORISED: no separate approval) + payment",
            ),
            FB: Minimum(4, "client search + client + invoice + payment (FreshBooks takes payments on drafts)"),
        },
        why="Acuity: appointment + payments (the transaction id is the payment's reference). DynamoDB: 4 reads + "
        "2 steps x 2 (invoice, payment).",
    ),
    Scenario(
        "3",
        "returning client, paid",
        returning_paid,
        acuity=2,
        dynamodb=9,
        kms=0,
        ledgers={
            QB: Minimum(2, "invoice + payment, the customer's id kept from the first booking (CUST#{hash})"),
            XERO: Minimum(2, "invoice PUT as AUTHORISED + payment, the contact's id kept (CUST#{hash})"),
            FB: Minimum(2, "invoice + payment, the client's id kept (CUST#{hash})"),
        },
        why="Acuity: appointment + payments. DynamoDB: 4 reads + CUST read (instead of a ledger search) + 2 steps x 2.",
    ),
    Scenario(
        "4",
        "send mode, new client",
        send_mode_new,
        acuity=1,
        dynamodb=8,
        kms=0,
        ledgers={
            QB: Minimum(
                4,
                "customer query + customer + invoice + send (the create's answer says EmailStatus NotSet; "
                "QuickBooks never e-mails on create)",
            ),
            XERO: Minimum(
                4,
                "contact search + contact + invoice PUT as AUTHORISED (Xero e-mails only approved invoices) + "
                "POST /Invoices/{id}/Email",
            ),
            FB: Minimum(
                4,
                "client search + client + invoice + PUT action_email (an action PUT drops every other field, so "
                "it is a call of its own; the create's answer says the invoice is an unsent draft)",
            ),
        },
        why="Acuity: the appointment (unpaid). DynamoDB: 4 reads + 2 steps x 2 (invoice, send).",
    ),
    Scenario(
        "5",
        "reschedule (synced)",
        reschedule,
        acuity=1,
        dynamodb=6,
        kms=0,
        ledgers={
            QB: Minimum(
                1,
                "one sparse update, with Id and the SyncToken kept from the last write (a stale one, 5010, costs "
                "a read)",
            ),
            XERO: Minimum(1, "one POST /Invoices/{id} with the new date and lines (Xero asks for no version)"),
            FB: Minimum(1, "one PUT of the invoice (FreshBooks asks for no version)"),
        },
        why="Acuity: the appointment (unpaid). DynamoDB: 4 reads + 1 step x 2.",
    ),
    Scenario(
        "6",
        "cancel unpaid (void)",
        cancel_unpaid,
        acuity=1,
        dynamodb=6,
        kms=0,
        ledgers={
            QB: Minimum(1, "one void (Id + SyncToken kept from the last write)"),
            XERO: Minimum(
                1, "one POST Status DELETED (the record says the invoice is an unapproved draft with no payment)"
            ),
            FB: Minimum(1, "one PUT vis_state 1 (the record says nothing was paid; FreshBooks has no void)"),
        },
        why="Acuity: the appointment. DynamoDB: 4 reads + 1 step x 2.",
    ),
    Scenario(
        "7",
        "same message again",
        same_again,
        acuity=2,
        dynamodb=3,
        kms=0,
        ledgers={
            QB: Minimum(0, "nothing to write"),
            XERO: Minimum(0, "nothing to write"),
            FB: Minimum(0, "nothing to write"),
        },
        why="Nothing to write: no ledger call, so no connection read nor its Decrypt. Acuity: appointment + "
        "payments (to compare transaction ids with the record). DynamoDB: tenant, settings, record.",
    ),
    Scenario(
        "8",
        "order.completed paid",
        order_paid,
        acuity=1,
        dynamodb=8,
        kms=0,
        ledgers={
            QB: Minimum(4, "customer query + customer + invoice + payment"),
            XERO: Minimum(4, "contact search + contact + invoice PUT as AUTHORISED + payment"),
            FB: Minimum(4, "client search + client + invoice + payment"),
        },
        why="Acuity: the order (it carries its own total and status; no payments endpoint). DynamoDB: 4 reads + "
        "2 steps x 2 (invoice, payment).",
    ),
]


# ----------------------------------------------------------------------------------------------- running


@dataclass
class LedgerRun:
    ledger: LedgerBench
    first: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def run_ledger(ledger: LedgerBench) -> LedgerRun:
    started = time.monotonic()
    result = LedgerRun(ledger)
    with rig(ledger) as bench:
        cold = bench.sync(bench.book(firstName="Zed", lastName="Warm", email="zed@example.com"))  # warms the container
        result.first = cold.to_json()
        for scenario in SCENARIOS:
            measured, ok = scenario.run(bench)
            result.rows.append(
                {
                    "scenario": scenario.name,
                    "title": scenario.title,
                    "ok": ok and measured.failed == 0,
                    "measured": measured.to_json(),
                    "ours": ours(measured.to_json()),
                    "minimum": scenario.minimum(ledger.name),
                    "why_minimum": f"{scenario.ledgers[ledger.name].why}. {scenario.why}",
                }
            )
    result.seconds = time.monotonic() - started
    return result


def ours(measured: dict[str, Any]) -> dict[str, int]:
    return {
        "ledger": measured["ledger_total"],
        "acuity": measured["acuity"],
        "dynamodb": measured["dynamodb_total"] - measured["pacing_waits"],  # waits depend on timing: apart
        "kms": measured["kms_total"],
        "sqs": measured["sqs_total"],
    }


# ----------------------------------------------------------------------------------------------- report


def short(counts: dict[str, int], names: dict[str, str]) -> str:
    return " ".join(f"{names.get(name, name)}{count}" for name, count in counts.items() if count)


AWS_SHORT = {
    "GetItem": "Get",
    "PutItem": "Put",
    "UpdateItem": "Upd",
    "TransactWriteItems": "Tx",
    "DeleteItem": "Del",
    "Decrypt": "Dec",
    "Encrypt": "Enc",
}


def mark(got: int, minimum: int) -> str:
    """`**` where ours is more than the minimum; less would mean the minimum is wrong, and says so."""
    if got < minimum:
        return " (BELOW THE MINIMUM?)"
    return " **" if got > minimum else ""


def dynamodb_detail(measured: dict[str, Any]) -> dict[str, int]:
    dynamodb = {k: v for k, v in measured["aws"].items() if k not in ("Decrypt", "Encrypt") and not is_sqs(k)}
    dynamodb["GetItem"] = dynamodb.get("GetItem", 0) - measured["pacing_waits"]
    return dynamodb


def shared_cell(rows: list[dict[str, Any]], name: str, detail: Callable[[dict[str, Any]], str] | None = None) -> str:
    """One count that is not the ledger's: one `ours / minimum` when every ledger made the same, else each."""
    got = [row["ours"][name] for row in rows]
    minimum = rows[0]["minimum"][name]
    if len(set(got)) == 1:
        text = f"{got[0]} / {minimum}{mark(got[0], minimum)}"
        extra = detail(rows[0]["measured"]) if detail else ""
        return text + (f" ({extra})" if extra else "")
    return " · ".join(str(n) for n in got) + f" / {minimum}{mark(max(got), minimum)}"


def kms_short(measured: dict[str, Any]) -> str:
    return short({k: v for k, v in measured["aws"].items() if k in ("Decrypt", "Encrypt")}, AWS_SHORT)


def tables(runs: list[LedgerRun]) -> list[str]:
    """Markdown: each count as ours / minimum, ours broken down by kind; `**` where ours is more."""
    header = " | ".join(f"{run.ledger.label_name} ({run.ledger.legend})" for run in runs)
    labels = " · ".join(run.ledger.label_name for run in runs)
    lines = [
        f"| # | scenario | {header} | Acuity | DynamoDB without pacing waits ({labels}) | KMS | SQS |",
        "|---|---|" + "---|" * len(runs) + "---|---|---|---|",
    ]
    for index, scenario in enumerate(SCENARIOS):
        rows = [run.rows[index] for run in runs]
        ledger_cells = []
        for run, row in zip(runs, rows, strict=True):
            got, minimum = row["ours"]["ledger"], row["minimum"]["ledger"]
            detail = short(row["measured"]["ledger"], run.ledger.short)
            ledger_cells.append(f"{got} / {minimum}{mark(got, minimum)}" + (f" ({detail})" if detail else ""))
        dynamodb = [row["ours"]["dynamodb"] for row in rows]
        dynamodb_minimum = rows[0]["minimum"]["dynamodb"]
        failed = [run.ledger.label_name for run, row in zip(runs, rows, strict=True) if not row["ok"]]
        title = scenario.title + (f" (NOT AS EXPECTED: {', '.join(failed)})" if failed else "")
        lines.append(
            f"| {scenario.name} | {title} | " + " | ".join(ledger_cells) + f" | {shared_cell(rows, 'acuity')} "
            f"| {' · '.join(map(str, dynamodb))} / {dynamodb_minimum}{mark(max(dynamodb), dynamodb_minimum)} "
            f"| {shared_cell(rows, 'kms', kms_short)} "
            f"| {shared_cell(rows, 'sqs')} |"
        )
    lines += ["", "DynamoDB per ledger, without pacing waits, and the pacing part of it (budget takes and waits):", ""]
    lines += [
        "| # | " + " | ".join(run.ledger.label_name for run in runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    for index, scenario in enumerate(SCENARIOS):
        cells = []
        for run in runs:
            measured = run.rows[index]["measured"]
            takes, waits = measured["pacing_takes"], measured["pacing_waits"]
            cells.append(
                f"{run.rows[index]['ours']['dynamodb']} ({short(dynamodb_detail(measured), AWS_SHORT)}); "
                f"pacing {takes} ({takes} takes)" + (f" + {waits} GetItem for waits" if waits else "")
            )
        lines.append(f"| {scenario.name} | " + " | ".join(cells) + " |")
    lines += ["", f"DynamoDB operations per message against the minimum (aim <= {DYNAMODB_AIM}x), waits left out:", ""]
    lines += [
        "| # | minimum | " + " | ".join(run.ledger.label_name for run in runs) + " |",
        "|---|---|" + "---|" * len(runs),
    ]
    for index, scenario in enumerate(SCENARIOS):
        minimum = runs[0].rows[index]["minimum"]["dynamodb"]
        cells = []
        for run in runs:
            got = run.rows[index]["ours"]["dynamodb"]
            cells.append(f"{got} = {got / minimum:.2f}x" + (" **" if got > DYNAMODB_AIM * minimum else ""))
        lines.append(f"| {scenario.name} | {minimum} | " + " | ".join(cells) + " |")
    return lines


DYNAMODB_AIM = 1.5  # issue 12: DynamoDB operations per message within 1.5x the minimum


def dynamodb_ratios(runs: list[LedgerRun]) -> dict[str, float]:
    """The highest ours / minimum of DynamoDB operations per message, per ledger (waits left out)."""
    return {
        str(run.ledger.name): round(max(row["ours"]["dynamodb"] / row["minimum"]["dynamodb"] for row in run.rows), 2)
        for run in runs
    }


def main() -> int:
    runs = [run_ledger(ledger) for ledger in LEDGERS]
    print("Calls per synced appointment/order, ours / minimum (** where ours is more); warm container.\n")
    for line in tables(runs):
        print(line)
    print("\nFirst message in a container (scenario 1's shape):")
    for run in runs:
        first = run.first
        print(
            f"- {run.ledger.label_name}: {first['ledger_total']} ({', '.join(first['ledger_calls'])}), "
            f"DynamoDB {first['dynamodb_total'] - first['pacing_waits']} without waits, KMS {first['kms_total']}, "
            f"token endpoint {first['ledger_token_calls']}."
        )
    tokens = {run.ledger.label_name: sum(row["measured"]["ledger_token_calls"] for row in run.rows) for run in runs}
    print(f"\nToken endpoint calls in the counted scenarios: {tokens}.")
    print(f"DynamoDB per message, the highest ours / minimum of the scenarios: {dynamodb_ratios(runs)}.")
    print(
        "Seconds per ledger (rig, warm-up, scenarios): "
        + ", ".join(f"{r.ledger.label_name} {r.seconds:.1f}" for r in runs)
    )
    document = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {"boto3": boto3.__version__, "botocore": botocore.__version__, "moto": moto.__version__},
        "what": (
            "calls made by one invocation of each ledger's sync function handler with one SQS message, in a warm "
            "container, one ledger at a time; `ours` against `minimum` (what the APIs allow); *_calls list every "
            "call in order"
        ),
        "ledgers": {
            str(run.ledger.name): {
                "function": run.ledger.function,
                "seconds": round(run.seconds, 1),
                "first_message_in_container": run.first,
                "scenarios": run.rows,
            }
            for run in runs
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nraw numbers: {RESULTS.relative_to(PROJECT_ROOT)}")
    problems = [f"{run.ledger.label_name} {row['scenario']}" for run in runs for row in run.rows if not row["ok"]]
    if problems:
        print(f"scenarios that did not end as expected: {', '.join(problems)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
