"""The local stack's moto patches (acuity_sync_toolkit.stack.moto_at_scale) keep what DynamoDB and SQS promise: a
transaction that fails changes none of the items it names, and copies no table to get there; a message older than
its queue's retention period is not handed out; SQS's clock is the epoch's seconds as before."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.utils import unix_time
from moto.dynamodb.models import dynamodb_backends
from moto.sqs import models as sqs_models
from moto.sqs.models import sqs_backends

from acuity_sync_toolkit.stack.moto_at_scale import make_moto_scale

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    make_moto_scale()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def key(name: str) -> dict[str, Any]:
    return {"pk": {"S": "P"}, "sk": {"S": name}}


def value_of(client: Any, name: str) -> str | None:
    item = client.get_item(TableName="t", Key=key(name)).get("Item")
    return None if item is None else str(item["v"]["S"])


def update(name: str, value: str, *, when: str | None = None) -> dict[str, Any]:
    values = {":v": {"S": value}} | ({":b": {"S": when}} if when else {})
    condition = {"ConditionExpression": "v = :b"} if when else {}
    update = {"TableName": "t", "Key": key(name), "UpdateExpression": "SET v = :v", "ExpressionAttributeValues": values}
    return {"Update": update | condition}


def put(name: str, value: str, *, when: str | None = None) -> dict[str, Any]:
    return {
        "Put": {"TableName": "t", "Item": {**key(name), "v": {"S": value}}}
        | ({"ConditionExpression": when} if when else {})
    }


def test_a_failed_transaction_leaves_each_item_it_names_as_it_was_and_copies_no_table(dynamodb: Any) -> None:
    dynamodb.put_item(TableName="t", Item={**key("kept"), "v": {"S": "before"}})
    dynamodb.put_item(TableName="t", Item={**key("gone"), "v": {"S": "still here"}})
    table = dynamodb_backends[ACCOUNT][REGION].tables["t"]
    absent = {"TableName": "t", "Key": key("absent"), "ConditionExpression": "attribute_exists(pk)"}
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(
            TransactItems=[
                update("kept", "after"),
                put("new", "new"),
                {"Delete": {"TableName": "t", "Key": key("gone")}},
                {"ConditionCheck": absent},
            ]
        )
    after = (value_of(dynamodb, "kept"), value_of(dynamodb, "new"), value_of(dynamodb, "gone"))
    assert after == ("before", None, "still here")
    assert dynamodb_backends[ACCOUNT][REGION].tables["t"] is table  # rolled back item by item, no copy


def test_a_transaction_that_succeeds_writes_every_item(dynamodb: Any) -> None:
    dynamodb.put_item(TableName="t", Item={**key("kept"), "v": {"S": "before"}})
    dynamodb.transact_write_items(
        TransactItems=[update("kept", "after", when="before"), put("new", "new", when="attribute_not_exists(pk)")]
    )
    assert (value_of(dynamodb, "kept"), value_of(dynamodb, "new")) == ("after", "new")


def test_a_transaction_naming_one_item_twice_is_refused_and_changes_nothing(dynamodb: Any) -> None:
    dynamodb.put_item(TableName="t", Item={**key("kept"), "v": {"S": "before"}})
    with pytest.raises(ClientError, match="ValidationException"):
        dynamodb.transact_write_items(TransactItems=[put("kept", "first"), put("kept", "second")])
    assert value_of(dynamodb, "kept") == "before"


def test_a_message_past_its_queues_retention_is_not_received_and_one_within_it_is() -> None:
    make_moto_scale()
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        received: dict[str, list[str]] = {}
        for name, age_ms in (("old.fifo", 61_000), ("new.fifo", 59_000)):
            url = sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true", "MessageRetentionPeriod": "60"})
            sqs.send_message(QueueUrl=url["QueueUrl"], MessageBody=name, MessageGroupId="g", MessageDeduplicationId="d")
            (sent,) = sqs_backends[ACCOUNT][REGION].queues[name]._messages
            sent.sent_timestamp = int(sent.sent_timestamp or 0) - age_ms  # type: ignore[assignment]  # as if sent that long ago (retention 60 s)
            answer = sqs.receive_message(QueueUrl=url["QueueUrl"], MaxNumberOfMessages=10)
            received[name] = [message["Body"] for message in answer.get("Messages", [])]
        assert received == {"old.fifo": [], "new.fifo": ["new.fifo"]}


def test_sqs_reads_the_same_clock_as_before() -> None:
    make_moto_scale()
    assert abs(sqs_models.unix_time() - unix_time()) < 1  # type: ignore[attr-defined]
    assert abs(sqs_models.unix_time_millis() / 1000 - time.time()) < 1  # type: ignore[attr-defined]


def test_queue_attributes_answer_what_is_asked_once_computed() -> None:
    make_moto_scale()
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="q.fifo", Attributes={"FifoQueue": "true", "VisibilityTimeout": "90"})
        for number in range(3):
            sqs.send_message(
                QueueUrl=url["QueueUrl"],
                MessageBody="m",
                MessageGroupId=f"g{number}",
                MessageDeduplicationId=f"{number}",
            )
        sqs.receive_message(QueueUrl=url["QueueUrl"], MaxNumberOfMessages=1)
        counts: list[Any] = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        asked = sqs.get_queue_attributes(QueueUrl=url["QueueUrl"], AttributeNames=counts)["Attributes"]
        assert asked == {"ApproximateNumberOfMessages": "2", "ApproximateNumberOfMessagesNotVisible": "1"}
        everything = sqs.get_queue_attributes(QueueUrl=url["QueueUrl"], AttributeNames=["All"])["Attributes"]
        assert everything["VisibilityTimeout"] == "90"
        assert everything["FifoQueue"] == "true"
        unknown: list[Any] = ["NoSuchThing"]  # not a name SQS knows: the stubs refuse it too
        with pytest.raises(ClientError, match="InvalidAttributeName"):
            sqs.get_queue_attributes(QueueUrl=url["QueueUrl"], AttributeNames=unknown)
