"""The local pollers behave as Lambda's SQS event source mapping over the template's FIFO queues in moto (server
mode, so that the function's worker processes reach it): the event Lambda builds, partial batch responses,
whole-batch failures, one batch per FIFO group at a time, maximum concurrency, the DLQ, and a clean stop."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import SqsModel

from acuity_sync_toolkit.stack.cloudformation import ProvisionedStack, provision
from acuity_sync_toolkit.stack.functions import FunctionSpec, QueueSource
from acuity_sync_toolkit.stack.lambda_runtime import FunctionPool
from acuity_sync_toolkit.stack.pollers import (
    DEFAULT_MAXIMUM_CONCURRENCY,
    PollerGroup,
    QueuePoller,
    items_to_retry,
    maximum_concurrency,
    scaled_visibility_timeout,
)

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
CONSUMER_DIR = ROOT / "tests" / "fixtures" / "functions" / "sqs_consumer"
REGION = "us-east-1"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
QUEUE = "QuickBooksQueue"  # FIFO, visibility timeout 360 s, maxReceiveCount 25, as the template says
DEAD_LETTER_QUEUE = "QuickBooksDeadLetterQueue"
POLLER_SCALE = 0.001  # 360 s x 0.001 rounds up to 1 s: SQS's shortest visibility timeout
FUNCTION_SCALE = 1 / 60  # the sync functions' 60 s timeout becomes 1 s: no longer than the visibility timeout
FAST_POLL = 0.02  # short polls: moto notices an ended visibility timeout only at whole seconds of a long poll
THREAD_PREFIX = "sqs-poller"
TEMPLATE_MAPPINGS = {  # function -> the queues it consumes, as template.yaml declares them
    "SyncQuickBooksFunction": ["QuickBooksQueue"],
    "SyncXeroFunction": ["XeroQueue"],
    "SyncFreshBooksFunction": ["FreshBooksQueue"],
}


# ----------------------------------------------------------------------------------------------- helpers


def wait_until(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {seconds} s: {condition}")
        time.sleep(0.02)


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def poller_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith(THREAD_PREFIX)]


@dataclass
class Invocation:
    request_id: str
    pid: int
    start: float
    records: list[dict[str, Any]]
    end: float | None = None
    response: Any = None

    @property
    def ids(self) -> list[str]:
        return [json.loads(record["body"])["id"] for record in self.records]

    @property
    def groups(self) -> set[str]:
        return {record["attributes"]["MessageGroupId"] for record in self.records}


class ConsumerLog:
    """What the fixture consumer wrote: one start line and (unless it died) one end line per invocation."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def invocations(self) -> list[Invocation]:
        if not self.path.exists():
            return []
        found: dict[str, Invocation] = {}
        for line in self.path.read_text().splitlines():
            entry = json.loads(line)
            if entry["phase"] == "start":
                found[entry["request_id"]] = Invocation(
                    entry["request_id"], entry["pid"], entry["time"], entry["event"]["Records"]
                )
            else:
                found[entry["request_id"]].end = entry["time"]
                found[entry["request_id"]].response = entry["response"]
        return sorted(found.values(), key=lambda invocation: invocation.start)

    def deliveries(self) -> dict[str, list[int]]:
        """Message name -> the ApproximateReceiveCount of each delivery, in order."""
        counts: dict[str, list[int]] = defaultdict(list)
        for invocation in self.invocations():
            for record in invocation.records:
                counts[json.loads(record["body"])["id"]].append(int(record["attributes"]["ApproximateReceiveCount"]))
        return dict(counts)

    def first_events(self) -> list[dict[str, Any]]:
        return [json.loads(line)["event"] for line in self.path.read_text().splitlines() if '"phase": "start"' in line]


@dataclass
class Harness:
    stack: ProvisionedStack
    sqs: SQSClient
    log: ConsumerLog
    endpoint_url: str
    environment: dict[str, str] = field(default_factory=dict)  # more for the function's workers
    pools: list[FunctionPool] = field(default_factory=list)
    pollers: list[QueuePoller] = field(default_factory=list)

    def queue_url(self, logical_id: str = QUEUE) -> str:
        return self.stack.queue_urls[logical_id]

    def spec(self, source: QueueSource, logical_id: str = "SqsConsumerFunction") -> FunctionSpec:
        return FunctionSpec(
            logical_id=logical_id,
            code_dir=CONSUMER_DIR,
            handler="app.lambda_handler",
            layer_dirs=(),
            runtime="python3.11",
            timeout_seconds=60,  # the template's sync function timeout
            memory_mb=256,
            environment={},
            queue_sources=(source,),
        )

    def pool(self, spec: FunctionSpec, workers: int = 2, time_scale: float = FUNCTION_SCALE) -> FunctionPool:
        environment = {
            **CREDENTIALS,
            **self.environment,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "SQS_CONSUMER_LOG": str(self.log.path),
        }
        pool = FunctionPool(spec, environment=environment, max_workers=workers, time_scale=time_scale)
        self.pools.append(pool)
        return pool

    def poller(
        self,
        *,
        queue: str = QUEUE,
        batch_size: int = 10,
        report_batch_item_failures: bool = True,
        concurrency: int | None = None,
        workers: int = 2,
        wait_seconds: float = FAST_POLL,
        time_scale: float = POLLER_SCALE,
    ) -> QueuePoller:
        """A poller (not started) whose pool is warm: a retry never waits for a cold start, which on a busy
        machine can outlast a 1 s visibility timeout and cause a redelivery the test did not ask for."""
        source = QueueSource(
            queue_logical_id=queue,
            queue_url=self.queue_url(queue),
            batch_size=batch_size,
            report_batch_item_failures=report_batch_item_failures,
        )
        pool = self.pool(self.spec(source), workers)
        poller = QueuePoller(
            source,
            pool,
            sqs_client=self.sqs,
            queue_arn=self.stack.queue_arns[queue],
            region=REGION,
            time_scale=time_scale,
            wait_seconds=wait_seconds,
            max_concurrency=concurrency,
        )
        self.pollers.append(poller)
        pool.warm(workers)
        return poller

    def send(self, name: str, group: str, queue: str = QUEUE, **directive: Any) -> dict[str, Any]:
        response = self.sqs.send_message(
            QueueUrl=self.queue_url(queue),
            MessageBody=json.dumps({"id": name, **directive}),
            MessageGroupId=group,
            MessageDeduplicationId=f"{name}-{secrets.token_hex(4)}",
        )
        return dict(response)

    def depth(self, queue: str = QUEUE) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url(queue),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def close(self) -> None:
        for poller in self.pollers:
            poller.stop()
        for pool in self.pools:
            pool.close()


@pytest.fixture
def harness(moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Harness]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    # A fresh stack per test on the module's server: its queues start empty.
    stack = provision(TEMPLATE, stack_name=f"pollers-{secrets.token_hex(4)}", endpoint_url=moto_server, region=REGION)
    sqs = boto3.client("sqs", endpoint_url=moto_server, region_name=REGION)
    test_harness = Harness(stack, sqs, ConsumerLog(tmp_path / "consumer.jsonl"), moto_server)
    try:
        yield test_harness
    finally:
        test_harness.close()


# ----------------------------------------------------------------------------------------------- the event


def test_the_event_is_the_one_lambda_builds_for_a_fifo_queue(harness: Harness) -> None:
    body = json.dumps({"id": "a"})
    sent = harness.sqs.send_message(
        QueueUrl=harness.queue_url(),
        MessageBody=body,
        MessageGroupId="tenant#appointment#1",
        MessageDeduplicationId="request-1",
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "appointment"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    poller = harness.poller().start()
    wait_until(lambda: poller.stats.deleted == 1)

    (event,) = harness.log.first_events()
    assert list(event) == ["Records"]
    (record,) = event["Records"]
    assert list(record) == [
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "md5OfMessageAttributes",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    ]
    assert record["messageId"] == sent["MessageId"]
    assert record["receiptHandle"]
    assert record["body"] == body
    assert record["md5OfBody"] == sent["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()  # noqa: S324
    assert record["md5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == harness.stack.queue_arns[QUEUE]
    assert record["awsRegion"] == REGION
    attributes = record["attributes"]
    assert set(attributes) == {
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SequenceNumber",
        "MessageGroupId",
        "SenderId",
        "MessageDeduplicationId",
        "ApproximateFirstReceiveTimestamp",
    }
    assert attributes["ApproximateReceiveCount"] == "1"
    assert attributes["MessageGroupId"] == "tenant#appointment#1"
    assert attributes["MessageDeduplicationId"] == "request-1"
    assert attributes["SequenceNumber"] == sent["SequenceNumber"]
    assert attributes["SentTimestamp"].isdigit()
    assert attributes["ApproximateFirstReceiveTimestamp"].isdigit()
    assert all(isinstance(value, str) for value in attributes.values())
    assert record["messageAttributes"] == {
        "kind": {"stringValue": "appointment", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
        "blob": {
            "binaryValue": base64.b64encode(b"\x00\x01").decode(),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Binary",
        },
    }
    wait_until(lambda: harness.depth() == 0)


def test_every_event_is_one_powertools_parses_as_sqs(harness: Harness) -> None:
    harness.sqs.send_message(
        QueueUrl=harness.queue_url(),
        MessageBody=json.dumps({"id": "plain"}),
        MessageGroupId="g1",
        MessageDeduplicationId="request-1",
    )
    harness.sqs.send_message(
        QueueUrl=harness.queue_url(),
        MessageBody=json.dumps({"id": "with-attributes"}),
        MessageGroupId="g2",
        MessageDeduplicationId="request-2",
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "appointment"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    with harness.poller():
        wait_until(lambda: harness.depth() == 0)

    records = [record for event in harness.log.first_events() for record in SqsModel.model_validate(event).Records]

    assert sorted(json.loads(str(record.body))["id"] for record in records) == ["plain", "with-attributes"]
    for record in records:
        assert record.eventSource == "aws:sqs"
        assert record.eventSourceARN == harness.stack.queue_arns[QUEUE]
        assert record.awsRegion == REGION
        assert record.attributes.MessageGroupId in ("g1", "g2")
        assert record.attributes.MessageDeduplicationId in ("request-1", "request-2")
        assert record.attributes.ApproximateReceiveCount == "1"
        assert record.attributes.SentTimestamp.tzinfo is not None
    attributes = next(record.messageAttributes for record in records if record.messageAttributes)
    assert (attributes["kind"].stringValue, attributes["kind"].dataType) == ("appointment", "String")
    assert (attributes["blob"].binaryValue, attributes["blob"].dataType) == ("AAE=", "Binary")


# ----------------------------------------------------------------------------------------------- success


def test_every_message_is_delivered_once_and_deleted(harness: Harness) -> None:
    # Long polling, as Lambda does when the queue is idle: messages sent after the poller started arrive.
    poller = harness.poller(wait_seconds=1.0).start()
    sent = {group: [f"{group}-{n}" for n in range(5)] for group in ("g1", "g2", "g3", "g4")}
    for n in range(5):
        for group, names in sent.items():
            harness.send(names[n], group)

    wait_until(lambda: poller.stats.deleted == 20)
    assert harness.depth() == 0
    deliveries = harness.log.deliveries()
    assert deliveries == {name: [1] for names in sent.values() for name in names}
    for group, names in sent.items():  # without redeliveries a group's order holds
        delivered = [name for invocation in harness.log.invocations() for name in invocation.ids if name in names]
        assert delivered == names, group
    assert poller.stats.failed_batches == poller.stats.failed_items == 0


# ----------------------------------------------------------------------------------------------- failures


def test_a_reported_item_failure_comes_back_and_the_rest_of_its_batch_is_deleted(harness: Harness) -> None:
    harness.send("a", "g1", fail=1)
    harness.send("b", "g2")
    harness.send("c", "g3")
    poller = harness.poller().start()

    wait_until(lambda: harness.log.deliveries().get("a") == [1, 2] and poller.stats.deleted == 3)
    invocations = harness.log.invocations()
    assert invocations[0].ids == ["a", "b", "c"]  # one batch
    assert invocations[0].response == {
        "batchItemFailures": [{"itemIdentifier": invocations[0].records[0]["messageId"]}]
    }
    assert harness.log.deliveries() == {"a": [1, 2], "b": [1], "c": [1]}
    # It came back after the scaled visibility timeout (1 s), neither at once nor after the queue's 360 s.
    assert 0.8 < invocations[1].start - invocations[0].start < 5
    assert harness.depth() == 0
    assert poller.stats.failed_items == 1


def test_without_report_batch_item_failures_a_returned_list_is_ignored(harness: Harness) -> None:
    harness.send("a", "g1", fail=1)
    harness.send("b", "g2")
    poller = harness.poller(report_batch_item_failures=False).start()

    wait_until(lambda: poller.stats.deleted == 2)
    assert harness.depth() == 0
    assert harness.log.deliveries() == {"a": [1], "b": [1]}


@pytest.mark.parametrize(
    ("how", "extra"),
    [
        ("raise", {}),
        ("exit", {}),
        ("hang", {}),  # outlives the function's 1 s timeout
        ("respond", {"response": {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]}}),
    ],
)
def test_a_failed_invocation_or_a_rejected_response_fails_the_whole_batch(
    harness: Harness, how: str, extra: dict[str, Any]
) -> None:
    harness.send("a", "g1", fail=1, how=how, **extra)
    harness.send("b", "g2")
    poller = harness.poller().start()

    wait_until(lambda: harness.log.deliveries() == {"a": [1, 2], "b": [1, 2]} and poller.stats.deleted == 2)
    assert harness.depth() == 0
    first, *retries = harness.log.invocations()
    assert first.ids == ["a", "b"]
    assert (first.end is None) == (how in ("exit", "hang"))
    # Both come back (together, or apart when their visibility timeouts end a millisecond apart).
    assert sorted(name for retry in retries for name in retry.ids) == ["a", "b"]
    assert poller.stats.failed_batches == 1


@pytest.mark.parametrize(
    ("response", "retried"),
    [
        (None, set()),  # a null response
        ({}, set()),  # an empty response
        ({"statusCode": 200}, set()),
        ({"batchItemFailures": None}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "c"}]}, {"a", "c"}),
        (b'{"batchItemFailures": [{"itemIdentifier": "a"}]}', {"a"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b", "c"}),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, {"a", "b", "c"}),
        ({"batchItemFailures": [{"itemId": "b"}]}, {"a", "b", "c"}),
        ({"batchItemFailures": [{"itemIdentifier": "b"}, {"itemIdentifier": "x"}]}, {"a", "b", "c"}),
        ({"batchItemFailures": ["b"]}, {"a", "b", "c"}),
        ({"batchItemFailures": "b"}, {"a", "b", "c"}),
        ("ok", {"a", "b", "c"}),
        ([{"itemIdentifier": "b"}], {"a", "b", "c"}),
        (b"not json", {"a", "b", "c"}),
    ],
)
def test_responses_are_read_as_lambda_reads_them(response: object, retried: set[str]) -> None:
    assert items_to_retry(response, ["a", "b", "c"]) == retried


# ----------------------------------------------------------------------------------------------- concurrency


@pytest.mark.parametrize("concurrency", [2, 3])
def test_a_group_never_runs_twice_at_once_and_groups_run_in_parallel(harness: Harness, concurrency: int) -> None:
    groups = {f"g{n}": [f"g{n}-{m}" for m in range(3)] for n in range(4)}
    for m in range(3):
        for group, names in groups.items():
            harness.send(names[m], group, sleep=0.15)
    poller = harness.poller(batch_size=1, concurrency=concurrency, workers=concurrency).start()

    wait_until(lambda: poller.stats.deleted == 12)
    invocations = harness.log.invocations()
    assert all(invocation.end is not None for invocation in invocations)
    for group, names in groups.items():
        own = [invocation for invocation in invocations if group in invocation.groups]
        assert [name for invocation in own for name in invocation.ids] == names
        for earlier, later in itertools.pairwise(own):
            assert earlier.end is not None
            assert earlier.end <= later.start, f"{group} ran twice at once"
    edges = sorted([(invocation.start, 1) for invocation in invocations] + [(i.end or 0, -1) for i in invocations])
    running = most = 0
    for _, change in edges:
        running += change
        most = max(most, running)
    assert most == concurrency


def test_maximum_concurrency_comes_from_the_template_else_a_default_and_is_capped_by_the_pool(
    harness: Harness,
) -> None:
    source = QueueSource(QUEUE, harness.queue_url(), maximum_concurrency=5)
    assert maximum_concurrency(source) == 5
    assert maximum_concurrency(source, 3) == 3
    assert maximum_concurrency(replace(source, maximum_concurrency=None)) == DEFAULT_MAXIMUM_CONCURRENCY
    poller = QueuePoller(
        source,
        harness.pool(harness.spec(source), workers=4),
        sqs_client=harness.sqs,
        queue_arn=harness.stack.queue_arns[QUEUE],
        region=REGION,
        time_scale=POLLER_SCALE,
    )
    assert poller.concurrency == 4


# ----------------------------------------------------------------------------------------------- visibility, DLQ


def test_visibility_timeouts_are_scaled_to_whole_seconds_and_checked_against_the_function_timeout(
    harness: Harness,
) -> None:
    assert scaled_visibility_timeout(360, 1.0) is None  # the queue's own
    assert scaled_visibility_timeout(360, POLLER_SCALE) == 1
    assert scaled_visibility_timeout(360, 0.01) == 4
    assert scaled_visibility_timeout(360, 0.0001) == 1  # never 0: that would free a running batch's group
    assert harness.poller(workers=1).visibility_timeout == 1

    source = QueueSource(QUEUE, harness.queue_url())
    slow = harness.pool(harness.spec(source), time_scale=0.1)  # a 6 s function timeout against 1 s visibility
    with pytest.raises(ValueError, match="visibility timeout"):
        QueuePoller(source, slow, sqs_client=harness.sqs, queue_arn="arn", region=REGION, time_scale=POLLER_SCALE)
    with pytest.raises(ValueError, match="batch size"):
        QueuePoller(replace(source, batch_size=11), slow, sqs_client=harness.sqs, queue_arn="arn", region=REGION)


def test_after_max_receive_count_failures_the_message_is_in_the_dead_letter_queue(harness: Harness) -> None:
    redrive = json.loads(
        harness.sqs.get_queue_attributes(QueueUrl=harness.queue_url(), AttributeNames=["RedrivePolicy"])["Attributes"][
            "RedrivePolicy"
        ]
    )
    max_receive_count = int(redrive["maxReceiveCount"])
    assert max_receive_count == 25  # the template's
    # Each failure backs off with ChangeMessageVisibility(0): the function's own setting wins over the poller's
    # (4 s here, ample on a busy machine); 25 of those would take 100 s.
    harness.environment["SQS_CONSUMER_BACKOFF"] = "1"  # its SQS client is made in the init phase
    harness.send("poison", "g1", fail=10_000, backoff=0)
    harness.send("fine", "g2")
    poller = harness.poller(time_scale=0.01)
    assert poller.visibility_timeout == 4
    poller.start()
    started = time.monotonic()

    wait_until(lambda: harness.depth(DEAD_LETTER_QUEUE) == 1, seconds=30)
    elapsed = time.monotonic() - started
    poller.stop()
    assert harness.depth() == 0
    deliveries = harness.log.deliveries()
    assert deliveries == {"poison": list(range(1, max_receive_count + 1)), "fine": [1]}
    assert elapsed < max_receive_count  # far sooner than 25 visibility timeouts of 4 s
    (dead,) = harness.sqs.receive_message(
        QueueUrl=harness.queue_url(DEAD_LETTER_QUEUE), MessageSystemAttributeNames=["All"]
    )["Messages"]
    assert json.loads(dead["Body"])["id"] == "poison"
    assert dead["Attributes"]["MessageGroupId"] == "g1"


# ----------------------------------------------------------------------------------------------- stopping


def test_stop_lets_the_running_batch_finish_and_leaves_no_thread_or_process(harness: Harness) -> None:
    assert not poller_threads()
    harness.send("slow", "g1", sleep=0.2)
    poller = harness.poller(wait_seconds=1.0).start()
    wait_until(lambda: bool(harness.log.invocations()))
    pids = poller.pool.worker_pids
    assert pids
    assert poller_threads()

    poller.stop()
    poller.stop()  # idempotent

    assert harness.log.invocations()[0].end is not None
    assert poller.stats.deleted == 1
    assert harness.depth() == 0
    assert not poller_threads()
    with pytest.raises(RuntimeError):
        poller.start()
    poller.pool.close()
    assert not any(is_running(pid) for pid in pids)


def test_a_poller_group_serves_every_queue_source_of_the_stack(harness: Harness) -> None:
    quickbooks = QueueSource(QUEUE, harness.queue_url(QUEUE))
    xero = QueueSource("XeroQueue", harness.queue_url("XeroQueue"))
    functions = {
        # Functions without a queue source (the webhook) need no pool; the template's own consumers are replaced.
        **{name: spec for name, spec in harness.stack.functions.items() if not spec.queue_sources},
        "QuickBooksConsumer": harness.spec(quickbooks, "QuickBooksConsumer"),
        "XeroConsumer": harness.spec(xero, "XeroConsumer"),
    }
    stack = replace(harness.stack, functions=functions)
    pools = {name: harness.pool(functions[name]) for name in ("QuickBooksConsumer", "XeroConsumer")}
    with pytest.raises(ValueError, match="XeroConsumer"):
        PollerGroup(stack, {"QuickBooksConsumer": pools["QuickBooksConsumer"]})

    group = PollerGroup(stack, pools, time_scale=POLLER_SCALE, wait_seconds=FAST_POLL)
    assert [poller.source.queue_logical_id for poller in group.pollers] == [QUEUE, "XeroQueue"]
    with group:
        harness.send("to-quickbooks", "g1", queue=QUEUE)
        harness.send("to-xero", "g1", queue="XeroQueue")
        wait_until(lambda: sum(poller.stats.deleted for poller in group.pollers) == 2)
    group.stop()  # idempotent

    assert not poller_threads()
    sources = {invocation.ids[0]: invocation.records[0]["eventSourceARN"] for invocation in harness.log.invocations()}
    assert sources == {"to-quickbooks": stack.queue_arns[QUEUE], "to-xero": stack.queue_arns["XeroQueue"]}


def test_a_poller_group_reads_the_templates_event_source_mappings(harness: Harness) -> None:
    consumers = {name: spec for name, spec in harness.stack.functions.items() if spec.queue_sources}
    mappings = {name: [source.queue_logical_id for source in spec.queue_sources] for name, spec in consumers.items()}
    assert mappings == TEMPLATE_MAPPINGS, "the template's event source mappings (a sync function per ledger queue)"
    pools = {name: harness.pool(spec, workers=1000) for name, spec in consumers.items()}  # none is started

    group = PollerGroup(harness.stack, pools, time_scale=POLLER_SCALE)

    assert len(group.pollers) == sum(len(spec.queue_sources) for spec in consumers.values())
    for poller in group.pollers:
        assert poller.source in consumers[poller.function_name].queue_sources
        assert poller.concurrency == maximum_concurrency(poller.source)  # ScalingConfig, else the default
        assert poller.queue_arn == harness.stack.queue_arns[poller.source.queue_logical_id]
        assert poller.visibility_timeout == scaled_visibility_timeout(360, POLLER_SCALE)
