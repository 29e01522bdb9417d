"""`make demo`: start the local stack, act as a business in the fake Acuity, and show what happened to each
webhook it sent (accepted, queued for which ledgers, or refused and why), then each appointment's documents in
QuickBooks, Xero and FreshBooks side by side, read back through each ledger's own API, and stop."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx

from acuity_sync.acuity.signature import sign
from acuity_sync.domain.names import EventKind, LedgerName
from acuity_sync.ledgers.registry import ledger_declaration
from acuity_sync.store.audit import AuditTrail
from acuity_sync.store.records import RecordKey, RecordStore
from acuity_sync_toolkit.demo.books import Books, reader
from acuity_sync_toolkit.demo.tenant import DEMO_ACUITY_USER_ID
from acuity_sync_toolkit.fakes.acuity_admin import AcuityAdmin
from acuity_sync_toolkit.stack.devstack import REGION, DevInfo, DevStack

FORM = {"content-type": "application/x-www-form-urlencoded"}


def _when(days: int, hour: int) -> str:
    moment = (datetime.now(UTC) + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


class Demo:
    def __init__(self, info: DevInfo, admin: AcuityAdmin, say: Callable[[str], None] = print) -> None:
        self._info = info
        self._admin = admin
        self._say = say
        self._seen_deliveries = 0

    def run(self) -> None:
        info = self._info
        self._say(
            f"Local stack ready: gateway {info.gateway_url} · embedded AWS {info.aws_endpoint_url} · "
            f"fake Acuity {info.acuity_url}"
        )
        self._say(
            f"Demo Studio (tenant {info.demo_tenant['id']}) is connected to "
            f"{', '.join(info.queue_urls)}; its Acuity account sends webhooks to the gateway.\n"
        )
        jane = self._step(
            "Jane Doe books a 60-minute massage, $80.00, paid online",
            lambda: self._admin.book_appointment(
                DEMO_ACUITY_USER_ID,
                firstName="Jane",
                lastName="Doe",
                email="jane.doe@example.com",
                type="Massage",
                duration="60",
                price="80.00",
                amountPaid="80.00",
                datetime=_when(3, 15),
            ),
        )
        sam = self._step(
            "Sam Lee books a consultation, $45.50, to pay later",
            lambda: self._admin.book_appointment(
                DEMO_ACUITY_USER_ID,
                firstName="Sam",
                lastName="Lee",
                email="sam.lee@example.com",
                type="Consultation",
                duration="30",
                price="45.50",
                datetime=_when(4, 14),
            ),
        )
        # The package was sold earlier (and invoiced as an order): its code is Ana's to book with.
        self._admin.add_certificate(DEMO_ACUITY_USER_ID, "PKG-10CLASS", "package", email="ana.ruiz@example.com")
        ana = self._step(
            "Ana Ruiz books a $25.00 class with a package code (billed $0)",
            lambda: self._admin.book_appointment(
                DEMO_ACUITY_USER_ID,
                firstName="Ana",
                lastName="Ruiz",
                email="ana.ruiz@example.com",
                type="Yoga class",
                duration="60",
                price="25.00",
                certificate="PKG-10CLASS",
                datetime=_when(5, 17),
            ),
        )
        self._step(
            f"Sam's consultation (#{sam['id']}) is rescheduled a day later",
            lambda: self._admin.change_appointment(DEMO_ACUITY_USER_ID, sam["id"], datetime=_when(5, 14)),
        )
        self._step(
            f"Jane's massage (#{jane['id']}) is canceled",
            lambda: self._admin.change_appointment(DEMO_ACUITY_USER_ID, jane["id"], canceled=True),
        )
        order = self._step(
            "Someone buys a $100.00 gift certificate",
            lambda: self._admin.complete_order(
                DEMO_ACUITY_USER_ID,
                firstName="Lee",
                lastName="Park",
                email="lee.park@example.com",
                title="Gift Certificate",
                total="100.00",
            ),
        )
        self._forged_requests()
        booked = [
            ("appointment", jane["id"]),
            ("appointment", sam["id"]),
            ("appointment", ana["id"]),
            ("order", order["id"]),
        ]
        self._show_ledgers(booked)

    def _step(self, title: str, action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        self._say(f"• {title}")
        result = action()
        for delivery in self._new_deliveries():
            self._say("    " + describe_delivery(delivery))
        return result

    def _new_deliveries(self) -> list[dict[str, Any]]:
        deliveries = self._admin.deliveries(DEMO_ACUITY_USER_ID)
        fresh = deliveries[self._seen_deliveries :]
        self._seen_deliveries = len(deliveries)
        return fresh

    def _forged_requests(self) -> None:
        url = self._info.demo_tenant["webhook_url"]
        body = b"action=scheduled&id=1"
        self._say("• A stranger posts a webhook signed with the wrong key")
        forged = httpx.post(url, content=body, headers={**FORM, "x-acuity-signature": sign(body, "guess")})
        self._say(f"    gateway answered {forged.status_code} {answer_summary(forged)}")
        self._say("• A stranger posts to a tenant id that does not exist")
        unknown = httpx.post(self._info.webhook_base_url + "no-such-tenant-0000", content=body, headers=FORM)
        self._say(f"    gateway answered {unknown.status_code} {answer_summary(unknown)}\n")

    def _show_ledgers(self, booked: list[tuple[str, int]]) -> None:
        """What each ledger's sync function wrote, read back through the ledger's own API, one appointment or
        order at a time: our sync record names the invoice, the ledger's books show it."""
        # One deadline for the three queues (they drain at once): the demo never waits longer than this in all.
        deadline = time.monotonic() + DRAIN_SECONDS
        drained = {
            ledger: wait_until_drained(self._info, str(ledger), timeout=max(0.0, deadline - time.monotonic()))
            for ledger in LedgerName
        }
        books: dict[LedgerName, Books] = {}
        for ledger in LedgerName:
            ledger_reader = reader(ledger, self._info.ledgers[ledger])
            try:
                books[ledger] = ledger_reader.read()
            finally:
                ledger_reader.close()
        dynamodb = boto3.client("dynamodb", endpoint_url=self._info.aws_endpoint_url, region_name=REGION)
        records, trail = RecordStore(dynamodb, self._info.table_name), AuditTrail(dynamodb, self._info.table_name)
        tenant = self._info.demo_tenant["id"]
        self._say("In the books (the fake ledgers, read through their APIs):")
        for ledger, done in drained.items():
            if not done:
                name = ledger_declaration(ledger).display_name
                self._say(f"  ({name}'s sync is still running: this is what it wrote so far)")
        for kind, object_id in booked:
            self._say(f"  {kind} {object_id}")
            for ledger in LedgerName:
                key = RecordKey(tenant, ledger, EventKind(kind), object_id)
                record = records.load(key).record
                invoice_id = record.invoice.invoice_id if record.invoice else None
                self._say(f"    {ledger_declaration(ledger).display_name:<11} {describe(books[ledger], invoice_id)}")
                entries = trail.entries(tenant, ledger, EventKind(kind), object_id)
                # Why something was not written, or was written as it was (a code billed at $0...).
                explained = ("skipped", "written as the rule says")
                for reason in sorted({entry["detail"] for entry in entries if entry["decision"] in explained}):
                    self._say(f"{'':16}why: {reason}")
        self._say("")


def describe(books: Books, invoice_id: str | None) -> str:
    """One invoice as a line: customer, number, date, total, status, payments, credit notes, e-mailed or not."""
    invoice = next((i for i in books.invoices if i.id == invoice_id), None)
    if invoice is None:
        return "no invoice"
    customer = books.customer(invoice.customer_id)
    name = customer.display_name if customer else "?"
    if invoice.status == "voided":
        status = "voided"
    elif invoice.total == 0:
        status = "nothing due"
    else:
        status = "paid" if invoice.balance == 0 else f"open, balance ${invoice.balance:,.2f}"
    payments = ", ".join(f"payment ${p.amount:,.2f}" for p in books.payments_to(invoice.id)) or "no payment"
    emailed = "emailed" if invoice.emailed else "not sent"
    return (
        f"{name:<10} invoice {invoice.number:<9} {invoice.date}  ${invoice.total:>7,.2f}  {status}; {payments}; "
        f"{emailed}"
    )


DRAIN_SECONDS = 120.0  # a bound, not a pause: the wait ends as soon as the three queues are empty
QUEUE_COUNTS: list[Any] = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]


def queue_depth(sqs: Any, queue_url: str) -> int:
    """Messages visible plus in flight."""
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=QUEUE_COUNTS)["Attributes"]
    return sum(int(attributes[name]) for name in QUEUE_COUNTS)


def wait_until_drained(info: DevInfo, ledger: str, timeout: float = 90.0, *, sqs: Any = None) -> bool:
    """True once the ledger's queue is empty, nothing in flight, twice in a row. `sqs`: a client of the caller's
    (e.g. with credentials of its own), else one for the stack's endpoint."""
    sqs = sqs or boto3.client("sqs", endpoint_url=info.aws_endpoint_url, region_name=REGION)
    empty_checks, deadline = 0, time.monotonic() + timeout
    while time.monotonic() < deadline:
        empty_checks = empty_checks + 1 if queue_depth(sqs, info.queue_urls[ledger]) == 0 else 0
        if empty_checks == 2:
            return True
        time.sleep(0.25)
    return False


def describe_delivery(delivery: dict[str, Any]) -> str:
    status = delivery.get("status")
    if status is None:
        return f"Acuity → webhook {delivery.get('action')}: not delivered ({delivery.get('error')})"
    try:
        answer = json.loads(delivery.get("response_body") or "{}")
    except ValueError:
        answer = {}
    queued = ", ".join(answer.get("queued", [])) or "nothing"
    outcome = answer.get("outcome", "")
    target = f"{answer.get('kind', '')} {answer.get('id', '')}".strip()
    return f"Acuity → webhook {delivery.get('action')} ({target}): {status} {outcome}, queued for {queued}"


def answer_summary(response: httpx.Response) -> str:
    try:
        answer = response.json()
    except ValueError:
        return response.text
    return f"{answer.get('outcome', '')}: {answer.get('message', '')}"


def run_demo(state_dir: Path) -> int:
    with DevStack(state_dir=state_dir, gateway_port=0) as stack:
        assert stack.info is not None
        with AcuityAdmin(stack.info.acuity_url) as admin:
            Demo(stack.info, admin).run()
    print("\nStopped the local stack.")
    return 0
