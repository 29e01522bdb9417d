"""What bench/soak and bench/drain share: the local stack (`acuity-sync dev`'s DevStack) with businesses of their
own, signed webhooks posted to its gateway as Acuity delivers them, queues watched until they drain, each
business's appointments read back from the fake Acuity's API and each ledger's books through the ledger's own API
(acuity_sync_toolkit.demo.books), and the two compared."""

from __future__ import annotations

import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import boto3
import httpx

from acuity_sync.acuity.signature import sign
from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.store.audit import AuditTrail
from acuity_sync_toolkit.demo import run as demo_run
from acuity_sync_toolkit.demo.books import Books, cents, reader
from acuity_sync_toolkit.demo.tenant import DEMO_ACUITY_API_KEY, DEMO_ACUITY_USER_ID, DEMO_TENANT_ID
from acuity_sync_toolkit.stack.connections import FakeLedger, connected_tenant
from acuity_sync_toolkit.stack.devstack import (
    DEMO_FRESHBOOKS_ACCOUNT_ID,
    DEMO_REALM_ID,
    DEMO_XERO_TENANT_ID,
    REGION,
    DevStack,
)

FORM = {"content-type": "application/x-www-form-urlencoded"}
SYNC_FUNCTIONS = {
    LedgerName.QUICKBOOKS: "SyncQuickBooksFunction",
    LedgerName.XERO: "SyncXeroFunction",
    LedgerName.FRESHBOOKS: "SyncFreshBooksFunction",
}
DEMO_COMPANIES = {
    LedgerName.QUICKBOOKS: DEMO_REALM_ID,
    LedgerName.XERO: DEMO_XERO_TENANT_ID,
    LedgerName.FRESHBOOKS: DEMO_FRESHBOOKS_ACCOUNT_ID,
}
MARKER = re.compile(r"acuity:(appointment|order):(\d+)")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Business:
    """A tenant of the stack: its Acuity account and its company at each connected ledger."""

    tenant_id: str
    acuity_user_id: int
    acuity_api_key: str
    companies: dict[LedgerName, str]
    webhook_url: str


def demo_business(dev: DevStack) -> Business:
    assert dev.info is not None
    return Business(
        DEMO_TENANT_ID,
        DEMO_ACUITY_USER_ID,
        DEMO_ACUITY_API_KEY,
        {ledger: DEMO_COMPANIES[ledger] for ledger in dev_ledgers(dev)},
        str(dev.info.demo_tenant["webhook_url"]),
    )


def warm_sync_workers(dev: DevStack, attempts: int = 5) -> int:
    """Every sync function's workers started now, one at a time, up to its maximum concurrency (as provisioned
    concurrency would). On a loaded two-core machine, fifteen workers importing at once under a burst can each take
    longer than Lambda's 10 s init phase, fail, and be started again, over and over; warmed first, a worker is only
    started again after it was killed. Returns the workers started."""
    started = 0
    for pool in dev._pools:
        if pool.spec.logical_id not in SYNC_FUNCTIONS.values():
            continue
        for _ in range(attempts * pool.max_workers):
            if len(pool.worker_pids) >= pool.max_workers:
                break
            try:
                pool.warm(1)
                started += 1
            except Exception:  # noqa: S112 - an init that timed out is tried again
                continue
    return started


def dev_ledgers(dev: DevStack) -> tuple[LedgerName, ...]:
    return tuple(dev._ledgers)


def add_business(dev: DevStack, number: int, ledgers: Iterable[LedgerName]) -> Business:
    """Another business, as DevStack.add_business makes one, keeping its company ids (faults and reads need them)."""
    assert dev.info is not None
    company_ids = {
        LedgerName.QUICKBOOKS: "".join(secrets.choice("0123456789") for _ in range(16)),
        LedgerName.XERO: str(uuid.uuid4()),
        LedgerName.FRESHBOOKS: secrets.token_hex(3),
    }
    chosen = {ledger: company_ids[ledger] for ledger in ledgers}
    tenant_id = f"{number:02d}" + uuid.uuid4().hex[2:]
    user_id, api_key = 30000 + number, f"bench-acuity-key-{number}-{secrets.token_hex(6)}"
    connected_tenant(
        dev.provisioned,
        dev.acuity,
        {company: dev.fake_ledger(ledger) for ledger, company in chosen.items()},
        tenant_id=tenant_id,
        acuity_user_id=user_id,
        acuity_api_key=api_key,
        endpoint_url=dev.info.aws_endpoint_url,
    )
    return Business(tenant_id, user_id, api_key, chosen, dev.info.webhook_base_url + tenant_id)


# ------------------------------------------------------------------------------------------ webhooks
@dataclass
class PostStats:
    accepted: int = 0
    throttled: int = 0  # the gateway's 429s (sent again, as Acuity retries)
    server_errors: int = 0  # 5xx from the webhook function (sent again, as Acuity retries a 5xx)
    refused: int = 0  # any other answer: a bug in the bench or the intake
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


def webhook_body(kind: str, object_id: int) -> bytes:
    if kind == "order":
        return f"action=order.completed&id={object_id}".encode()
    return f"action=appointment.changed&id={object_id}&calendarID=1&appointmentTypeID=1".encode()


def post_webhook(http: httpx.Client, business: Business, kind: str, object_id: int, stats: PostStats) -> None:
    """One delivery of Acuity's signed webhook, sent again while the gateway throttles or the function fails."""
    body = webhook_body(kind, object_id)
    headers = {**FORM, "x-acuity-signature": sign(body, business.acuity_api_key)}
    for attempt in range(200):
        try:
            answer = http.post(business.webhook_url, content=body, headers=headers)
        except httpx.HTTPError:
            stats.add(server_errors=1)
            time.sleep(min(2.0, 0.1 * (attempt + 1)))
            continue
        if answer.status_code == 200:
            stats.add(accepted=1)
            return
        if answer.status_code == 429:
            stats.add(throttled=1)
            time.sleep(min(1.0, 0.05 * (attempt + 1)))
            continue
        if answer.status_code >= 500:
            stats.add(server_errors=1)
            time.sleep(min(2.0, 0.1 * (attempt + 1)))
            continue
        stats.add(refused=1)
        return
    stats.add(refused=1)


# ------------------------------------------------------------------------------------------ queues
def queue_counts(dev: DevStack) -> dict[str, int]:
    assert dev.info is not None
    sqs = boto3.client("sqs", endpoint_url=dev.info.aws_endpoint_url, region_name=REGION)
    return {name: demo_run.queue_depth(sqs, url) for name, url in dev.info.queue_urls.items()}


def dead_letters(dev: DevStack) -> dict[str, int]:
    assert dev.info is not None
    sqs = boto3.client("sqs", endpoint_url=dev.info.aws_endpoint_url, region_name=REGION)
    return {name: demo_run.queue_depth(sqs, url) for name, url in dev.info.dead_letter_queue_urls.items()}


def wait_drained(
    dev: DevStack, ledgers: Iterable[LedgerName], timeout: float, busy: Callable[[], bool] = lambda: False
) -> dict[LedgerName, float]:
    """Seconds until each ledger's queue showed nothing visible and nothing in flight twice in a row (polled every
    0.25 s), measured from the call; inf for a queue that did not drain within `timeout`."""
    assert dev.info is not None
    sqs = boto3.client("sqs", endpoint_url=dev.info.aws_endpoint_url, region_name=REGION)
    started = time.monotonic()
    pending = dict.fromkeys(ledgers, 0)
    drained: dict[LedgerName, float] = {}
    while pending and time.monotonic() - started < timeout:
        for ledger in list(pending):
            if demo_run.queue_depth(sqs, dev.info.queue_urls[ledger]) == 0 and not busy():
                pending[ledger] += 1
                if pending[ledger] == 2:
                    drained[ledger] = time.monotonic() - started
                    del pending[ledger]
            else:
                pending[ledger] = 0
        time.sleep(0.25)
    return {**drained, **{ledger: float("inf") for ledger in pending}}


# ------------------------------------------------------------------------------------------ Acuity's state
@dataclass(frozen=True)
class Expected:
    """What one appointment or order should have in a ledger, from Acuity's state now."""

    kind: str
    object_id: int
    billed: Decimal  # the invoice's total
    paid: Decimal  # payments to it
    live: bool  # an invoice that counts (False: none, or voided/deleted)
    date: str  # YYYY-MM-DD, "" for orders (not compared)
    email: str


def acuity_state(acuity_url: str, business: Business) -> list[Expected]:
    """Every appointment and order of the business, through Acuity's API, as the books should show them (default
    settings: draft mode, payments synced, tips left out, an unpaid cancellation voided, a paid one kept)."""
    auth = (str(business.acuity_user_id), business.acuity_api_key)
    found: list[Expected] = []
    with httpx.Client(base_url=acuity_url.rstrip("/") + "/api/v1", auth=auth, timeout=60, trust_env=False) as http:
        for canceled in ("false", "true"):
            for item in _acuity_get(http, "/appointments", {"max": "100000", "canceled": canceled}):
                price, amount_paid = cents(item["price"]), cents(item["amountPaid"])
                paid = min(price, amount_paid)
                live = not item["canceled"] or paid > ZERO
                found.append(
                    Expected(
                        "appointment", int(item["id"]), price, paid, live, str(item["datetime"])[:10], item["email"]
                    )
                )
        for order in _acuity_get(http, "/orders", {"max": "100000"}):
            total = cents(order["total"])
            paid = total if order.get("status") == "paid" else ZERO
            found.append(Expected("order", int(order["id"]), total, paid, True, "", str(order.get("email", ""))))
    return found


def _acuity_get(http: httpx.Client, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
    for _ in range(600):
        answer = http.get(path, params=params)
        if answer.status_code in (429, 500, 503):
            time.sleep(0.2)
            continue
        answer.raise_for_status()
        document = answer.json()
        assert isinstance(document, list)
        return document
    raise AssertionError(f"Acuity kept refusing {path}")


# ------------------------------------------------------------------------------------------ the books
def read_books(dev: DevStack, ledger: LedgerName, company_id: str) -> Books:
    assert dev.info is not None
    fake = dev.fake_ledger(ledger)
    access = {**dev.info.ledgers[ledger], _company_key(ledger): company_id}
    books_reader = reader(ledger, access, token=lambda: _read_token(fake, company_id))
    try:
        return books_reader.read()
    finally:
        books_reader.close()


def _company_key(ledger: LedgerName) -> str:
    return {LedgerName.QUICKBOOKS: "realm_id", LedgerName.XERO: "tenant_id", LedgerName.FRESHBOOKS: "account_id"}[
        ledger
    ]


def _read_token(fake: FakeLedger, company_id: str) -> str:
    return fake.issue_tokens(company_id).access_token


@dataclass
class Comparison:
    checked: int = 0
    lost: list[str] = field(default_factory=list)  # what differs, one line per appointment or order
    wrong: list[tuple[str, int]] = field(default_factory=list)  # (kind, id) of each of them
    doubled: int = 0  # documents beyond the one expected: invoices, payments, customers per e-mail
    cents_off: int = 0  # |billed - expected| + |paid - expected|, in cents, summed


# Xero and FreshBooks refuse edits to an invoice with a payment (the adapters' can_edit_paid_invoices=False): the
# plan does not edit it (sync/plan.py _reconcile_invoice), so a reschedule after a payment leaves its date.
PAID_INVOICES_EDITED = {LedgerName.QUICKBOOKS: True, LedgerName.XERO: False, LedgerName.FRESHBOOKS: False}


def compare(expected: list[Expected], books: Books, label: str, ledger: LedgerName) -> Comparison:
    """Each appointment's documents in `books` (found by our marker in the invoice's reference) against Acuity.
    The date is compared where the invoice can still be edited: always in QuickBooks, when nothing is paid in Xero
    and FreshBooks."""
    result = Comparison()
    invoices: dict[tuple[str, int], list[Any]] = {}
    for invoice in books.invoices:
        match = MARKER.search(invoice.reference)
        if match:
            invoices.setdefault((match.group(1), int(match.group(2))), []).append(invoice)
    for item in expected:
        result.checked += 1
        mine = invoices.get((item.kind, item.object_id), [])
        live = [invoice for invoice in mine if invoice.status != "voided"]
        payments = [payment for invoice in live for payment in books.payments_to(invoice.id)]
        billed = sum((invoice.total for invoice in live), ZERO)
        paid = sum((payment.amount for payment in payments), ZERO)
        expected_live = 1 if item.live else 0
        # An invoice twice, or a payment twice (the books then hold more paid than Acuity: a payment's count
        # depends on when the syncs ran, one payment of the whole or one per change, its total does not).
        result.doubled += max(0, len(live) - 1) + (1 if paid > (item.paid if item.live else ZERO) else 0)
        off = abs(billed - (item.billed if item.live else ZERO)) + abs(paid - (item.paid if item.live else ZERO))
        result.cents_off += int(off * 100)
        problems = []
        if len(live) != expected_live:
            problems.append(f"{len(live)} live invoices, {expected_live} expected")
        if off:
            problems.append(f"billed {billed} paid {paid}, expected {item.billed} / {item.paid}")
        dated = PAID_INVOICES_EDITED[ledger] or paid == ZERO
        if item.live and item.date and live and dated and live[0].date != item.date:
            problems.append(f"dated {live[0].date}, the appointment is on {item.date}")
        if problems:
            result.wrong.append((item.kind, item.object_id))
            result.lost.append(f"{label} {item.kind} {item.object_id}: " + "; ".join(problems))
    by_email: dict[str, int] = {}
    for customer in books.customers:
        if customer.email:
            by_email[customer.email.lower()] = by_email.get(customer.email.lower(), 0) + 1
    result.doubled += sum(count - 1 for count in by_email.values() if count > 1)
    return result


def audit_of(dev: DevStack, tenant_id: str, ledger: LedgerName, kind: str, object_id: int) -> list[dict[str, Any]]:
    """Our audit trail of one appointment or order at one ledger (what each message decided, and why)."""
    assert dev.info is not None
    dynamodb = boto3.client("dynamodb", endpoint_url=dev.info.aws_endpoint_url, region_name=REGION)
    trail = AuditTrail(dynamodb, dev.info.table_name)
    return [dict(entry) for entry in trail.entries(tenant_id, ledger, EventKind(kind), object_id)]
