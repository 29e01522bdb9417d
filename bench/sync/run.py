"""Calls per synced appointment or order: the QuickBooks sync function against the minimum the APIs allow.

    .venv/bin/python bench/sync/run.py

Setup (as tests/integration/test_sync_quickbooks_function.py): moto in-process (mock_aws) with the template's
table, key, queues and the QuickBooks OAuth secret; the fake Acuity and the fake QuickBooks on 127.0.0.1; one
tenant connected to QuickBooks (acuity_sync.local.connections.connect_quickbooks). The handler module the template
names is loaded once, like a container, and warmed with one uncounted booking of another client; then each
scenario's message is queued and received (uncounted), the handler is invoked in-process with that SQS event
(counted), and the poller's DeleteMessage follows (uncounted: Lambda's poller makes it, not our code).

Counted per invocation:
- AWS: botocore `before-call` on boto3's default session, registered before the handler module is loaded.
- QuickBooks: FakeQuickBooks.requests(realm) before and after (every API call), plus the OAuth token endpoint.
- Acuity: the fake Acuity has no request log, so the bench runs a subclass of it whose `_handle` counts every
  API request (method and path) before serving it; nothing is added to product code.

Prints a table and writes bench/results/sync.json. Exits 1 if a scenario did not end as expected.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import platform
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import botocore
import moto
from moto import mock_aws

from acuity_sync.acuity.webhook import EventKind
from acuity_sync.ledgers import LedgerName
from acuity_sync.local.cloudformation import ProvisionedStack, provision
from acuity_sync.local.connections import quickbooks_tenant
from acuity_sync.local.fake_acuity import FakeAcuity
from acuity_sync.local.httpserver import Request, Response
from acuity_sync.local.pollers import sqs_event
from acuity_sync.local.qbo import FakeQuickBooks
from acuity_sync.local.qbo.server import TOKEN_PATH
from acuity_sync.store.settings import SettingsStore
from acuity_sync.sync.message import SyncRequest
from acuity_sync.sync.settings import Mode, QuickBooksSettings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))  # tests.support, as when run from the project root

from tests.support.aws import TEMPLATE  # noqa: E402
from tests.support.bookings import booking  # noqa: E402
from tests.support.http_events import FakeLambdaContext  # noqa: E402

RESULTS = PROJECT_ROOT / "bench" / "results" / "sync.json"
FUNCTION = "SyncQuickBooksFunction"
QUEUE = "QuickBooksQueue"
REGION = "us-east-1"
TENANT = "5555555555555555cccccccccccccccc"
REALM = "4620816365200000009"
USER, KEY = 8101, "bench-acuity-key-8101"


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


class CountingQuickBooks(FakeQuickBooks):
    """The fake QuickBooks, counting calls to its OAuth token endpoint (its requests() log holds the API only)."""

    def __init__(self) -> None:
        super().__init__()
        self.token_calls = 0

    def _handle(self, request: Request) -> Response:
        if request.path == TOKEN_PATH:
            self.token_calls += 1
        return super()._handle(request)


def qbo_kind(entry: dict[str, Any]) -> str:
    """GET (read by id), query (the query endpoint), POST (a write)."""
    if str(entry["path"]).rstrip("/").lower().endswith("/query"):
        return "query"
    return str(entry["method"])


def qbo_label(entry: dict[str, Any]) -> str:
    path = str(entry["path"]).split(f"/company/{REALM}/", 1)[-1]
    if path.rstrip("/").lower() == "query":
        statement = str(entry["query"].get("query", ""))
        words = statement.split()
        return f"query {words[3] if len(words) > 3 else statement}"
    operation = entry["query"].get("operation")
    return f"{entry['method']} {path}" + (f"?operation={operation}" if operation else "")


# ----------------------------------------------------------------------------------------------- rig


@dataclass
class Rig:
    stack: ProvisionedStack
    acuity: CountingAcuity
    quickbooks: CountingQuickBooks
    handler: ModuleType
    aws: AwsCounter
    sequence: int = 0

    def event(self, object_id: int, kind: EventKind) -> dict[str, Any]:
        self.sequence += 1
        sqs = boto3.client("sqs", region_name=REGION)
        url = self.stack.queue_urls[QUEUE]
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
        return sqs_event(messages, queue_arn=self.stack.queue_arns[QUEUE], region=REGION)

    def sync(self, object_id: int, kind: EventKind = EventKind.APPOINTMENT) -> Measured:
        """One message through the handler, counted; then the poller's DeleteMessage, uncounted."""
        event = self.event(object_id, kind)
        qbo_before = len(self.quickbooks.requests(REALM))
        acuity_before = len(self.acuity.calls)
        tokens_before = self.quickbooks.token_calls
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
                sqs.delete_message(QueueUrl=self.stack.queue_urls[QUEUE], ReceiptHandle=record["receiptHandle"])
        qbo = self.quickbooks.requests(REALM)[qbo_before:]
        return Measured(
            aws=aws,
            aws_calls=self.aws.taken,
            quickbooks=dict(Counter(qbo_kind(entry) for entry in qbo)),
            quickbooks_calls=[qbo_label(entry) for entry in qbo],
            quickbooks_tokens=self.quickbooks.token_calls - tokens_before,
            acuity=self.acuity.calls[acuity_before:],
            failed=len(failed),
        )

    def book(self, **fields: Any) -> int:
        appointment = self.acuity.book_appointment(USER, booking(**fields))
        return int(appointment["id"])

    def set_mode(self, mode: Mode) -> None:
        store = SettingsStore(boto3.client("dynamodb", region_name=REGION), self.stack.table_name)
        current = store.get(TENANT, LedgerName.QUICKBOOKS)
        assert isinstance(current.settings, QuickBooksSettings)
        store.put(TENANT, LedgerName.QUICKBOOKS, current.settings.model_copy(update={"mode": mode}), current.version)

    def books(self) -> dict[str, Any]:
        return self.quickbooks.state(REALM)


@dataclass
class Measured:
    aws: dict[str, int]
    aws_calls: list[str]
    quickbooks: dict[str, int]
    quickbooks_calls: list[str]
    quickbooks_tokens: int
    acuity: list[str]
    failed: int

    def to_json(self) -> dict[str, Any]:
        return {
            "quickbooks": self.quickbooks,
            "quickbooks_total": sum(self.quickbooks.values()),
            "quickbooks_calls": self.quickbooks_calls,
            "quickbooks_token_calls": self.quickbooks_tokens,
            "acuity": len(self.acuity),
            "acuity_calls": self.acuity,
            "aws": self.aws,
            "aws_calls": self.aws_calls,
            "dynamodb_total": sum(
                n for op, n in self.aws.items() if op not in ("Decrypt", "Encrypt") and not is_sqs(op)
            ),
            "kms_total": sum(n for op, n in self.aws.items() if op in ("Decrypt", "Encrypt")),
            "sqs_total": sum(n for op, n in self.aws.items() if is_sqs(op)),
            # Budget buckets: a granted take is GetItem + UpdateItem; a take that must wait (QuickBooks' burst is 1:
            # a call within 125 ms of the last) is one more GetItem, then a sleep. Waits depend on timing.
            "pacing_takes": self.aws_calls.count("UpdateItem BUDGET/BUCKET"),
            "pacing_waits": self.aws_calls.count("GetItem BUDGET/BUCKET")
            - self.aws_calls.count("UpdateItem BUDGET/BUCKET"),
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


def load_handler(stack: ProvisionedStack) -> ModuleType:
    spec = stack.functions[FUNCTION]
    os.environ.update(spec.environment)
    sys.path[:0] = [str(spec.code_dir), *(str(path) for path in spec.layer_dirs)]
    module_name, _, _function = spec.handler.rpartition(".")
    module_spec = importlib.util.spec_from_file_location(f"_bench_{FUNCTION}", spec.code_dir / f"{module_name}.py")
    if module_spec is None or module_spec.loader is None:
        raise RuntimeError(f"cannot load {spec.code_dir / module_name}.py")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module
    with quiet_stdout():
        module_spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def rig() -> Iterator[Rig]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
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
    with CountingAcuity() as acuity, CountingQuickBooks() as quickbooks, mock_aws():
        stack = provision(TEMPLATE, parameters={"QuickBooksApiUrl": quickbooks.url})
        quickbooks_tenant(
            stack, acuity, quickbooks, tenant_id=TENANT, acuity_user_id=USER, acuity_api_key=KEY, realm_id=REALM
        )
        # A session of its own for the function, its hook registered before the handler module creates clients
        # (mock_aws resets boto3's default session when it starts, so this comes after).
        boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register("before-call", counter)
        yield Rig(stack, acuity, quickbooks, load_handler(stack), counter)


# ----------------------------------------------------------------------------------------------- scenarios


@dataclass
class Scenario:
    name: str
    title: str
    run: Callable[[Rig], tuple[Measured, bool]]  # the counted sync, and whether it ended as expected
    minimum: dict[str, int]
    why_minimum: str


def totals(rig: Rig) -> tuple[int, int, int]:
    books = rig.books()
    return len(books.get("Customer", [])), len(books.get("Invoice", [])), len(books.get("Payment", []))


def new_draft_unpaid(rig: Rig) -> tuple[Measured, bool]:
    before = totals(rig)
    measured = rig.sync(rig.book(firstName="Ann", lastName="One", email="ann@example.com"))
    after = totals(rig)
    return measured, after == (before[0] + 1, before[1] + 1, before[2])


def new_paid(rig: Rig) -> tuple[Measured, bool]:
    before = totals(rig)
    measured = rig.sync(rig.book(firstName="Bob", lastName="Two", email="bob@example.com", amountPaid="80.00"))
    return measured, totals(rig) == (before[0] + 1, before[1] + 1, before[2] + 1)


def returning_paid(rig: Rig) -> tuple[Measured, bool]:
    rig.sync(rig.book(firstName="Cat", lastName="Three", email="cat@example.com", amountPaid="80.00"))  # uncounted
    before = totals(rig)
    measured = rig.sync(
        rig.book(
            firstName="Cat",
            lastName="Three",
            email="cat@example.com",
            amountPaid="80.00",
            datetime="2026-12-10T15:00:00-0500",
        )
    )
    return measured, totals(rig) == (before[0], before[1] + 1, before[2] + 1)


def send_mode_new(rig: Rig) -> tuple[Measured, bool]:
    rig.set_mode(Mode.SEND)
    try:
        before, emails = totals(rig), rig.quickbooks.emails_sent(REALM)
        measured = rig.sync(rig.book(firstName="Dan", lastName="Four", email="dan@example.com"))
        sent = rig.quickbooks.emails_sent(REALM) - emails
    finally:
        rig.set_mode(Mode.DRAFT)
    return measured, totals(rig) == (before[0] + 1, before[1] + 1, before[2]) and sent == 1


def reschedule(rig: Rig) -> tuple[Measured, bool]:
    appointment = rig.book(firstName="Eve", lastName="Five", email="eve@example.com")
    rig.sync(appointment)  # uncounted
    rig.acuity.change_appointment(USER, appointment, {"datetime": "2026-12-17T10:00:00-0500"})
    before = totals(rig)
    measured = rig.sync(appointment)
    invoices = [i for i in rig.books()["Invoice"] if f"acuity:appointment:{appointment}" in i.get("PrivateNote", "")]
    return measured, totals(rig) == before and [i["TxnDate"] for i in invoices] == ["2026-12-17"]


def cancel_unpaid(rig: Rig) -> tuple[Measured, bool]:
    appointment = rig.book(firstName="Fay", lastName="Six", email="fay@example.com")
    rig.sync(appointment)  # uncounted
    rig.acuity.change_appointment(USER, appointment, {"canceled": True})
    measured = rig.sync(appointment)
    invoices = [i for i in rig.books()["Invoice"] if f"acuity:appointment:{appointment}" in i.get("PrivateNote", "")]
    voided = len(invoices) == 1 and float(invoices[0].get("TotalAmt", 1)) == 0.0
    return measured, voided


def same_again(rig: Rig) -> tuple[Measured, bool]:
    appointment = rig.book(firstName="Gus", lastName="Seven", email="gus@example.com", amountPaid="80.00")
    rig.sync(appointment)  # uncounted
    before = totals(rig)
    measured = rig.sync(appointment)
    return measured, totals(rig) == before and measured.quickbooks.get("POST", 0) == 0


def order_paid(rig: Rig) -> tuple[Measured, bool]:
    before = totals(rig)
    order = rig.acuity.complete_order(
        USER,
        {"total": "120.00", "status": "paid", "firstName": "Hal", "lastName": "Eight", "email": "hal@example.com"},
    )
    measured = rig.sync(int(order["id"]), EventKind.ORDER)
    return measured, totals(rig) == (before[0] + 1, before[1] + 1, before[2] + 1)


# The minimum the APIs allow, per message, with nothing cached between messages: QuickBooks and Acuity calls that
# no implementation can avoid; DynamoDB = read tenant, settings and record (and the connection, when the ledger is
# called) + an intent and a commit per ledger step (the crash-safety design); KMS = Decrypt of the Acuity API key
# (and of the connection's tokens, when the ledger is called); SQS = 0 (the poller deletes; ours only calls
# ChangeMessageVisibility on a retry). Pacing, snapshots and the parking check are ours, not the APIs'.
SCENARIOS: list[Scenario] = [
    Scenario(
        "1",
        "new client, draft, unpaid",
        new_draft_unpaid,
        {"quickbooks": 3, "acuity": 1, "dynamodb": 8, "kms": 2, "sqs": 0},
        "QBO: customer query + create customer + create invoice. Acuity: the appointment (amountPaid 0.00 says "
        "there are no payments to fetch). DynamoDB: 4 reads + 2 steps x (intent + commit).",
    ),
    Scenario(
        "2",
        "new client, paid in full",
        new_paid,
        {"quickbooks": 4, "acuity": 2, "dynamodb": 10, "kms": 2, "sqs": 0},
        "QBO: customer query + customer + invoice + payment. Acuity: appointment + payments (the transaction id "
        "is the payment's reference). DynamoDB: 4 reads + 3 steps x 2.",
    ),
    Scenario(
        "3",
        "returning client, paid",
        returning_paid,
        {"quickbooks": 2, "acuity": 2, "dynamodb": 9, "kms": 2, "sqs": 0},
        "QBO: invoice + payment, the customer's id kept from the first booking (CUST#{hash}: +1 GetItem instead of "
        "a QBO query). Acuity: appointment + payments. DynamoDB: 4 reads + CUST read + 2 steps x 2.",
    ),
    Scenario(
        "4",
        "send mode, new client",
        send_mode_new,
        {"quickbooks": 4, "acuity": 1, "dynamodb": 10, "kms": 2, "sqs": 0},
        "QBO: customer query + customer + invoice + send (the create's answer says EmailStatus NotSet). "
        "Acuity: the appointment (unpaid). DynamoDB: 4 reads + 3 steps x 2.",
    ),
    Scenario(
        "5",
        "reschedule (synced)",
        reschedule,
        {"quickbooks": 1, "acuity": 1, "dynamodb": 6, "kms": 2, "sqs": 0},
        "QBO: one sparse update, with Id and the SyncToken kept from the last write (a stale one, 5010, costs a "
        "read). Acuity: the appointment (unpaid). DynamoDB: 4 reads + 1 step x 2.",
    ),
    Scenario(
        "6",
        "cancel unpaid (void)",
        cancel_unpaid,
        {"quickbooks": 1, "acuity": 1, "dynamodb": 6, "kms": 2, "sqs": 0},
        "QBO: one void (Id + SyncToken kept from the last write). Acuity: the appointment. DynamoDB: 4 reads + "
        "1 step x 2.",
    ),
    Scenario(
        "7",
        "same message again",
        same_again,
        {"quickbooks": 0, "acuity": 2, "dynamodb": 3, "kms": 1, "sqs": 0},
        "Nothing to write: no ledger call, so no connection read nor its Decrypt. Acuity: appointment + payments "
        "(to compare transaction ids with the record). DynamoDB: tenant, settings, record.",
    ),
    Scenario(
        "8",
        "order.completed paid",
        order_paid,
        {"quickbooks": 4, "acuity": 1, "dynamodb": 10, "kms": 2, "sqs": 0},
        "QBO: customer query + customer + invoice + payment. Acuity: the order (it carries its own total and "
        "status; no payments endpoint). DynamoDB: 4 reads + 3 steps x 2.",
    ),
]


# ----------------------------------------------------------------------------------------------- report


def ours(measured: dict[str, Any]) -> dict[str, int]:
    return {
        "quickbooks": measured["quickbooks_total"],
        "acuity": measured["acuity"],
        "dynamodb": measured["dynamodb_total"] - measured["pacing_waits"],  # waits depend on timing: apart
        "kms": measured["kms_total"],
        "sqs": measured["sqs_total"],
    }


def short(counts: dict[str, int], names: dict[str, str]) -> str:
    return " ".join(f"{names.get(name, name)}{count}" for name, count in counts.items() if count)


QBO_SHORT = {"GET": "G", "POST": "P", "query": "q"}
AWS_SHORT = {
    "GetItem": "Get",
    "PutItem": "Put",
    "UpdateItem": "Upd",
    "TransactWriteItems": "Tx",
    "DeleteItem": "Del",
    "Decrypt": "Dec",
    "Encrypt": "Enc",
}


def table(rows: list[dict[str, Any]]) -> list[str]:
    """Markdown: each count as ours / minimum, with ours broken down by kind."""
    lines = [
        "| # | scenario | QuickBooks (G=GET q=query P=POST) | Acuity | DynamoDB, without pacing waits "
        "| of which pacing | KMS | SQS |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        measured, minimum = row["measured"], row["minimum"]
        got = ours(measured)
        dynamodb = {k: v for k, v in measured["aws"].items() if k not in ("Decrypt", "Encrypt") and not is_sqs(k)}
        dynamodb["GetItem"] = dynamodb.get("GetItem", 0) - measured["pacing_waits"]
        kms = {k: v for k, v in measured["aws"].items() if k in ("Decrypt", "Encrypt")}

        def cell(name: str, detail: str, got: dict[str, int] = got, minimum: dict[str, int] = minimum) -> str:
            mark = "" if got[name] == minimum[name] else " **"
            return f"{got[name]} / {minimum[name]}{mark}" + (f" ({detail})" if detail else "")

        lines.append(
            f"| {row['scenario']} | {row['title']}{'' if row['ok'] else ' (NOT AS EXPECTED)'} "
            f"| {cell('quickbooks', short(measured['quickbooks'], QBO_SHORT))} "
            f"| {cell('acuity', '')} "
            f"| {cell('dynamodb', short(dynamodb, AWS_SHORT))} "
            f"| {2 * measured['pacing_takes']} ({measured['pacing_takes']} take(s))"
            + (f"; + {measured['pacing_waits']} GetItem for waits" if measured["pacing_waits"] else "")
            + " "
            f"| {cell('kms', short(kms, AWS_SHORT))} "
            f"| {cell('sqs', '')} |"
        )
    return lines


def main() -> int:
    rows: list[dict[str, Any]] = []
    with rig() as bench:
        cold = bench.sync(bench.book(firstName="Zed", lastName="Warm", email="zed@example.com"))  # warms the container
        for scenario in SCENARIOS:
            measured, ok = scenario.run(bench)
            rows.append(
                {
                    "scenario": scenario.name,
                    "title": scenario.title,
                    "ok": ok and measured.failed == 0,
                    "measured": measured.to_json(),
                    "ours": ours(measured.to_json()),
                    "minimum": scenario.minimum,
                    "why_minimum": scenario.why_minimum,
                }
            )
    print("Calls per synced appointment/order, ours / minimum (** where they differ); warm container.\n")
    for line in table(rows):
        print(line)
    first = cold.to_json()
    print(
        f"\nFirst message in a container (scenario 1's shape): QuickBooks {first['quickbooks_total']} "
        f"({short(first['quickbooks'], QBO_SHORT)}: + company info and preferences, read once per 10 min per "
        f"container), DynamoDB {first['dynamodb_total']}, KMS {first['kms_total']}."
    )
    document = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {"boto3": boto3.__version__, "botocore": botocore.__version__, "moto": moto.__version__},
        "what": (
            "calls made by one invocation of the QuickBooks sync function's handler with one SQS message, in a "
            "warm container; `ours` against `minimum` (what the APIs allow); *_calls list every call in order"
        ),
        "first_message_in_container": first,
        "scenarios": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nraw numbers: {RESULTS.relative_to(PROJECT_ROOT)}")
    problems = [row["scenario"] for row in rows if not row["ok"]]
    if problems:
        print(f"scenarios that did not end as expected: {', '.join(problems)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
