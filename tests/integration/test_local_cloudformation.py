"""provision() creates the template's table, key and queues in moto exactly as template.yaml declares them,
and hands the webhook function an environment that points at them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from acuity_sync.domain.names import ALL_LEDGERS, LedgerName
from acuity_sync.store.keys import TTL_ATTRIBUTE
from acuity_sync.wiring.config import queue_url_variable
from acuity_sync_toolkit.stack.cloudformation import (
    ProvisionedStack,
    StackAlreadyProvisioned,
    load_template,
    provision,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_sqs import SQSClient

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"
REGION = "us-east-1"
STACK_NAME = "cfn-test"

SOURCE_QUEUES = {
    LedgerName.QUICKBOOKS: "QuickBooksQueue",
    LedgerName.XERO: "XeroQueue",
    LedgerName.FRESHBOOKS: "FreshBooksQueue",
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


@pytest.fixture
def stack(aws: None) -> ProvisionedStack:
    return provision(TEMPLATE_PATH, stack_name=STACK_NAME, region=REGION)


@pytest.fixture
def dynamodb(aws: None) -> DynamoDBClient:
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def sqs(aws: None) -> SQSClient:
    return boto3.client("sqs", region_name=REGION)


@pytest.fixture
def kms(aws: None) -> KMSClient:
    return boto3.client("kms", region_name=REGION)


def template_table() -> dict[str, Any]:
    properties: dict[str, Any] = load_template(TEMPLATE_PATH)["Resources"]["AppTable"]["Properties"]
    return properties


def test_table_has_the_templates_keys_index_and_ttl(stack: ProvisionedStack, dynamodb: DynamoDBClient) -> None:
    assert stack.table_name == f"{STACK_NAME}-AppTable"
    table = dynamodb.describe_table(TableName=stack.table_name)["Table"]
    declared = template_table()
    assert table["KeySchema"] == declared["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(declared["AttributeDefinitions"], key=str)
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "gsi1"
    assert index["KeySchema"] == declared["GlobalSecondaryIndexes"][0]["KeySchema"]
    assert index["Projection"] == {"ProjectionType": "ALL"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = dynamodb.describe_time_to_live(TableName=stack.table_name)["TimeToLiveDescription"]
    assert (ttl["AttributeName"], ttl["TimeToLiveStatus"]) == (TTL_ATTRIBUTE, "ENABLED")


def test_table_is_encrypted_with_the_stack_key_and_backed_up(stack: ProvisionedStack, dynamodb: DynamoDBClient) -> None:
    table = dynamodb.describe_table(TableName=stack.table_name)["Table"]
    assert table["SSEDescription"]["SSEType"] == "KMS"
    assert table["SSEDescription"]["KMSMasterKeyArn"] == stack.kms_key_arn
    backups = dynamodb.describe_continuous_backups(TableName=stack.table_name)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_table_works(stack: ProvisionedStack, dynamodb: DynamoDBClient) -> None:
    item = {"pk": {"S": "TENANT#t"}, "sk": {"S": "PROFILE"}, "gsi1pk": {"S": "DUE"}, "gsi1sk": {"S": "1"}}
    dynamodb.put_item(TableName=stack.table_name, Item=item)
    found = dynamodb.query(
        TableName=stack.table_name,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :due",
        ExpressionAttributeValues={":due": {"S": "DUE"}},
    )["Items"]
    assert found == [item]


@pytest.mark.parametrize("ledger", ALL_LEDGERS)
def test_ledger_queue_is_fifo_and_redrives_to_its_fifo_dlq(
    stack: ProvisionedStack, sqs: SQSClient, ledger: LedgerName
) -> None:
    logical_id = SOURCE_QUEUES[ledger]
    url = stack.queue_urls[logical_id]
    assert url.endswith(f"/{STACK_NAME}-{logical_id}.fifo")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["FifoQueue"] == "true"
    assert attributes["ContentBasedDeduplication"] == "false"
    assert attributes["VisibilityTimeout"] == "360"
    assert attributes["KmsMasterKeyId"] == stack.kms_key_arn
    redrive = json.loads(attributes["RedrivePolicy"])
    dead_letter_id = logical_id.replace("Queue", "DeadLetterQueue")
    assert redrive["deadLetterTargetArn"] == stack.queue_arns[dead_letter_id]
    assert int(redrive["maxReceiveCount"]) == 25
    dead_letters = sqs.get_queue_attributes(QueueUrl=stack.queue_urls[dead_letter_id], AttributeNames=["All"])
    assert dead_letters["Attributes"]["FifoQueue"] == "true"
    assert dead_letters["Attributes"]["MessageRetentionPeriod"] == str(14 * 24 * 3600)


def test_queue_needs_an_explicit_deduplication_id(stack: ProvisionedStack, sqs: SQSClient) -> None:
    url = stack.queue_urls["XeroQueue"]
    with pytest.raises(ClientError):
        sqs.send_message(QueueUrl=url, MessageBody="{}", MessageGroupId="t#appointment#1")
    sqs.send_message(QueueUrl=url, MessageBody="{}", MessageGroupId="t#appointment#1", MessageDeduplicationId="r1")
    received = sqs.receive_message(QueueUrl=url, AttributeNames=["MessageGroupId"])["Messages"]
    assert [message["Attributes"]["MessageGroupId"] for message in received] == ["t#appointment#1"]


def test_key_encrypts_and_decrypts_with_a_context(stack: ProvisionedStack, kms: KMSClient) -> None:
    context = {"tenant": "t", "purpose": "acuity_api_key"}
    sealed = kms.encrypt(KeyId=stack.kms_key_arn, Plaintext=b"secret", EncryptionContext=context)["CiphertextBlob"]
    opened = kms.decrypt(CiphertextBlob=sealed, KeyId=stack.kms_key_arn, EncryptionContext=context)
    assert opened["Plaintext"] == b"secret"
    assert kms.get_key_rotation_status(KeyId=stack.kms_key_arn)["KeyRotationEnabled"] is True
    aliases = {alias["AliasName"]: alias.get("TargetKeyId") for alias in kms.list_aliases()["Aliases"]}
    assert aliases[f"alias/{STACK_NAME}"] == stack.physical_ids["AppKey"]


def test_webhook_environment_points_at_the_created_resources(stack: ProvisionedStack) -> None:
    webhook = stack.functions["WebhookFunction"]
    environment = webhook.environment
    assert environment["TABLE_NAME"] == stack.table_name
    assert environment["KMS_KEY_ID"] == stack.kms_key_arn
    for ledger in ALL_LEDGERS:
        assert environment[queue_url_variable(ledger)] == stack.queue_urls[SOURCE_QUEUES[ledger]]
    assert environment["POWERTOOLS_SERVICE_NAME"] == "webhook"
    assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "AcuitySync"
    assert environment["POWERTOOLS_LOG_LEVEL"] == "INFO"


def test_webhook_spec_runs_the_templates_code(stack: ProvisionedStack) -> None:
    webhook = stack.functions["WebhookFunction"]
    assert (webhook.code_dir / "app.py").is_file()
    assert webhook.handler == "app.lambda_handler"
    assert webhook.layer_dirs == (PROJECT_ROOT / "layers" / "core",)
    (route,) = webhook.http_routes
    assert (route.method, route.path, route.payload_format_version) == ("POST", "/webhooks/acuity/{tenant_id}", "2.0")
    assert route.throttling_burst_limit == 200
    assert route.throttling_rate_limit == 100
    assert webhook.queue_sources == ()


def test_outputs_resolve_locally_except_the_api_url(stack: ProvisionedStack) -> None:
    assert stack.outputs["TableName"] == stack.table_name
    assert stack.outputs["KmsKeyArn"] == stack.kms_key_arn
    assert stack.outputs["XeroDeadLetterQueueUrl"] == stack.queue_urls["XeroDeadLetterQueue"]
    assert stack.outputs["DashboardName"] == f"{STACK_NAME}-ops"
    assert "WebhookBaseUrl" not in stack.outputs


def test_parameters_reach_the_environment(aws: None) -> None:
    stack = provision(TEMPLATE_PATH, stack_name="debugging", parameters={"LogLevel": "DEBUG"}, region=REGION)
    assert stack.functions["WebhookFunction"].environment["POWERTOOLS_LOG_LEVEL"] == "DEBUG"


def test_provisioning_twice_is_a_clear_error_that_creates_nothing(stack: ProvisionedStack, sqs: SQSClient) -> None:
    before = sqs.list_queues()["QueueUrls"]
    with pytest.raises(StackAlreadyProvisioned, match=STACK_NAME):
        provision(TEMPLATE_PATH, stack_name=STACK_NAME, region=REGION)
    assert sqs.list_queues()["QueueUrls"] == before
