"""`make demo`: start the local stack, act as a business in the fake Acuity, and show what happened to each
webhook it sent (accepted, queued for which ledgers, or refused and why), then stop."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx

from acuity_sync.acuity.signature import sign
from acuity_sync.local.acuity_admin import AcuityAdmin
from acuity_sync.local.demo import DEMO_ACUITY_USER_ID
from acuity_sync.local.devstack import REGION, DevInfo, DevStack

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
        self._step(
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
        self._step(
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

    def _show_queues(self) -> None:
        sqs = boto3.client("sqs", endpoint_url=self._info.aws_endpoint_url, region_name=REGION)
        self._say("The ledgers' queues now hold (the sync functions of the next issues consume them):")
        for ledger, url in self._info.queue_urls.items():
            groups = Counter(message_groups(sqs, url))
            listing = ", ".join(f"{group.split('#', 1)[1]} x{count}" for group, count in sorted(groups.items()))
            self._say(f"  {ledger:<11} {sum(groups.values())} messages: {listing}")


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
