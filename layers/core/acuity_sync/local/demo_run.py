"""`make demo`: start the local stack, act as a business in the fake Acuity, and show what happened to each
webhook it sent (accepted, queued for which ledgers, or refused and why), then stop."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx

from acuity_sync.acuity.signature import sign
from acuity_sync.acuity.webhook import EventKind
from acuity_sync.ledgers import LedgerName
from acuity_sync.local.acuity_admin import AcuityAdmin
from acuity_sync.local.demo import DEMO_ACUITY_USER_ID
from acuity_sync.local.devstack import REGION, DevInfo, DevStack
from acuity_sync.store.audit import AuditTrail

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
        ana = self._step(
            "Ana Ruiz books a class with a package code ($0)",
            lambda: self._admin.book_appointment(
                DEMO_ACUITY_USER_ID,
                firstName="Ana",
                lastName="Ruiz",
                email="ana.ruiz@example.com",
                type="Yoga class",
                duration="60",
                price="0.00",
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
        self._show_quickbooks(booked)
        self._show_queues()

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

    def _show_quickbooks(self, booked: list[tuple[str, int]]) -> None:
        """What the QuickBooks sync function wrote, read back through QuickBooks' own API."""
        drained = wait_until_drained(self._info, "quickbooks")
        quickbooks = self._info.ledgers["quickbooks"]
        books = QuickBooksReader(quickbooks["url"], quickbooks["realm_id"], quickbooks["access_token"])
        self._say(
            f"QuickBooks Online (the fake; company {quickbooks['realm_id']})"
            + ("" if drained else " — the sync is still running, this is what it wrote so far")
            + ":"
        )
        dynamodb = boto3.client("dynamodb", endpoint_url=self._info.aws_endpoint_url, region_name=REGION)
        trail = AuditTrail(dynamodb, self._info.table_name)
        for kind, object_id in booked:
            self._say("  " + books.describe(f"acuity:{kind}:{object_id}", f"{kind} {object_id}"))
            entries = trail.entries(self._info.demo_tenant["id"], LedgerName.QUICKBOOKS, EventKind(kind), object_id)
            reasons = {entry["detail"] for entry in entries if entry["decision"] == "skipped"}
            for reason in sorted(reasons):
                self._say(f"      why: {reason}")
        self._say("")

    def _show_queues(self) -> None:
        sqs = boto3.client("sqs", endpoint_url=self._info.aws_endpoint_url, region_name=REGION)
        self._say("The other ledgers' queues hold their messages until their sync functions come (next issue):")
        for ledger, url in self._info.queue_urls.items():
            if ledger == "quickbooks":
                continue
            groups = Counter(message_groups(sqs, url))
            listing = ", ".join(f"{group.split('#', 1)[1]} x{count}" for group, count in sorted(groups.items()))
            self._say(f"  {ledger:<11} {sum(groups.values())} messages: {listing}")


def wait_until_drained(info: DevInfo, ledger: str, timeout: float = 90.0) -> bool:
    """True once the ledger's queue is empty, nothing in flight, twice in a row."""
    sqs = boto3.client("sqs", endpoint_url=info.aws_endpoint_url, region_name=REGION)
    names: list[Any] = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    empty_checks, deadline = 0, time.monotonic() + timeout
    while time.monotonic() < deadline:
        attributes = sqs.get_queue_attributes(QueueUrl=info.queue_urls[ledger], AttributeNames=names)["Attributes"]
        empty_checks = empty_checks + 1 if sum(int(attributes[name]) for name in names) == 0 else 0
        if empty_checks == 2:
            return True
        time.sleep(0.5)
    return False


class QuickBooksReader:
    """Reads the books as an accountant would, through QuickBooks' API (with a read token of its own)."""

    def __init__(self, url: str, realm_id: str, access_token: str) -> None:
        self._base = f"{url}/v3/company/{realm_id}"
        self._headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        self._invoices = self._query("SELECT * FROM Invoice").get("Invoice", [])
        self._customers = {c["Id"]: c for c in self._query("SELECT * FROM Customer").get("Customer", [])}
        self._payments = {p["Id"]: p for p in self._query("SELECT * FROM Payment").get("Payment", [])}

    def _query(self, statement: str) -> dict[str, Any]:
        response = httpx.get(
            f"{self._base}/query", params={"query": statement, "minorversion": "75"}, headers=self._headers, timeout=10
        )
        response.raise_for_status()
        answer: dict[str, Any] = response.json()["QueryResponse"]
        return answer

    def describe(self, marker: str, label: str) -> str:
        invoice = next((i for i in self._invoices if marker in i.get("PrivateNote", "")), None)
        if invoice is None:
            return f"{label:<18} no invoice"
        customer = self._customers.get(invoice["CustomerRef"]["value"], {}).get("DisplayName", "?")
        paid = [
            self._payments[link["TxnId"]] for link in invoice.get("LinkedTxn", []) if link.get("TxnType") == "Payment"
        ]
        total, balance = invoice["TotalAmt"], invoice["Balance"]
        if invoice.get("PrivateNote", "").startswith("Voided"):
            status = "voided"
        elif total == 0:
            status = "nothing due"
        else:
            status = "paid" if balance == 0 else f"open, balance ${balance:,.2f}"
        payments = ", ".join(f"payment ${p['TotalAmt']:,.2f}" for p in paid) or "no payment"
        emailed = "emailed" if invoice.get("EmailStatus") == "EmailSent" else "draft, not sent"
        return (
            f"{label:<18} customer {customer:<10} invoice {invoice.get('DocNumber', ''):<5} {invoice['TxnDate']}  "
            f"${total:,.2f}  {status}; {payments}; {emailed}"
        )


def message_groups(sqs: Any, queue_url: str) -> list[str]:
    """Every message's group. FIFO hides a group while one of its messages is in flight, so receive until
    nothing comes back, then make them all visible again: the messages stay for the sync functions."""
    received: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60, AttributeNames=["MessageGroupId"]
    ).get("Messages", []):
        received.extend(batch)
    for message in received:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    return [message["Attributes"]["MessageGroupId"] for message in received]


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
