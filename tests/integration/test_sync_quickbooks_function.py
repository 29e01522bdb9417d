"""The QuickBooks sync function, as the template names it, invoked in-process with SQS events against moto,
the fake Acuity and the fake QuickBooks: a booking becomes a customer, an invoice and a payment; a throttled
message backs off with ChangeMessageVisibility and fails only its own group."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import ModuleType
from typing import Any

import boto3
import pytest

from acuity_sync.domain.message import SyncRequest
from acuity_sync.domain.names import EventKind
from acuity_sync_toolkit.fakes.acuity import FakeAcuity
from acuity_sync_toolkit.fakes.quickbooks import FakeQuickBooks
from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack
from acuity_sync_toolkit.stack.connections import quickbooks_tenant
from acuity_sync_toolkit.stack.pollers import sqs_event
from tests.support.aws import loaded_handler
from tests.support.bookings import booking
from tests.support.http_events import FakeLambdaContext
from tests.support.waiting import wait_until

TENANT = "7777777777777777bbbbbbbbbbbbbbbb"
REALM = "4620816365200000001"
USER, KEY = 8001, "acuity-key-8001"


@dataclass
class Rig:
    stack: ProvisionedStack
    acuity: FakeAcuity
    quickbooks: FakeQuickBooks
    handler: ModuleType

    def queue(self, object_id: int, kind: EventKind = EventKind.APPOINTMENT) -> dict[str, Any]:
        """Put the webhook's message on the QuickBooks queue and take it off as Lambda's poller would."""
        self.send(object_id, kind)
        return self.receive()

    def send(self, object_id: int, kind: EventKind = EventKind.APPOINTMENT, *, request_id: str | None = None) -> None:
        """The message the webhook queues for this object (its request id tells two messages of one apart)."""
        request = SyncRequest(
            TENANT,
            kind,
            object_id,
            "changed",
            datetime.now(UTC).isoformat(),
            request_id or f"req-{object_id}-{id(self)}",
        )
        boto3.client("sqs", region_name=self.stack.region).send_message(
            QueueUrl=self.stack.queue_urls["QuickBooksQueue"],
            MessageBody=request.to_json(),
            MessageGroupId=request.group_id,
            MessageDeduplicationId=request.request_id,
        )

    def receive(self) -> dict[str, Any]:
        """The batch Lambda's poller would take off the QuickBooks queue now, as the function's SQS event."""
        sqs = boto3.client("sqs", region_name=self.stack.region)
        url = self.stack.queue_urls["QuickBooksQueue"]
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
        return sqs_event(messages, queue_arn=self.stack.queue_arns["QuickBooksQueue"], region=self.stack.region)

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """Invoke, then delete what succeeded, as Lambda's poller does with a partial batch response."""
        result: dict[str, Any] = self.handler.lambda_handler(event, FakeLambdaContext())
        failed = {item["itemIdentifier"] for item in result["batchItemFailures"]}
        sqs = boto3.client("sqs", region_name=self.stack.region)
        for record in event["Records"]:
            if record["messageId"] not in failed:
                sqs.delete_message(
                    QueueUrl=self.stack.queue_urls["QuickBooksQueue"], ReceiptHandle=record["receiptHandle"]
                )
        return result

    def books(self) -> dict[str, Any]:
        return self.quickbooks.state(REALM)


@pytest.fixture
def acuity() -> Iterator[FakeAcuity]:
    with FakeAcuity() as fake:
        yield fake


@pytest.fixture
def quickbooks() -> Iterator[FakeQuickBooks]:
    with FakeQuickBooks() as fake:
        yield fake


@pytest.fixture
def stack_parameters(quickbooks: FakeQuickBooks) -> dict[str, str]:
    return {"QuickBooksApiUrl": quickbooks.url}


@pytest.fixture
def rig(
    stack: ProvisionedStack, acuity: FakeAcuity, quickbooks: FakeQuickBooks, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Rig]:
    quickbooks_tenant(
        stack, acuity, quickbooks, tenant_id=TENANT, acuity_user_id=USER, acuity_api_key=KEY, realm_id=REALM
    )
    with loaded_handler(stack, "SyncQuickBooksFunction", monkeypatch) as handler:
        yield Rig(stack, acuity, quickbooks, handler)


def book(rig: Rig, **fields: Any) -> int:
    appointment = rig.acuity.book_appointment(USER, booking(**fields))
    return int(appointment["id"])


def test_a_paid_booking_becomes_customer_invoice_and_payment(rig: Rig) -> None:
    appointment = book(rig, amountPaid="80.00")
    assert rig.invoke(rig.queue(appointment)) == {"batchItemFailures": []}
    books = rig.books()
    assert [c["DisplayName"] for c in books["Customer"]] == ["Jane Doe"]
    (invoice,) = books["Invoice"]
    assert Decimal(str(invoice["TotalAmt"])) == Decimal("80.00")
    assert Decimal(str(invoice["Balance"])) == Decimal("0")
    assert invoice["TxnDate"] == "2026-12-03"
    assert f"acuity:appointment:{appointment}" in invoice["PrivateNote"]
    assert len(books["Payment"]) == 1


def test_the_same_message_twice_writes_nothing_more(rig: Rig) -> None:
    appointment = book(rig, amountPaid="80.00")
    rig.invoke(rig.queue(appointment))
    writes = [r for r in rig.quickbooks.requests(REALM) if r["method"] == "POST"]
    rig.invoke(rig.queue(appointment))
    assert [r for r in rig.quickbooks.requests(REALM) if r["method"] == "POST"] == writes
    assert (len(rig.books()["Invoice"]), len(rig.books()["Payment"])) == (1, 1)


def test_a_returning_client_costs_no_customer_lookup(rig: Rig) -> None:
    rig.invoke(rig.queue(book(rig)))
    lookups_before = [r for r in rig.quickbooks.requests(REALM) if "Customer" in str(r.get("query", ""))]
    rig.invoke(rig.queue(book(rig, datetime="2026-12-10T10:00:00-0500")))
    lookups_after = [r for r in rig.quickbooks.requests(REALM) if "Customer" in str(r.get("query", ""))]
    assert lookups_after == lookups_before  # the id came from the customer cache (CUST#…)
    assert len(rig.books()["Customer"]) == 1
    assert len(rig.books()["Invoice"]) == 2


def test_a_throttled_message_backs_off_and_fails_only_itself(rig: Rig) -> None:
    first, second = book(rig), book(rig, firstName="Sam", lastName="Lee", email="sam@example.com")
    for object_id in (first, second):
        rig.send(object_id)
    event = rig.receive()
    assert len(event["Records"]) == 2
    rig.quickbooks.plan_fault(REALM, status=429, count=1)  # the first QuickBooks call of the batch
    result = rig.invoke(event)
    assert len(result["batchItemFailures"]) == 1  # the throttled one only; the other appointment went on
    assert len(rig.books()["Invoice"]) == 1
    # The throttled message is in flight until QuickBooks' 60 s have passed, then comes back.
    sqs, url = boto3.client("sqs", region_name=rig.stack.region), rig.stack.queue_urls["QuickBooksQueue"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_a_backed_off_group_comes_back_whole_after_its_wait(
    stack: ProvisionedStack, acuity: FakeAcuity, quickbooks: FakeQuickBooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two messages of one appointment in one batch: the first is throttled, the FIFO processor skips the second.
    Both come back after the throttle's wait; left at the queue's visibility timeout (minutes), the second would
    hold the whole group, because SQS serves no message of a FIFO group while another of it is in flight."""
    quickbooks_tenant(
        stack, acuity, quickbooks, tenant_id=TENANT, acuity_user_id=USER, acuity_api_key=KEY, realm_id=REALM
    )
    monkeypatch.setenv("ACUITY_SYNC_TIME_SCALE", "0.02")  # QuickBooks' 60 s after a 429 become about a second
    with loaded_handler(stack, "SyncQuickBooksFunction", monkeypatch) as handler:
        rig = Rig(stack, acuity, quickbooks, handler)
        appointment = book(rig)
        sqs = boto3.client("sqs", region_name=stack.region)
        url = stack.queue_urls["QuickBooksQueue"]
        for attempt in ("booked", "rescheduled"):
            rig.send(appointment, request_id=attempt)
        event = rig.receive()
        assert len(event["Records"]) == 2
        quickbooks.plan_fault(REALM, status=429, count=1)
        result = rig.invoke(event)
        assert len(result["batchItemFailures"]) == 2  # the throttled one, and the one behind it in its group

        def both_back() -> bool:
            counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            return counts["Attributes"]["ApproximateNumberOfMessages"] == "2"

        # Far less than the queue's 360 s visibility timeout: the skipped message came back with the throttled one.
        wait_until(both_back, timeout=20.0, what="the appointment's two messages back on the queue")


def test_each_sync_emits_its_outcome_and_each_quickbooks_call_its_latency(
    rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    rig.invoke(rig.queue(book(rig, amountPaid="80.00")))
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    syncs = [d for d in documents if "Syncs" in d]
    assert [(d["ledger"], d["outcome"], d["service"]) for d in syncs] == [("quickbooks", "synced", "sync-quickbooks")]
    latencies = [d for d in documents if "LedgerLatency" in d]
    calls = rig.quickbooks.requests(REALM)
    assert len(latencies) == len(calls)  # one per QuickBooks call
    assert all(d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] == "Milliseconds" for d in latencies)


def log_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{") and '"level"' in line]


def test_a_message_that_fails_is_logged_at_once_not_only_by_the_dlq_alarm(
    rig: Rig, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from acuity_sync import observability

    # The logger kept the stdout of the moment it was created; point it at this test's captured stdout.
    monkeypatch.setattr(observability.logger.registered_handler, "stream", sys.stdout)
    sqs = boto3.client("sqs", region_name=rig.stack.region)
    url = rig.stack.queue_urls["QuickBooksQueue"]
    sqs.send_message(QueueUrl=url, MessageBody='{"v": 99}', MessageGroupId="garbage", MessageDeduplicationId="g1")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    event = sqs_event(messages, queue_arn=rig.stack.queue_arns["QuickBooksQueue"], region=rig.stack.region)
    assert len(rig.invoke(event)["batchItemFailures"]) == 1
    (unreadable,) = [line for line in log_lines(capfd.readouterr().out) if line["message"] == "unreadable message"]
    assert unreadable["level"] == "ERROR"
    assert "unsupported message version 99" in unreadable["exception"]

    # Our table gone (a store failure, not an outcome): the message fails, and the log says why, now.
    appointment = book(rig, email="jane.o'hara@example.com")
    boto3.client("dynamodb", region_name=rig.stack.region).delete_table(TableName=rig.stack.table_name)
    assert len(rig.invoke(rig.queue(appointment))["batchItemFailures"]) == 1
    output = capfd.readouterr().out
    (failed,) = [line for line in log_lines(output) if line["message"] == "sync failed"]
    assert failed["level"] == "ERROR"
    assert failed["correlation_id"] == f"{TENANT}#appointment#{appointment}"
    assert "StoreUnavailable" in failed["exception"]
    assert "o'hara" not in output
    assert KEY not in output


class InvocationContext(FakeLambdaContext):
    """A Lambda context with `remaining` seconds left in the invocation."""

    def __init__(self, remaining: float) -> None:
        self.remaining = remaining

    def get_remaining_time_in_millis(self) -> int:
        return int(self.remaining * 1000)


def test_no_token_refresh_starts_without_the_time_left_to_store_it(rig: Rig) -> None:
    # The access token is about to lapse: the next sync must refresh it first.
    boto3.client("dynamodb", region_name=rig.stack.region).update_item(
        TableName=rig.stack.table_name,
        Key={"pk": {"S": f"TENANT#{TENANT}"}, "sk": {"S": "CONN#quickbooks"}},
        UpdateExpression="SET access_expires_at = :soon",
        ExpressionAttributeValues={":soon": {"N": str(datetime.now(UTC).timestamp() + 60)}},
    )
    appointment = book(rig)
    event = rig.queue(appointment)

    # 10 s left: a token request (20 s at worst) and its store (9 s) might not finish before Lambda kills us.
    result: dict[str, Any] = rig.handler.lambda_handler(event, InvocationContext(remaining=10.0))
    assert len(result["batchItemFailures"]) == 1  # retried by a later invocation
    assert rig.quickbooks.authority.refreshes == 0  # the single-use-safe choice: the refresh token was not spent
    assert rig.books()["Invoice"] == []

    # A later invocation, with the time: it refreshes, stores, then syncs.
    sqs = boto3.client("sqs", region_name=rig.stack.region)
    url = rig.stack.queue_urls["QuickBooksQueue"]
    (record,) = event["Records"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0)
    later = rig.receive()
    result = rig.handler.lambda_handler(later, InvocationContext(remaining=60.0))
    assert result == {"batchItemFailures": []}
    assert rig.quickbooks.authority.refreshes == 1
    assert len(rig.books()["Invoice"]) == 1


def test_a_warm_container_decrypts_the_api_key_and_the_token_once(
    stack: ProvisionedStack, acuity: FakeAcuity, quickbooks: FakeQuickBooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KMS charges per request: the container keeps what it decrypted (store/kms.py), so a second message of the
    same tenant makes no Decrypt (the first makes two: the Acuity API key and the QuickBooks access token)."""
    quickbooks_tenant(
        stack, acuity, quickbooks, tenant_id=TENANT, acuity_user_id=USER, acuity_api_key=KEY, realm_id=REALM
    )
    decrypts: list[str] = []
    boto3.DEFAULT_SESSION.events.register(  # type: ignore[union-attr]
        "before-call.kms.Decrypt", lambda **_: decrypts.append("Decrypt")
    )
    with loaded_handler(stack, "SyncQuickBooksFunction", monkeypatch) as handler:
        rig = Rig(stack, acuity, quickbooks, handler)
        assert rig.invoke(rig.queue(book(rig, amountPaid="80.00"))) == {"batchItemFailures": []}
        assert len(decrypts) == 2
        assert rig.invoke(rig.queue(book(rig, datetime="2026-12-10T10:00:00-0500"))) == {"batchItemFailures": []}
        assert len(decrypts) == 2
    assert len(rig.books()["Invoice"]) == 2


def test_a_message_is_not_started_without_the_time_left_to_finish_it(rig: Rig) -> None:
    """Near the invocation's end the rest of the batch is handed back unstarted (reported as failures), so that a
    timeout never fails the batch whole: the messages finished before are deleted, not done again."""
    appointment = book(rig)
    event = rig.queue(appointment)
    result: dict[str, Any] = rig.handler.lambda_handler(event, InvocationContext(remaining=4.0))
    assert [item["itemIdentifier"] for item in result["batchItemFailures"]] == [event["Records"][0]["messageId"]]
    assert rig.books()["Invoice"] == []  # not started: nothing read, nothing written

    result = rig.handler.lambda_handler(event, InvocationContext(remaining=6.0))
    assert result == {"batchItemFailures": []}
    assert len(rig.books()["Invoice"]) == 1


class SlowingContext(FakeLambdaContext):
    """An invocation whose time runs out 8 s per invoice written: each message of the batch takes 8 s."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig

    def get_remaining_time_in_millis(self) -> int:
        return int((20.0 - 8.0 * len(self.rig.books()["Invoice"])) * 1000)


def test_the_margin_grows_with_the_longest_message_of_the_batch(rig: Rig) -> None:
    """After a message that took 8 s, the next is not started with 12 s left (5 s + 8 s would be needed)."""
    for appointment in (book(rig), book(rig, email="second.client@example.com")):
        rig.send(appointment)
    event = rig.receive()
    assert len(event["Records"]) == 2
    result: dict[str, Any] = rig.handler.lambda_handler(event, SlowingContext(rig))
    assert [item["itemIdentifier"] for item in result["batchItemFailures"]] == [event["Records"][1]["messageId"]]
    assert len(rig.books()["Invoice"]) == 1
